"""The session's rules through its services: opening (time, who), attendance pre-filled then recorded,
the quorum recomputed when a member leaves, votes checked against the voters, no quorum → a new meeting
that sits without quorum, the opening of bids with 2 of 3 real shares, closing, and the record."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django_scopes import scopes_disabled

from ebourgogne.audit.models import AuditEvent
from ebourgogne.consultations.models import Consultation
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.meetings import session
from ebourgogne.meetings.models import AgendaItem, Decision, Meeting, MeetingState
from ebourgogne.meetings.session import AttendanceChange, Vote
from ebourgogne.meetings.tests.test_session_helpers import attendance_of, convened_meeting, make_panel
from ebourgogne.organisations.services import InvalidData
from ebourgogne.sealing.models import KeyState
from ebourgogne.tenders.models import Opening, OpeningState
from ebourgogne.tenders.tests.opening_helpers import deposit, run_jobs
from ebourgogne.testing.factories import CompanyFactory
from ebourgogne.testing.meetings import add_item
from ebourgogne.testing.sealing import sealed_consultation

pytestmark = pytest.mark.django_db


@pytest.fixture
def panel(buyer):
    return make_panel(buyer)


def _open(panel, buyer_agent, **responses):
    meeting = convened_meeting(panel, responses=responses.pop("responses", None))
    return session.session_open(acting_user=buyer_agent, meeting=meeting)


def _all_present(panel):
    return {panel.president: "present", panel.second: "present", panel.third: "present"}


# --- Opening the session ---------------------------------------------------------------------------


def test_the_session_opens_from_one_hour_before_and_prefills_the_attendance(panel, buyer_agent):
    meeting = convened_meeting(
        panel,
        starts_in=90,
        responses={
            panel.president: "present",
            panel.second: "remote",
            panel.third: "represented",
            panel.substitute: "present",
        },
    )
    with pytest.raises(DomainError) as early:
        session.session_open(acting_user=buyer_agent, meeting=meeting)
    assert early.value.code == "too_early"
    assert "heure de Paris" in str(early.value)
    with time_machine.travel(clock.now() + dt.timedelta(minutes=31), tick=False):
        meeting = session.session_open(acting_user=buyer_agent, meeting=meeting)
    assert meeting.state == MeetingState.IN_SESSION
    rows = attendance_of(meeting)
    assert rows[panel.president.pk].status == "present"
    assert rows[panel.second.pk].status == "remote"
    assert rows[panel.third.pk].status == "represented"
    assert rows[panel.third.pk].represented_by_id == rows[panel.substitute.pk].pk
    assert rows[panel.accountant.pk].status == "absent"  # no answer: absent until recorded
    assert rows[panel.accountant.pk].voice == "consultative"
    assert meeting.quorum_reached is True
    with pytest.raises(DomainError) as twice:
        session.session_open(acting_user=buyer_agent, meeting=meeting)
    assert twice.value.code == "already_open"


def test_only_a_convened_meeting_opens(panel, buyer_agent):
    meeting = convened_meeting(panel)
    with scopes_disabled():
        Meeting.objects.filter(pk=meeting.pk).update(state=MeetingState.DRAFT)
    meeting.refresh_from_db()
    with pytest.raises(DomainError) as refused:
        session.session_open(acting_user=buyer_agent, meeting=meeting)
    assert refused.value.code == "not_convened"
    assert not attendance_of(meeting)


def test_the_president_runs_the_session_other_members_do_not(panel, commission_member):
    meeting = convened_meeting(panel)
    with pytest.raises(PermissionRefused):
        session.session_open(acting_user=panel.second, meeting=meeting)
    with pytest.raises(NotFound):  # a member of the buyer but not of this commission
        session.session_open(acting_user=commission_member, meeting=meeting)
    assert session.session_open(acting_user=panel.president, meeting=meeting).state == MeetingState.IN_SESSION


def test_another_buyer_cannot_reach_the_meeting(panel, buyer, other_buyer, outsider):
    meeting = convened_meeting(panel)
    with pytest.raises(NotFound):
        session.meeting_for(user=outsider, organisation=other_buyer, pk=meeting.pk)
    with pytest.raises(NotFound):
        session.meeting_for(user=outsider, organisation=buyer, pk=meeting.pk)
    with pytest.raises(NotFound):
        session.session_open(acting_user=outsider, meeting=meeting)


# --- Attendance and quorum --------------------------------------------------------------------------


def test_a_substitute_sits_only_for_their_absent_titular(panel, buyer_agent):
    meeting = _open(panel, buyer_agent, responses={panel.president: "present"})
    with pytest.raises(InvalidData) as wrong:  # the substitute of the third, not of the second
        session.attendance_record(
            acting_user=buyer_agent,
            meeting=meeting,
            changes=[
                AttendanceChange(panel.second.pk, "represented", panel.substitute.pk),
                AttendanceChange(panel.substitute.pk, "present"),
            ],
        )
    assert "n'est pas le suppléant" in str(wrong.value)
    with pytest.raises(InvalidData) as absent:  # the substitute is not there
        session.attendance_record(
            acting_user=buyer_agent,
            meeting=meeting,
            changes=[AttendanceChange(panel.third.pk, "represented", panel.substitute.pk)],
        )
    assert "doit être présent" in str(absent.value)
    assert attendance_of(meeting)[panel.third.pk].status == "absent"  # nothing saved
    found = session.attendance_record(
        acting_user=buyer_agent,
        meeting=meeting,
        changes=[
            AttendanceChange(panel.third.pk, "represented", panel.substitute.pk),
            AttendanceChange(panel.substitute.pk, "present"),
        ],
    )
    assert found.reached is True
    assert found.counted == (panel.president.full_name, f"Sophie Suppléante ({panel.third.full_name})")
    with pytest.raises(InvalidData):  # a consultative voice is not represented
        session.attendance_record(
            acting_user=buyer_agent,
            meeting=meeting,
            changes=[AttendanceChange(panel.accountant.pk, "represented", panel.substitute.pk)],
        )


def test_a_member_leaving_mid_session_is_not_counted_afterwards(panel, buyer_agent):
    meeting = _open(panel, buyer_agent, responses={panel.president: "present", panel.second: "present"})
    item = add_item(meeting, kind="other", title="Avenant n° 1 au marché de voirie")
    before = session.decision_record(
        acting_user=buyer_agent,
        meeting=meeting,
        item=item,
        kind="other",
        text="Avis favorable à l'avenant.",
        vote=Vote(2, 0, 0),
    )
    assert before.data["voters"] == [panel.president.full_name, panel.second.full_name]
    found = session.attendance_record(
        acting_user=buyer_agent, meeting=meeting, changes=[AttendanceChange(panel.second.pk, "left")]
    )
    assert found.reached is False
    row = attendance_of(meeting)[panel.second.pk]
    assert row.status == "left"
    assert row.left_at is not None
    meeting.refresh_from_db()
    assert meeting.quorum_reached is False
    with pytest.raises(DomainError) as refused:
        session.decision_record(
            acting_user=buyer_agent, meeting=meeting, item=item, kind="other", text="Second avis.", vote=Vote(1, 0, 0)
        )
    assert refused.value.code == "no_quorum"
    assert "1 membre(s) à voix délibérative présent(s) sur 3, il en faut 2" in str(refused.value)
    # The third titular arrives: the quorum is back, and the one who left is not counted.
    session.attendance_record(
        acting_user=buyer_agent, meeting=meeting, changes=[AttendanceChange(panel.third.pk, "present")]
    )
    with pytest.raises(InvalidData) as too_many:
        session.decision_record(
            acting_user=buyer_agent, meeting=meeting, item=item, kind="other", text="Second avis.", vote=Vote(2, 0, 1)
        )
    assert "plus de voix que de votants" in str(too_many.value)
    after = session.decision_record(
        acting_user=buyer_agent, meeting=meeting, item=item, kind="other", text="Second avis.", vote=Vote(1, 0, 1)
    )
    assert after.data["voters"] == [panel.president.full_name, panel.third.full_name]
    with scopes_disabled():
        assert Decision.objects.filter(agenda_item=item).count() == 2
        assert AuditEvent.objects.filter(action="meeting.attendance.recorded").count() == 2


def test_a_decision_needs_a_text_and_a_known_kind(panel, buyer_agent):
    meeting = _open(panel, buyer_agent, responses=_all_present(panel))
    item = add_item(meeting)
    with pytest.raises(InvalidData) as refused:
        session.decision_record(acting_user=buyer_agent, meeting=meeting, item=item, kind="nope", text="  ")
    assert set(refused.value.errors) == {"text", "kind"}
    with pytest.raises(InvalidData):
        session.decision_record(
            acting_user=buyer_agent, meeting=meeting, item=item, kind="other", text="x", vote=Vote(-1, 0, 0)
        )
    with pytest.raises(InvalidData):  # companies must be among the opened bids (none here)
        session.decision_record(
            acting_user=buyer_agent, meeting=meeting, item=item, kind="winner", text="x", companies=[1]
        )


# --- Without quorum -----------------------------------------------------------------------------------


def test_without_quorum_a_new_meeting_is_prepared_and_sits_without_quorum(panel, buyer_agent, buyer):
    meeting = _open(panel, buyer_agent, responses={panel.president: "present"})
    decided = add_item(meeting, title="Point examiné")
    pending = add_item(meeting, kind="award", title="Choix de l'attributaire du lot 2")
    assert meeting.quorum_reached is False
    with pytest.raises(DomainError) as refused:
        session.decision_record(acting_user=buyer_agent, meeting=meeting, item=decided, kind="other", text="x")
    assert refused.value.code == "no_quorum"
    with pytest.raises(DomainError):  # a session without quorum is not closed as if it had deliberated
        session.session_close(acting_user=buyer_agent, meeting=meeting)
    with pytest.raises(InvalidData):
        session.session_close_without_quorum(
            acting_user=buyer_agent, meeting=meeting, new_starts_at=clock.now() - dt.timedelta(hours=1)
        )
    new_start = clock.now() + dt.timedelta(days=6)
    follower = session.session_close_without_quorum(acting_user=buyer_agent, meeting=meeting, new_starts_at=new_start)
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.CLOSED
    assert meeting.quorum_reached is False
    assert follower.follows_id == meeting.pk
    assert follower.state == MeetingState.DRAFT
    with scopes_disabled():
        copied = list(AgendaItem.objects.filter(meeting=follower).order_by("position"))
    assert [(item.kind, item.title) for item in copied] == [
        (decided.kind, decided.title),
        (pending.kind, pending.title),
    ]
    record = session.session_record(meeting)
    assert record["meeting"]["followed_by"]["id"] == follower.pk
    assert record["quorum"]["reached"] is False

    # The new meeting, once convened, sits with the president alone.
    with scopes_disabled():
        Meeting.objects.filter(pk=follower.pk).update(state=MeetingState.CONVENED, starts_at=clock.now())
        follower.refresh_from_db()
    follower = session.session_open(acting_user=buyer_agent, meeting=follower)
    assert session.quorum_required(follower) is False
    found = session.attendance_record(
        acting_user=buyer_agent, meeting=follower, changes=[session.AttendanceChange(panel.president.pk, "present")]
    )
    assert (found.reached, found.can_deliberate) == (False, True)
    with scopes_disabled():
        copied = list(AgendaItem.objects.filter(meeting=follower).order_by("position"))
    decision = session.decision_record(
        acting_user=buyer_agent,
        meeting=follower,
        item=copied[1],
        kind="winner",
        text="La commission propose l'attributaire.",
        vote=Vote(1, 0, 0),
    )
    assert decision.vote_held is True
    follower = session.session_close(acting_user=buyer_agent, meeting=follower)
    record = session.session_record(follower)
    assert record["meeting"]["follows"]["id"] == meeting.pk
    assert record["quorum"]["required"] is False
    assert record["quorum"]["can_deliberate"] is True
    assert "quel que soit le nombre" in record["quorum"]["rule"]


def test_with_quorum_the_session_is_not_closed_as_without_quorum(panel, buyer_agent):
    meeting = _open(panel, buyer_agent, responses=_all_present(panel))
    with pytest.raises(DomainError) as refused:
        session.session_close_without_quorum(
            acting_user=buyer_agent, meeting=meeting, new_starts_at=clock.now() + dt.timedelta(days=6)
        )
    assert refused.value.code == "quorum_reached"


# --- Opening of bids in session ---------------------------------------------------------------------


@pytest.fixture
def sealed(buyer, panel, buyer_agent):
    return sealed_consultation(buyer, acting_user=buyer_agent, commission=panel.opening, reference="2026-CAO-07")


def _past_deadline(consultation):
    with scopes_disabled():
        Consultation.objects.filter(pk=consultation.pk).update(bids_deadline=clock.now() - dt.timedelta(minutes=5))
        consultation.refresh_from_db()


def test_the_bids_are_opened_in_session_with_two_of_three_real_shares(
    panel, sealed, buyer_agent, django_capture_on_commit_callbacks
):
    consultation = sealed.consultation
    company = CompanyFactory(name="Maçonnerie de l'Auxois")
    other = CompanyFactory(name="Charpentes du Morvan")
    deposit(consultation, company, [("offre.pdf.age", b"%PDF offre Auxois")])
    deposit(consultation, other, [("offre.pdf.age", b"%PDF offre Morvan")])
    meeting = _open(panel, buyer_agent, responses=_all_present(panel) | {panel.third: "remote"})
    item = add_item(meeting, kind="opening", consultation=consultation)

    with pytest.raises(DomainError) as early:  # before the deadline: tenders' rule
        session.open_bids(
            acting_user=buyer_agent,
            meeting=meeting,
            item=item,
            passphrases={user.pk: panel.passphrase(user) for user in (panel.president, panel.second)},
        )
    assert early.value.code == "too_early"
    _past_deadline(consultation)

    # Only members present in the room: the third one is remote.
    assert [user.pk for user in session.contributors(meeting, item)] == [panel.president.pk, panel.second.pk]
    with pytest.raises(DomainError) as remote:
        session.open_bids(
            acting_user=buyer_agent,
            meeting=meeting,
            item=item,
            passphrases={
                panel.president.pk: panel.passphrase(panel.president),
                panel.third.pk: panel.passphrase(panel.third),
            },
        )
    assert "présents dans la salle" in str(remote.value)

    # A passphrase typed wrong: a clear message, nothing stored, nothing lost.
    with pytest.raises(DomainError) as wrong:
        session.open_bids(
            acting_user=buyer_agent,
            meeting=meeting,
            item=item,
            passphrases={panel.president.pk: panel.passphrase(panel.president), panel.second.pk: "pas la bonne phrase"},
        )
    assert panel.second.full_name in str(wrong.value)
    with scopes_disabled():
        assert not Opening.objects.filter(consultation=consultation).exists()
        item.refresh_from_db()
        assert item.opening_id is None
        assert sealed.key.__class__.objects.get(pk=sealed.key.pk).state != KeyState.REBUILT

    with django_capture_on_commit_callbacks(execute=True):
        opening = session.open_bids(
            acting_user=buyer_agent,
            meeting=meeting,
            item=item,
            passphrases={
                panel.president.pk: panel.passphrase(panel.president),
                panel.second.pk: panel.passphrase(panel.second),
            },
        )
    assert opening.state == OpeningState.RUNNING
    with scopes_disabled():
        item.refresh_from_db()
    assert item.opening_id == opening.pk
    with pytest.raises(DomainError) as busy:
        session.session_close(acting_user=buyer_agent, meeting=meeting)
    assert busy.value.code == "busy"
    opening = run_jobs(opening)
    assert opening.state == OpeningState.DONE, opening.error

    with scopes_disabled():
        item = AgendaItem.objects.select_related("opening", "consultation").get(pk=item.pk)
    companies = session.opened_companies(item)
    assert sorted(entry["name"] for entry in companies) == sorted([company.name, other.name])
    winner = next(entry for entry in companies if entry["name"] == company.name)
    decision = session.decision_record(
        acting_user=buyer_agent,
        meeting=meeting,
        item=item,
        kind="admitted",
        text="Les deux candidatures sont admises.",
        companies=[entry["bid"] for entry in companies],
        vote=Vote(3, 0, 0),
    )
    assert len(decision.data["companies"]) == 2
    session.decision_record(
        acting_user=buyer_agent,
        meeting=meeting,
        item=item,
        kind="winner",
        text="Attributaire proposé.",
        companies=[winner["bid"]],
    )
    meeting = session.session_close(acting_user=buyer_agent, meeting=meeting)
    assert meeting.state == MeetingState.CLOSED

    record = session.session_record(meeting)
    json.dumps(record)  # plain data
    opened = record["items"][0]["opening"]
    assert opened["state"] == "done"
    assert sorted(opened["members"]) == sorted([panel.president.full_name, panel.second.full_name])
    assert {bid["company"] for bid in opened["opened"]} == {company.name, other.name}
    assert len(opened["register"]) == 2
    decisions = record["items"][0]["decisions"]
    assert decisions[0]["vote"] == {"for": 3, "against": 0, "abstentions": 0}
    assert decisions[1]["vote"] is None
    assert decisions[1]["companies"][0]["name"] == company.name
    assert {annex["kind"] for annex in record["annexes"]} == {"opening_report", "deposit_register"}
    assert record["president"]["user"] == panel.president.pk
    by_user = {line["user"]: line for line in record["attendance"]}
    assert by_user[panel.third.pk]["status"] == "remote"
    assert by_user[panel.president.pk]["is_president"] is True
    assert record["quorum"]["members"] == 3

    # Closed: nothing changes any more.
    with pytest.raises(DomainError) as closed:
        session.decision_record(acting_user=buyer_agent, meeting=meeting, item=item, kind="other", text="Trop tard.")
    assert closed.value.code == "closed"
    with pytest.raises(DomainError):
        session.attendance_record(
            acting_user=buyer_agent, meeting=meeting, changes=[AttendanceChange(panel.second.pk, "left")]
        )
    with scopes_disabled():
        actions = set(AuditEvent.objects.filter(action__startswith="meeting.").values_list("action", flat=True))
    assert {
        "meeting.session.opened",
        "meeting.opening.started",
        "meeting.decision.recorded",
        "meeting.session.closed",
    } <= actions


def test_no_opening_without_quorum(panel, sealed, buyer_agent):
    _past_deadline(sealed.consultation)
    meeting = _open(panel, buyer_agent, responses={panel.president: "present"})
    item = add_item(meeting, kind="opening", consultation=sealed.consultation)
    with pytest.raises(DomainError) as refused:
        session.open_bids(
            acting_user=buyer_agent,
            meeting=meeting,
            item=item,
            passphrases={panel.president.pk: panel.passphrase(panel.president)},
        )
    assert refused.value.code == "no_quorum"


def test_an_item_of_another_kind_is_not_opened(panel, sealed, buyer_agent):
    meeting = _open(panel, buyer_agent, responses=_all_present(panel))
    item = add_item(meeting, kind="award", consultation=sealed.consultation)
    with pytest.raises(DomainError):
        session.open_bids(acting_user=buyer_agent, meeting=meeting, item=item, passphrases={})


def test_a_substitute_leaving_takes_the_represented_titular_out_of_the_count(panel, buyer_agent):
    meeting = _open(
        panel,
        buyer_agent,
        responses={panel.president: "present", panel.third: "represented", panel.substitute: "present"},
    )
    assert session.quorum_of(meeting).present == 2
    found = session.attendance_record(
        acting_user=buyer_agent, meeting=meeting, changes=[AttendanceChange(panel.substitute.pk, "left")]
    )
    assert (found.present, found.reached) == (1, False)
    # The titular's line still says "represented": recording someone else is not refused because of it.
    found = session.attendance_record(
        acting_user=buyer_agent, meeting=meeting, changes=[AttendanceChange(panel.second.pk, "remote")]
    )
    assert found.reached is True
    assert found.counted == (panel.president.full_name, panel.second.full_name)


def test_a_substitute_not_coming_leaves_the_titular_absent(panel, buyer_agent):
    meeting = _open(panel, buyer_agent, responses={panel.third: "represented", panel.substitute: "absent"})
    rows = attendance_of(meeting)
    assert rows[panel.third.pk].status == "absent"
    assert rows[panel.third.pk].represented_by_id is None


def test_bids_already_opened_outside_the_session_are_not_opened_again(panel, sealed, buyer_agent):
    from ebourgogne.tenders import opening as tenders_opening

    deposit(sealed.consultation, CompanyFactory(name="Toitures de Bourgogne"), [("offre.pdf.age", b"%PDF")])
    _past_deadline(sealed.consultation)
    run_jobs(
        tenders_opening.opening_start(
            acting_user=buyer_agent,
            consultation=sealed.consultation,
            contributions=panel.opening.contributions(2),
        )
    )
    meeting = _open(panel, buyer_agent, responses=_all_present(panel))
    item = add_item(meeting, kind="opening", consultation=sealed.consultation)
    with pytest.raises(DomainError) as refused:
        session.open_bids(
            acting_user=buyer_agent,
            meeting=meeting,
            item=item,
            passphrases={user.pk: panel.passphrase(user) for user in (panel.president, panel.second)},
        )
    assert "hors de cette séance" in str(refused.value)
    assert [entry["name"] for entry in session.opened_companies(item)] == ["Toitures de Bourgogne"]
