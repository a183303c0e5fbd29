"""The session's state-changing operations, for the authorisation matrix
(ebourgogne/core/tests/test_authorisation_matrix.py reads every tests/authorisation_*.py).

The views are guarded by `meetings.view` (so that the commission's president, a commission member, can run
the session); `meetings.session` then allows the buyer's staff (meetings.manage) and the president only.
"member with the role" is therefore played by a buyer agent."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.consultations.models import Consultation
from ebourgogne.core import clock
from ebourgogne.meetings.models import Attendance, Decision, Meeting
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.authorisation import Operation, World

AGENT = (Role.BUYER_AGENT,)


def _panel(world: World):
    if "session.panel" not in world.extra:
        from ebourgogne.meetings.tests.test_session_helpers import make_panel

        world.extra["session.panel"] = make_panel(world.buyer)
    return world.extra["session.panel"]


def _meeting(world: World, name: str, *, opened: bool, quorum: bool = True) -> Meeting:
    key = f"session.meeting.{name}"
    if key not in world.extra:
        from ebourgogne.meetings import session
        from ebourgogne.meetings.tests.test_session_helpers import convened_meeting
        from ebourgogne.testing.meetings import add_item

        panel = _panel(world)
        present = {panel.president: "present"}
        if quorum:
            present[panel.second] = "present"
        meeting = convened_meeting(panel, responses=present)
        if opened:
            meeting = session.session_open(acting_user=world.buyer_admin, meeting=meeting)
        world.extra[f"{key}.item"] = add_item(meeting, title="Point unique")
        world.extra[key] = meeting
    return world.extra[key]


def _state(world: World, name: str, **kwargs):
    meeting = _meeting(world, name, **kwargs)
    return Meeting.objects.filter(pk=meeting.pk).values_list("state", "session_opened_at", "session_closed_at").get()


def _sealed_item(world: World):
    if "session.sealed" not in world.extra:
        from ebourgogne.tenders.tests.opening_helpers import deposit
        from ebourgogne.testing.meetings import add_item
        from ebourgogne.testing.sealing import sealed_consultation

        panel = _panel(world)
        sealed = sealed_consultation(world.buyer, acting_user=world.buyer_admin, commission=panel.opening)
        deposit(sealed.consultation, world.company, [("offre.pdf.age", b"%PDF")])
        with scopes_disabled():
            Consultation.objects.filter(pk=sealed.consultation.pk).update(
                bids_deadline=clock.now() - dt.timedelta(minutes=5)
            )
        meeting = _meeting(world, "opening", opened=True)
        world.extra["session.sealed"] = add_item(meeting, kind="opening", consultation=sealed.consultation)
    return world.extra["session.sealed"]


def _url(name: str, meeting: Meeting, *args) -> str:
    return reverse(f"meetings:{name}", args=[meeting.organisation.slug, meeting.pk, *args])


def _attendance_data(world: World) -> dict[str, str]:
    meeting = _meeting(world, "attendance", opened=True)
    with scopes_disabled():
        row = Attendance.objects.get(meeting=meeting, user=_panel(world).second)
    return {f"status-{row.pk}": "left"}


def _passphrases(world: World) -> dict[str, str]:
    panel = _panel(world)
    _sealed_item(world)
    return {f"passphrase-{user.pk}": panel.passphrase(user) for user in (panel.president, panel.second)}


def _openings(world: World) -> list:
    from ebourgogne.tenders.models import Opening

    item = _sealed_item(world)
    return list(Opening.objects.filter(consultation_id=item.consultation_id).values_list("pk", "state"))


OPERATIONS = [
    Operation(
        name="meetings.session_open",
        target="meetings:session_open",
        method="POST",
        permission="meetings.view",
        member_roles=AGENT,
        url=lambda w: _url("session_open", _meeting(w, "open", opened=False)),
        snapshot=lambda w: _state(w, "open", opened=False),
    ),
    Operation(
        name="meetings.session_attendance",
        target="meetings:session_attendance",
        method="POST",
        permission="meetings.view",
        member_roles=AGENT,
        url=lambda w: _url("session_attendance", _meeting(w, "attendance", opened=True)),
        data=_attendance_data,
        snapshot=lambda w: sorted(
            Attendance.objects.filter(meeting=_meeting(w, "attendance", opened=True)).values_list("user_id", "status")
        ),
    ),
    Operation(
        name="meetings.session_decision",
        target="meetings:session_decision",
        method="POST",
        permission="meetings.view",
        member_roles=AGENT,
        url=lambda w: _url(
            "session_decision",
            _meeting(w, "decision", opened=True),
            w.extra["session.meeting.decision.item"].pk,
        ),
        data=lambda w: {"kind": "other", "text": "Avis favorable.", "vote_held": "on", "votes_for": "2"},
        snapshot=lambda w: (_meeting(w, "decision", opened=True), Decision.objects.count())[1],
    ),
    Operation(
        name="meetings.session_open_bids",
        target="meetings:session_open_bids",
        method="POST",
        permission="meetings.view",
        member_roles=AGENT,
        url=lambda w: _url("session_open_bids", _meeting(w, "opening", opened=True), _sealed_item(w).pk),
        data=_passphrases,
        snapshot=_openings,
    ),
    Operation(
        name="meetings.session_close",
        target="meetings:session_close",
        method="POST",
        permission="meetings.view",
        member_roles=AGENT,
        url=lambda w: _url("session_close", _meeting(w, "close", opened=True)),
        snapshot=lambda w: _state(w, "close", opened=True),
    ),
    Operation(
        name="meetings.session_close_without_quorum",
        target="meetings:session_close_without_quorum",
        method="POST",
        permission="meetings.view",
        member_roles=AGENT,
        url=lambda w: _url("session_close_without_quorum", _meeting(w, "noquorum", opened=True, quorum=False)),
        data=lambda w: {"starts_at": (clock.now() + dt.timedelta(days=8)).strftime("%Y-%m-%dT10:00")},
        snapshot=lambda w: (
            _state(w, "noquorum", opened=True, quorum=False),
            Meeting.objects.filter(follows=_meeting(w, "noquorum", opened=True, quorum=False)).count(),
        ),
    ),
]
