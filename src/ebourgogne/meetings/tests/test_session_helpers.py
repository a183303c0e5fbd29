"""Helpers of the session tests (no tests here): a commission with a president, three titulars holding
real opening keys, a substitute linked to the third titular and a consultative member; a meeting convened
(its convocations written straight to the database with the members' answers: the convocation work has
its own tests) and opened."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django_scopes import scopes_disabled

from ebourgogne.commissions.models import CommissionMember, Seat, Voice
from ebourgogne.core import clock
from ebourgogne.meetings.models import Convocation, Meeting, MeetingState
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import UserFactory, make_member
from ebourgogne.testing.meetings import make_meeting
from ebourgogne.testing.sealing import OpeningCommission, opening_commission


@dataclass
class Panel:
    opening: OpeningCommission
    president: Any
    second: Any
    third: Any
    substitute: Any
    accountant: Any

    @property
    def commission(self) -> Any:
        return self.opening.commission

    def passphrase(self, user: Any) -> str:
        return self.opening.passphrase(user)


def make_panel(buyer: Any) -> Panel:
    """3 titulars with deliberative voice and opening keys (k = 2), the first one president; a substitute
    of the third; the public accountant with a consultative voice."""
    keyed = opening_commission(buyer, members=3, threshold=2)
    president, second, third = keyed.members
    substitute = make_member(buyer, Role.COMMISSION_MEMBER, UserFactory(full_name="Sophie Suppléante"))
    accountant = make_member(buyer, Role.COMMISSION_MEMBER, UserFactory(full_name="Camille Comptable"))
    with scopes_disabled():
        CommissionMember.objects.filter(commission=keyed.commission, user=president).update(is_president=True)
        titular = CommissionMember.objects.get(commission=keyed.commission, user=third)
        CommissionMember.objects.create(
            commission=keyed.commission, user=substitute, seat=Seat.SUBSTITUTE, substitute_for=titular
        )
        CommissionMember.objects.create(commission=keyed.commission, user=accountant, voice=Voice.CONSULTATIVE)
    return Panel(keyed, president, second, third, substitute, accountant)


def convened_meeting(
    panel: Panel, *, responses: dict[Any, str] | None = None, starts_in: int = 30, **fields
) -> Meeting:
    """A meeting of the panel's commission starting in `starts_in` minutes, convened: one convocation per
    member with their answer (`responses`: user → answer; pending otherwise). A titular answering
    "represented" gets the substitute convened in their place."""
    responses = responses or {}
    now = clock.now()
    meeting = make_meeting(panel.commission, starts_at=now + dt.timedelta(minutes=starts_in), **fields)
    with scopes_disabled():
        Meeting.objects.filter(pk=meeting.pk).update(state=MeetingState.CONVENED, convened_at=now)
        meeting.refresh_from_db()
        convocations = {}
        for member in CommissionMember.objects.filter(commission=panel.commission).select_related("user"):
            if member.seat == Seat.SUBSTITUTE and member.user not in responses:
                continue
            convocations[member.user_id] = Convocation.objects.create(
                meeting=meeting,
                member=member,
                user=member.user,
                voice=member.voice,
                seat=member.seat,
                response=responses.get(member.user, "pending"),
                sent_at=now,
            )
        titular_of_substitute = panel.third.pk
        if panel.substitute.pk in convocations and titular_of_substitute in convocations:
            substitute = convocations[panel.substitute.pk]
            substitute.replaces = convocations[titular_of_substitute]
            substitute.save(update_fields=["replaces"])
    return meeting


def attendance_of(meeting: Meeting) -> dict[int, Any]:
    with scopes_disabled():
        return {row.user_id: row for row in meeting.attendances.all()}
