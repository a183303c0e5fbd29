"""Helpers of the minutes tests (no tests here): a commission of four titulars with a deliberative voice
(the first one president) and the public accountant (consultative voice); a meeting convened with their
answers, its session opened, attendance taken, one decision voted, then closed, all through the real
session services (meetings/session.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django_scopes import scopes_disabled

from ebourgogne.commissions.models import Commission, CommissionMember, Voice
from ebourgogne.core import clock
from ebourgogne.meetings import session
from ebourgogne.meetings.models import Convocation, Meeting, MeetingState
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import UserFactory, make_member
from ebourgogne.testing.meetings import add_item, make_meeting


@dataclass
class Closed:
    meeting: Meeting
    staff: Any
    president: Any
    second: Any
    third: Any  # remote
    fourth: Any  # absent
    accountant: Any  # consultative voice, present

    @property
    def default_signers(self) -> list[Any]:
        return [self.president, self.second, self.third]


def closed_meeting(buyer: Any, staff: Any, *, name: str = "Commission d'appel d'offres") -> Closed:
    def member(full_name: str) -> Any:
        return make_member(buyer, Role.COMMISSION_MEMBER, UserFactory(full_name=full_name))

    president = member("Paul Président")
    second = member("Marie Membre")
    third = member("Rémi Distant")
    fourth = member("Agnès Absente")
    accountant = member("Camille Comptable")
    now = clock.now()
    with scopes_disabled():
        commission = Commission.objects.create(organisation=buyer, name=name)
        seats = {
            president: CommissionMember.objects.create(commission=commission, user=president, is_president=True),
            second: CommissionMember.objects.create(commission=commission, user=second),
            third: CommissionMember.objects.create(commission=commission, user=third),
            fourth: CommissionMember.objects.create(commission=commission, user=fourth),
            accountant: CommissionMember.objects.create(
                commission=commission, user=accountant, voice=Voice.CONSULTATIVE
            ),
        }
    meeting = make_meeting(commission, starts_at=now + dt.timedelta(minutes=30), title="Séance d'attribution")
    answers = {president: "present", second: "present", third: "remote", fourth: "absent", accountant: "present"}
    with scopes_disabled():
        Meeting.objects.filter(pk=meeting.pk).update(state=MeetingState.CONVENED, convened_at=now)
        meeting.refresh_from_db()
        for user, seat in seats.items():
            Convocation.objects.create(
                meeting=meeting,
                member=seat,
                user=user,
                voice=seat.voice,
                seat=seat.seat,
                response=answers[user],
                sent_at=now,
            )
    item = add_item(meeting, kind="other", title="Choix du prestataire de nettoyage")
    session.session_open(acting_user=staff, meeting=meeting)
    session.decision_record(
        acting_user=staff,
        meeting=meeting,
        item=item,
        kind="other",
        text="La commission retient l'offre de la société Propreté Bourguignonne.",
        vote=session.Vote(votes_for=3, votes_against=0, abstentions=0),
    )
    session.session_close(acting_user=staff, meeting=meeting)
    with scopes_disabled():
        meeting.refresh_from_db()
    return Closed(meeting, staff, president, second, third, fourth, accountant)
