"""Shared by the convocation tests: a commission with every kind of member, convening, running the queue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.tasks import task_backends
from django_scopes import scopes_disabled

from ebourgogne.commissions.models import CommissionMember, Seat, Voice
from ebourgogne.core import clock
from ebourgogne.core.worker import make_worker
from ebourgogne.meetings import convocations
from ebourgogne.meetings.models import Meeting, MeetingState
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import UserFactory, make_member
from ebourgogne.testing.meetings import add_item, make_meeting
from ebourgogne.testing.sealing import opening_commission


@dataclass
class Seated:
    commission: Any
    titulars: list[Any]  # users, deliberative titulars (the first is the president)
    accountant: Any  # consultative voice, English-speaking
    substitute: Any  # substitute of titulars[0]
    former: Any  # titular whose mandate ended
    titular_members: list[Any]


def seated_commission(buyer: Any) -> Seated:
    opening = opening_commission(buyer, members=3)
    commission = opening.commission
    with scopes_disabled():
        members = list(CommissionMember.objects.filter(commission=commission).order_by("id"))
        CommissionMember.objects.filter(pk=members[0].pk).update(is_president=True)
        accountant = make_member(
            buyer,
            Role.COMMISSION_MEMBER,
            UserFactory(full_name="Jordan Accountant", email="jordan@example.test", language="en"),
        )
        CommissionMember.objects.create(commission=commission, user=accountant, voice=Voice.CONSULTATIVE)
        substitute = make_member(buyer, Role.COMMISSION_MEMBER, UserFactory(full_name="Sophie Suppléante"))
        CommissionMember.objects.create(
            commission=commission, user=substitute, seat=Seat.SUBSTITUTE, substitute_for=members[0]
        )
        former = make_member(buyer, Role.COMMISSION_MEMBER, UserFactory(full_name="Fernand Ancien"))
        CommissionMember.objects.create(
            commission=commission, user=former, mandate_end=clock.today_local() - dt.timedelta(days=1)
        )
    return Seated(
        commission=commission,
        titulars=[member.user for member in members],
        accountant=accountant,
        substitute=substitute,
        former=former,
        titular_members=members,
    )


def convened_meeting(seated: Seated, *, days: int = 10, **fields: Any) -> Meeting:
    meeting = make_meeting(seated.commission, days=days, **fields)
    add_item(meeting, kind="opening", title="Ouverture des plis : travaux de voirie 2027")
    add_item(meeting, kind="other", title="Questions diverses")
    convene(meeting)
    return meeting


def convene(meeting: Meeting) -> int:
    """What `meetings.services.meeting_convene` does around `convocations.convene` (state, then convene)."""
    with scopes_disabled(), transaction.atomic():
        Meeting.objects.filter(pk=meeting.pk).update(state=MeetingState.CONVENED, convened_at=clock.now())
        meeting.refresh_from_db()
        return convocations.convene(meeting=meeting, acting_user=None)


def run_queue() -> None:
    """What `ebourgogne worker` does: run every ready task."""
    make_worker(backend=task_backends["default"], batch=True).run()


def by_address(messages: list[Any]) -> dict[str, Any]:
    return {message["To"]: message for message in messages}


def calendar_of(message: Any) -> tuple[str, str]:
    """(.ics text, Content-Type) of the invitation attached to `message`."""
    for part in message.iter_attachments():
        if part.get_content_type() == "text/calendar":
            return part.get_content(), part["Content-Type"]
    raise AssertionError("no text/calendar attachment")
