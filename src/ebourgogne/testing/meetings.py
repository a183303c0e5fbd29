"""Test helpers for commission meetings (shared by the meetings, convocations, session and minutes tests).

- `make_meeting(commission, days=10, **fields)`: a draft meeting of `commission`, `days` days from now at
  14:00 Paris time, created directly (no convocation sent).
- `add_item(meeting, kind=..., consultation=None, title=None)`: an agenda item at the end of the agenda.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django_scopes import scopes_disabled

from ebourgogne.core import clock

PARIS = ZoneInfo("Europe/Paris")


def make_meeting(commission: Any, *, days: int = 10, **fields: Any) -> Any:
    from ebourgogne.meetings.models import Meeting

    day = (clock.now() + dt.timedelta(days=days)).astimezone(PARIS).date()
    starts_at = dt.datetime.combine(day, dt.time(14, 0), tzinfo=PARIS)
    values = {
        "organisation": commission.organisation,
        "commission": commission,
        "title": f"Séance de la {commission.name}",
        "starts_at": starts_at,
        "place": "Salle du conseil, 17 boulevard de la Trémouille, Dijon",
        **fields,
    }
    with scopes_disabled():
        return Meeting.objects.create(**values)


def add_item(meeting: Any, *, kind: str = "other", consultation: Any = None, title: str | None = None) -> Any:
    from ebourgogne.meetings.models import AgendaItem

    with scopes_disabled():
        position = meeting.items.count() + 1
        return AgendaItem.objects.create(
            meeting=meeting,
            position=position,
            kind=kind,
            consultation=consultation,
            title=title or (f"Ouverture des plis : {consultation.reference}" if consultation else f"Point {position}"),
        )
