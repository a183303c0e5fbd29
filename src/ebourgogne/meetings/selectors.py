"""Reads about a buyer's meetings, always for one caller within one buyer.

Who sees what (on top of the `meetings.view` permission checked by `core.access`):

- the buyer's staff holding `meetings.manage` (administrators and agents) see every meeting of their
  buyer, with its documents;
- a commission member (or anyone else holding `meetings.view` only) sees the meetings of the commissions
  where they sit (a `CommissionMember` row) and those they were convened to (a substitute called in for a
  titular), with their documents; a member of another commission of the same buyer does not;
- nobody from another buyer: the organisation is resolved from the URL and every query filters on it.

A meeting or document the caller may not see is answered exactly like one that does not exist (None here,
404 in the views).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django_scopes import scopes_disabled

from ebourgogne.commissions.models import Commission, CommissionMember
from ebourgogne.core import clock
from ebourgogne.core.clock import PARIS
from ebourgogne.meetings.models import (
    AgendaItem,
    Convocation,
    Meeting,
    MeetingDocument,
    MeetingState,
    Response,
)
from ebourgogne.organisations.models import Organisation
from ebourgogne.organisations.roles import roles_grant
from ebourgogne.organisations.selectors import roles_of

MANAGE = "meetings.manage"
VIEW = "meetings.view"


def can_manage(user: Any, organisation: Organisation) -> bool:
    if not getattr(user, "is_authenticated", False) or not organisation.is_active:
        return False
    return roles_grant(roles_of(user=user, organisation=organisation), MANAGE)


def visible_meetings(*, user: Any, organisation: Organisation) -> QuerySet[Meeting]:
    """The meetings of `organisation` that `user` may see (an empty queryset for anybody else)."""
    with scopes_disabled():
        meetings = Meeting.objects.filter(organisation=organisation)
        if not getattr(user, "is_authenticated", False) or not organisation.is_active:
            return meetings.none()
        roles = roles_of(user=user, organisation=organisation)
        if roles_grant(roles, MANAGE):
            return meetings
        if not roles_grant(roles, VIEW):
            return meetings.none()
        seated = CommissionMember.objects.filter(user=user, commission__organisation=organisation).values(
            "commission_id"
        )
        convened = Convocation.objects.filter(user=user, cancelled_at__isnull=True).values("meeting_id")
        return meetings.filter(Q(commission_id__in=seated) | Q(pk__in=convened))


def _pk(value: Any) -> int | None:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    # Larger than any identifier the databases hold: not found (and no OverflowError on SQLite).
    return pk if 0 < pk < 2**63 else None


def meeting_for(*, user: Any, organisation: Organisation, pk: Any) -> Meeting | None:
    found = _pk(pk)
    if found is None:
        return None
    with scopes_disabled():
        return (
            visible_meetings(user=user, organisation=organisation)
            .select_related("organisation", "commission", "follows", "created_by")
            .filter(pk=found)
            .first()
        )


@dataclass
class MeetingLists:
    upcoming: list[Meeting]  # soonest first
    past: list[Meeting]  # latest first (closed, cancelled, or whose time has passed)


def meeting_lists(*, user: Any, organisation: Organisation, commission: Commission | None = None) -> MeetingLists:
    """The caller's meetings of the buyer (of one commission if given), upcoming and past."""
    now = clock.now()
    with scopes_disabled():
        meetings = visible_meetings(user=user, organisation=organisation).select_related("commission")
        if commission is not None:
            meetings = meetings.filter(commission=commission)
        rows = list(meetings.order_by("starts_at", "id"))
    # Upcoming: not closed nor cancelled, and today or later (Paris day), or in session now.
    today = dt.datetime.combine(now.astimezone(PARIS).date(), dt.time(0, 0), tzinfo=PARIS)
    finished = {MeetingState.CLOSED, MeetingState.CANCELLED}
    upcoming = [
        m for m in rows if m.state == MeetingState.IN_SESSION or (m.state not in finished and m.starts_at >= today)
    ]
    shown = {m.pk for m in upcoming}
    past = [m for m in reversed(rows) if m.pk not in shown]
    return MeetingLists(upcoming=upcoming, past=past)


def agenda_of(meeting: Meeting) -> list[AgendaItem]:
    with scopes_disabled():
        return list(
            AgendaItem.objects.filter(meeting=meeting)
            .select_related("consultation")
            .prefetch_related("documents")
            .order_by("position", "id")
        )


def documents_of(meeting: Meeting) -> list[MeetingDocument]:
    """The documents members see (removed ones left out), oldest first."""
    with scopes_disabled():
        return list(
            MeetingDocument.objects.filter(meeting=meeting, removed_at__isnull=True)
            .select_related("agenda_item", "uploaded_by")
            .order_by("uploaded_at", "id")
        )


def document_for(*, user: Any, organisation: Organisation, meeting_pk: Any, document_pk: Any) -> MeetingDocument | None:
    """A document of a meeting the caller may see, not removed; None otherwise."""
    meeting = meeting_for(user=user, organisation=organisation, pk=meeting_pk)
    found = _pk(document_pk)
    if meeting is None or found is None:
        return None
    with scopes_disabled():
        document = MeetingDocument.objects.filter(meeting=meeting, pk=found, removed_at__isnull=True).first()
    if document is not None:
        document.meeting = meeting
    return document


@dataclass
class ConvocationSummary:
    """Who was convened to a meeting and where each stands, from the Convocation rows."""

    rows: list[Any] = field(default_factory=list)  # convocations.ConvocationRow, or Convocation
    convened: int = 0
    sent: int = 0
    delivered: int = 0
    acknowledged: int = 0
    answered: int = 0
    failed: int = 0
    by_response: dict[str, int] = field(default_factory=dict)


def convocation_summary(meeting: Meeting) -> ConvocationSummary:
    """The convocations of `meeting` (active first, then those cancelled) and the counts the page shows."""
    from ebourgogne.meetings import convocations

    rows_of = getattr(convocations, "convocation_rows", None)
    if rows_of is not None:
        rows = rows_of(meeting)
        active = [row.convocation for row in rows if row.convocation.cancelled_at is None]
        failed = sum(1 for row in rows if row.convocation.cancelled_at is None and getattr(row, "failed", False))
    else:  # pragma: no cover - before the convocations' rows existed
        with scopes_disabled():
            rows = list(
                Convocation.objects.filter(meeting=meeting).select_related("user").order_by("cancelled_at", "id")
            )
        active = [row for row in rows if row.cancelled_at is None]
        failed = 0
    summary = ConvocationSummary(rows=rows, convened=len(active), failed=failed)
    for convocation in active:
        summary.sent += convocation.sent_at is not None
        summary.delivered += convocation.delivered_at is not None
        summary.acknowledged += convocation.acknowledged_at is not None
        if convocation.response != Response.PENDING:
            summary.answered += 1
            summary.by_response[convocation.response] = summary.by_response.get(convocation.response, 0) + 1
    return summary


def commissions_for_meetings(*, organisation: Organisation) -> list[Commission]:
    """The buyer's active commissions (to choose the meeting's one)."""
    with scopes_disabled():
        return list(Commission.objects.filter(organisation=organisation, is_active=True).order_by("name", "id"))


def consultations_for_agenda(*, organisation: Organisation) -> list[Any]:
    """The buyer's consultations, most recent first, to pick for an agenda item."""
    from ebourgogne.consultations.models import Consultation

    with scopes_disabled():
        return list(
            Consultation.objects.filter(organisation=organisation)
            .order_by("-created_at", "-id")
            .only("pk", "reference", "title", "state")[:500]
        )
