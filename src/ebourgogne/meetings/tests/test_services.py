"""meetings.services: creating, changing, cancelling and convening a meeting, its agenda and documents.

The convocations themselves (e-mails, iCalendar, evidence) are tested with meetings.convocations; here
`convene`, `send_update` and `send_cancel` are replaced by recorders, to check when they are called and
with what, and that nothing else happens when a rule refuses."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scopes_disabled

from ebourgogne.audit.models import AuditEvent
from ebourgogne.commissions.models import Commission, CommissionMember, Seat, Voice
from ebourgogne.core import clock
from ebourgogne.core.clock import PARIS
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.meetings import convocations, services
from ebourgogne.meetings.models import AgendaItem, Decision, Meeting, MeetingDocument, MeetingState
from ebourgogne.organisations.roles import Role
from ebourgogne.organisations.services import InvalidData
from ebourgogne.sealing.models import ConsultationKey
from ebourgogne.testing.factories import ConsultationFactory, UserFactory, make_member
from ebourgogne.testing.meetings import add_item, make_meeting
from ebourgogne.testing.sealing import give_test_key

pytestmark = pytest.mark.django_db


class Recorder:
    """Stands for the convocations functions: records each call and returns a count."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def __call__(self, name: str):
        def record(**kwargs):
            self.calls.append((name, kwargs))
            return 3

        return record

    def names(self) -> list[str]:
        return [name for name, _kwargs in self.calls]


@pytest.fixture
def sent(monkeypatch) -> Recorder:
    recorder = Recorder()
    for name in ("convene", "send_update", "send_cancel"):
        monkeypatch.setattr(convocations, name, recorder(name))
    return recorder


@pytest.fixture
def commission(buyer, commission_member):
    with scopes_disabled():
        commission = Commission.objects.create(organisation=buyer, name="Commission d'appel d'offres")
        CommissionMember.objects.create(commission=commission, user=commission_member, is_president=True)
    return commission


def _at(days: int, hour: int = 14) -> dt.datetime:
    day = (clock.now() + dt.timedelta(days=days)).astimezone(PARIS).date()
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=PARIS)


def _create(user, buyer, commission, **data):
    values = {
        "commission": commission,
        "title": "CAO du mois",
        "starts_at": _at(20),
        "place": "Salle du conseil",
        **data,
    }
    return services.meeting_create(acting_user=user, organisation=buyer, **values)


def _actions(prefix: str = "meeting.") -> list[str]:
    return list(AuditEvent.objects.filter(action__startswith=prefix).order_by("seq").values_list("action", flat=True))


def _reload(meeting: Meeting) -> Meeting:
    with scopes_disabled():
        return Meeting.objects.select_related("commission", "organisation").get(pk=meeting.pk)


# --- Creating ----------------------------------------------------------------------------------------


def test_create_a_draft_meeting_audited(buyer, buyer_agent, commission):
    meeting = _create(buyer_agent, buyer, commission, video_url="https://visio.exemple.test/cao", ends_at=_at(20, 16))
    meeting = _reload(meeting)
    assert meeting.state == MeetingState.DRAFT
    assert meeting.organisation == buyer and meeting.commission == commission
    assert meeting.sequence == 0 and meeting.created_by == buyer_agent
    event = AuditEvent.objects.get(action="meeting.created")
    assert event.data["commission"] == commission.pk
    assert event.data["place"] == "Salle du conseil"


def test_a_meeting_in_the_past_is_refused_with_a_clear_message(buyer, buyer_agent, commission):
    with pytest.raises(InvalidData) as refused:
        _create(buyer_agent, buyer, commission, starts_at=clock.now() - dt.timedelta(minutes=1))
    assert "passée" in refused.value.errors["starts_at"][0]
    with scopes_disabled():
        assert not Meeting.objects.exists()
    assert _actions() == []


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"place": "", "video_url": ""}, "place"),
        ({"video_url": "visio de la mairie"}, "video_url"),
        ({"video_url": "javascript:alert(1)"}, "video_url"),
        ({"starts_at": None}, "starts_at"),
        ({"starts_at": dt.datetime(2030, 1, 1, 14, 0)}, "starts_at"),  # noqa: DTZ001 (naive: refused)
        ({"ends_at": "__before__"}, "ends_at"),
    ],
)
def test_bad_meeting_data_is_refused_per_field(buyer, buyer_agent, commission, data, field):
    if data.get("ends_at") == "__before__":
        data = {"ends_at": _at(20, 13)}
    with pytest.raises(InvalidData) as refused:
        _create(buyer_agent, buyer, commission, **data)
    assert field in refused.value.errors
    with scopes_disabled():
        assert not Meeting.objects.exists()


def test_a_commission_of_another_buyer_or_inactive_is_refused(buyer, other_buyer, buyer_agent, commission):
    with scopes_disabled():
        foreign = Commission.objects.create(organisation=other_buyer, name="CAO d'Auxerre")
        inactive = Commission.objects.create(organisation=buyer, name="Ancienne CAO", is_active=False)
    for chosen in (foreign, foreign.pk, inactive, "douze", None):
        with pytest.raises(InvalidData) as refused:
            _create(buyer_agent, buyer, chosen, starts_at=clock.now() - dt.timedelta(days=1))
        assert set(refused.value.errors) == {"commission", "starts_at"}  # every problem at once
    with scopes_disabled():
        assert not Meeting.objects.exists()


def test_only_the_buyers_staff_prepare_meetings(buyer, commission, commission_member, outsider, company_admin, company):
    with pytest.raises(PermissionRefused):
        _create(commission_member, buyer, commission)
    with pytest.raises(NotFound):
        _create(outsider, buyer, commission)
    with pytest.raises(NotFound):
        _create(company_admin, company, commission)


# --- Changing ----------------------------------------------------------------------------------------


def test_changing_a_draft_sends_nothing(buyer, buyer_agent, commission, sent):
    meeting = _create(buyer_agent, buyer, commission)
    services.meeting_update(
        acting_user=buyer_agent, meeting=meeting, title="CAO de mars", starts_at=_at(21), place="Salle B"
    )
    meeting = _reload(meeting)
    assert (meeting.title, meeting.place, meeting.sequence) == ("CAO de mars", "Salle B", 0)
    assert sent.calls == []
    event = AuditEvent.objects.get(action="meeting.updated")
    assert set(event.data["changes"]) == {"title", "starts_at", "place"}


def _convened(buyer_agent, commission, *, days: int = 20) -> Meeting:
    meeting = make_meeting(commission, days=days)
    add_item(meeting)
    return services.meeting_convene(acting_user=buyer_agent, meeting=meeting)


def test_changing_a_convened_meeting_raises_the_sequence_and_sends_an_update(buyer_agent, commission, sent):
    meeting = _convened(buyer_agent, commission)
    before_place = meeting.place
    services.meeting_update(
        acting_user=buyer_agent,
        meeting=meeting,
        title=meeting.title,
        starts_at=meeting.starts_at + dt.timedelta(hours=1),
        place="Salle des fêtes",
        video_url="https://visio.exemple.test/cao",
    )
    meeting = _reload(meeting)
    assert meeting.sequence == 1
    assert sent.names() == ["convene", "send_update"]
    _name, call = sent.calls[1]
    assert call["meeting"].pk == meeting.pk and call["meeting"].sequence == 1
    assert set(call["changes"]) == {"starts_at", "place", "video_url"}
    assert call["changes"]["place"] == [before_place, "Salle des fêtes"]
    event = AuditEvent.objects.get(action="meeting.updated")
    assert event.data["sequence"] == 1 and event.data["updates_sent"] == 3


def test_saving_a_convened_meeting_unchanged_sends_nothing(buyer_agent, commission, sent):
    meeting = _convened(buyer_agent, commission)
    services.meeting_update(
        acting_user=buyer_agent, meeting=meeting, title=meeting.title, starts_at=meeting.starts_at, place=meeting.place
    )
    assert sent.names() == ["convene"]
    assert _reload(meeting).sequence == 0
    assert not AuditEvent.objects.filter(action="meeting.updated").exists()


def test_moving_a_convened_meeting_inside_the_delay_needs_an_urgency_reason(buyer_agent, commission, sent):
    meeting = _convened(buyer_agent, commission)
    soon = _at(2)
    with pytest.raises(InvalidData) as refused:
        services.meeting_update(
            acting_user=buyer_agent, meeting=meeting, title=meeting.title, starts_at=soon, place=meeting.place
        )
    assert "urgence" in refused.value.errors["urgency_reason"][0]
    assert _reload(meeting).starts_at != soon and sent.names() == ["convene"]
    services.meeting_update(
        acting_user=buyer_agent,
        meeting=meeting,
        title=meeting.title,
        starts_at=soon,
        place=meeting.place,
        urgency_reason="Attribution avant la fin de validité des offres",
    )
    meeting = _reload(meeting)
    assert meeting.starts_at == soon and meeting.is_urgent
    assert meeting.urgency_reason == "Attribution avant la fin de validité des offres"
    assert sent.names() == ["convene", "send_update"]
    assert AuditEvent.objects.get(action="meeting.updated").data["is_urgent"] is True


def test_a_meeting_cannot_be_moved_into_the_past(buyer_agent, commission, sent):
    meeting = make_meeting(commission)
    with pytest.raises(InvalidData) as refused:
        services.meeting_update(
            acting_user=buyer_agent,
            meeting=meeting,
            title=meeting.title,
            starts_at=clock.now() - dt.timedelta(hours=2),
            place=meeting.place,
        )
    assert "starts_at" in refused.value.errors


# --- Cancelling --------------------------------------------------------------------------------------


def test_cancelling_needs_a_reason_and_a_draft_sends_nothing(buyer_agent, commission, sent):
    meeting = make_meeting(commission)
    with pytest.raises(InvalidData) as refused:
        services.meeting_cancel(acting_user=buyer_agent, meeting=meeting, reason="   ")
    assert "reason" in refused.value.errors
    assert _reload(meeting).state == MeetingState.DRAFT
    services.meeting_cancel(acting_user=buyer_agent, meeting=meeting, reason="Consultation déclarée sans suite")
    meeting = _reload(meeting)
    assert meeting.state == MeetingState.CANCELLED and meeting.cancelled_at is not None
    assert meeting.cancel_reason == "Consultation déclarée sans suite" and meeting.sequence == 0
    assert sent.calls == []
    assert AuditEvent.objects.get(action="meeting.cancelled").data["was_convened"] is False


def test_cancelling_a_convened_meeting_sends_the_cancellation(buyer_agent, commission, sent):
    meeting = _convened(buyer_agent, commission)
    services.meeting_cancel(acting_user=buyer_agent, meeting=meeting, reason="Salle indisponible")
    meeting = _reload(meeting)
    assert meeting.sequence == 1 and meeting.state == MeetingState.CANCELLED
    assert sent.names() == ["convene", "send_cancel"]
    assert sent.calls[1][1]["meeting"].state == MeetingState.CANCELLED
    # Nothing changes a cancelled meeting any more.
    with pytest.raises(DomainError) as refused:
        services.meeting_update(
            acting_user=buyer_agent, meeting=meeting, title="x", starts_at=meeting.starts_at, place="y"
        )
    assert refused.value.code == "cancelled"
    with pytest.raises(DomainError):
        services.meeting_cancel(acting_user=buyer_agent, meeting=meeting, reason="encore")
    with pytest.raises(DomainError):
        services.agenda_item_add(acting_user=buyer_agent, meeting=meeting, kind="other", title="Point")
    assert sent.names() == ["convene", "send_cancel"]


# --- Agenda ------------------------------------------------------------------------------------------


def test_an_agenda_item_for_a_consultation_of_another_buyer_is_refused(buyer, other_buyer, buyer_agent, commission):
    meeting = make_meeting(commission)
    foreign = ConsultationFactory(organisation=other_buyer, published=True)
    for chosen in (foreign, foreign.pk, str(foreign.pk), 999_999_999):
        with pytest.raises(InvalidData) as refused:
            services.agenda_item_add(acting_user=buyer_agent, meeting=meeting, kind="analysis", consultation=chosen)
        assert "n'est pas une consultation de l'acheteur" in refused.value.errors["consultation"][0]
    with scopes_disabled():
        assert not AgendaItem.objects.exists()
    assert _actions("meeting.agenda") == []


def test_items_about_a_consultation_need_one_and_get_a_title(buyer, buyer_agent, commission):
    meeting = make_meeting(commission)
    consultation = ConsultationFactory(organisation=buyer, published=True)
    with pytest.raises(InvalidData) as refused:
        services.agenda_item_add(acting_user=buyer_agent, meeting=meeting, kind="award")
    assert "consultation" in refused.value.errors
    with pytest.raises(InvalidData) as refused:
        services.agenda_item_add(acting_user=buyer_agent, meeting=meeting, kind="other")
    assert "title" in refused.value.errors
    with pytest.raises(InvalidData):
        services.agenda_item_add(acting_user=buyer_agent, meeting=meeting, kind="vote", title="Point")
    item = services.agenda_item_add(acting_user=buyer_agent, meeting=meeting, kind="award", consultation=consultation)
    assert item.title.startswith("Choix de l'attributaire : " + consultation.reference)
    assert item.position == 1 and item.consultation == consultation
    other = services.agenda_item_add(acting_user=buyer_agent, meeting=meeting, kind="other", title="Questions diverses")
    assert other.position == 2
    assert _actions("meeting.agenda") == ["meeting.agenda.added", "meeting.agenda.added"]


def test_an_opening_needs_a_sealed_bid_key_held_by_this_commission(buyer, buyer_agent, commission):
    meeting = make_meeting(commission)
    without_key = ConsultationFactory(organisation=buyer, published=True)
    with pytest.raises(InvalidData) as refused:
        services.agenda_item_add(acting_user=buyer_agent, meeting=meeting, kind="opening", consultation=without_key)
    assert "clé d'ouverture" in refused.value.errors["consultation"][0]

    with scopes_disabled():
        other_commission = Commission.objects.create(organisation=buyer, name="Jury de concours")
    elsewhere = ConsultationFactory(organisation=buyer, published=True)
    give_test_key(elsewhere)
    with scopes_disabled():
        ConsultationKey.objects.filter(consultation=elsewhere).update(commission=other_commission)
    with pytest.raises(InvalidData) as refused:
        services.agenda_item_add(acting_user=buyer_agent, meeting=meeting, kind="opening", consultation=elsewhere)
    assert "Jury de concours" in refused.value.errors["consultation"][0]

    sealed = ConsultationFactory(organisation=buyer, published=True)
    give_test_key(sealed)
    with scopes_disabled():
        ConsultationKey.objects.filter(consultation=sealed).update(commission=commission)
    item = services.agenda_item_add(acting_user=buyer_agent, meeting=meeting, kind="opening", consultation=sealed)
    assert item.kind == "opening"
    with pytest.raises(InvalidData) as refused:
        services.agenda_item_add(acting_user=buyer_agent, meeting=meeting, kind="opening", consultation=sealed)
    assert "déjà" in refused.value.errors["consultation"][0]


def test_moving_and_removing_items_keeps_positions_one_to_n(buyer_agent, commission):
    meeting = make_meeting(commission)
    first, second, third = (add_item(meeting, title=f"Point {n}") for n in (1, 2, 3))
    services.agenda_item_move(acting_user=buyer_agent, meeting=meeting, item=third, direction="up")
    assert services.agenda_lines(meeting) == ["1. Point 1", "2. Point 3", "3. Point 2"]
    with pytest.raises(DomainError) as refused:
        services.agenda_item_move(acting_user=buyer_agent, meeting=meeting, item=first.pk, direction="up")
    assert refused.value.code == "edge"
    with pytest.raises(DomainError):
        services.agenda_item_move(acting_user=buyer_agent, meeting=meeting, item=first.pk, direction="sideways")
    services.agenda_item_remove(acting_user=buyer_agent, meeting=meeting, item=first.pk)
    assert services.agenda_lines(meeting) == ["1. Point 3", "2. Point 2"]
    with pytest.raises(NotFound):
        services.agenda_item_remove(acting_user=buyer_agent, meeting=meeting, item=first.pk)
    other_meeting = make_meeting(commission, days=12)
    with pytest.raises(NotFound):  # an item of another meeting
        services.agenda_item_remove(acting_user=buyer_agent, meeting=other_meeting, item=second.pk)
    assert _actions("meeting.agenda") == ["meeting.agenda.moved", "meeting.agenda.removed"]


def test_an_item_with_a_decision_stays_on_the_agenda(buyer_agent, commission):
    meeting = make_meeting(commission)
    item = add_item(meeting)
    with scopes_disabled():
        Decision.objects.create(agenda_item=item, text="Offre retenue", recorded_at=clock.now())
    with pytest.raises(DomainError) as refused:
        services.agenda_item_remove(acting_user=buyer_agent, meeting=meeting, item=item)
    assert refused.value.code == "decided"
    with scopes_disabled():
        assert AgendaItem.objects.filter(pk=item.pk).exists()


def test_agenda_changes_of_a_convened_meeting_send_an_update(buyer_agent, commission, sent):
    meeting = _convened(buyer_agent, commission)
    services.agenda_item_add(acting_user=buyer_agent, meeting=meeting, kind="other", title="Questions diverses")
    _name, call = sent.calls[-1]
    assert sent.names() == ["convene", "send_update"]
    assert call["changes"] == {"agenda": [["1. Point 1"], ["1. Point 1", "2. Questions diverses"]]}
    items = list(AgendaItem.objects.filter(meeting=meeting).order_by("position"))
    services.agenda_item_move(acting_user=buyer_agent, meeting=meeting, item=items[1], direction="up")
    services.agenda_item_remove(acting_user=buyer_agent, meeting=meeting, item=items[0])
    assert sent.names() == ["convene", "send_update", "send_update", "send_update"]
    assert _reload(meeting).sequence == 3


# --- Documents ---------------------------------------------------------------------------------------


def test_a_document_is_stored_under_a_random_name_with_its_hash(buyer_agent, commission):
    meeting = make_meeting(commission)
    item = add_item(meeting)
    content = b"%PDF-1.7 rapport d'analyse"
    document = services.document_add(
        acting_user=buyer_agent,
        meeting=meeting,
        uploaded=SimpleUploadedFile("Rapport d'analyse.pdf", content, content_type="application/pdf"),
        agenda_item=item.pk,
    )
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.size == len(content) and document.content_type == "application/pdf"
    assert document.title == "Rapport d'analyse.pdf" and document.agenda_item == item
    assert "Rapport" not in document.storage_name and document.storage_name.startswith(f"meetings/{meeting.pk}/")
    with default_storage.open(document.storage_name, "rb") as stored:
        assert stored.read() == content
    event = AuditEvent.objects.get(action="meeting.document.added")
    assert event.data["sha256"] == document.sha256


def test_a_document_too_large_or_empty_is_refused_and_nothing_stored(buyer_agent, commission, settings):
    settings.MEETINGS_DOCUMENT_MAX_BYTES = 10
    meeting = make_meeting(commission)
    with pytest.raises(DomainError) as refused:
        services.document_add(
            acting_user=buyer_agent, meeting=meeting, uploaded=SimpleUploadedFile("gros.pdf", b"x" * 11)
        )
    assert refused.value.code == "too_large" and "gros.pdf" in refused.value.message
    with pytest.raises(InvalidData) as refused:
        services.document_add(acting_user=buyer_agent, meeting=meeting, uploaded=SimpleUploadedFile("vide.pdf", b""))
    assert "vide" in refused.value.errors["file"][0]
    with pytest.raises(InvalidData):
        services.document_add(acting_user=buyer_agent, meeting=meeting, uploaded=None)
    with scopes_disabled():
        assert not MeetingDocument.objects.exists()


def test_removing_a_document_hides_it_and_keeps_the_file(buyer_agent, commission):
    meeting = make_meeting(commission)
    document = services.document_add(
        acting_user=buyer_agent, meeting=meeting, uploaded=SimpleUploadedFile("note.txt", b"Note aux membres")
    )
    services.document_remove(acting_user=buyer_agent, meeting=meeting, document=document.pk)
    with scopes_disabled():
        document.refresh_from_db()
    assert document.removed_at is not None
    assert default_storage.exists(document.storage_name)
    with pytest.raises(NotFound):
        services.document_remove(acting_user=buyer_agent, meeting=meeting, document=document.pk)
    assert _actions("meeting.document") == ["meeting.document.added", "meeting.document.removed"]


# --- Convening ---------------------------------------------------------------------------------------


def test_convening_in_time_calls_the_convocations_once(buyer_agent, commission, sent):
    meeting = make_meeting(commission, days=20)
    add_item(meeting)
    services.meeting_convene(acting_user=buyer_agent, meeting=meeting, urgency_reason="ignorée : dans les temps")
    meeting = _reload(meeting)
    assert meeting.state == MeetingState.CONVENED and meeting.convened_at is not None
    assert not meeting.is_urgent and meeting.urgency_reason == ""
    assert sent.names() == ["convene"] and sent.calls[0][1]["meeting"].pk == meeting.pk
    event = AuditEvent.objects.get(action="meeting.convened")
    assert event.data["is_urgent"] is False and event.data["delay_days"] == 5 and event.data["convocations"] == 3
    with pytest.raises(DomainError) as refused:
        services.meeting_convene(acting_user=buyer_agent, meeting=meeting)
    assert refused.value.code == "already_convened"
    assert sent.names() == ["convene"]


def test_a_late_convocation_needs_an_urgency_reason_and_is_flagged(buyer_agent, commission, sent):
    meeting = make_meeting(commission, days=3)
    add_item(meeting)
    with pytest.raises(InvalidData) as refused:
        services.meeting_convene(acting_user=buyer_agent, meeting=meeting)
    assert "jours francs" in refused.value.errors["urgency_reason"][0]
    assert _reload(meeting).state == MeetingState.DRAFT and sent.calls == []
    services.meeting_convene(acting_user=buyer_agent, meeting=meeting, urgency_reason="Offres valables 10 jours")
    meeting = _reload(meeting)
    assert meeting.is_urgent and meeting.urgency_reason == "Offres valables 10 jours"
    event = AuditEvent.objects.get(action="meeting.convened")
    assert event.data["is_urgent"] is True and event.data["urgency_reason"] == "Offres valables 10 jours"


def test_the_commissions_own_delay_is_used(buyer_agent, commission, sent):
    with scopes_disabled():
        Commission.objects.filter(pk=commission.pk).update(convocation_delay_days=15)
    commission.refresh_from_db()
    meeting = make_meeting(commission, days=10)  # in time for five clear days, not for fifteen
    add_item(meeting)
    with pytest.raises(InvalidData):
        services.meeting_convene(acting_user=buyer_agent, meeting=meeting)


def test_convening_without_agenda_or_members_or_in_the_past_is_refused(buyer, buyer_agent, commission, sent):
    meeting = make_meeting(commission, days=20)
    with pytest.raises(DomainError) as refused:
        services.meeting_convene(acting_user=buyer_agent, meeting=meeting)
    assert refused.value.code == "no_agenda"

    with scopes_disabled():
        empty = Commission.objects.create(organisation=buyer, name="Commission MAPA")
        gone = make_member(buyer, Role.COMMISSION_MEMBER, UserFactory())
        CommissionMember.objects.create(
            commission=empty, user=gone, voice=Voice.DELIBERATIVE, seat=Seat.TITULAR, mandate_end=dt.date(2020, 1, 1)
        )
    lonely = make_meeting(empty, days=20)
    add_item(lonely)
    with pytest.raises(DomainError) as refused:
        services.meeting_convene(acting_user=buyer_agent, meeting=lonely)
    assert refused.value.code == "no_member" and "Commission MAPA" in refused.value.message

    past = make_meeting(commission, days=20)
    add_item(past)
    with scopes_disabled():
        Meeting.objects.filter(pk=past.pk).update(starts_at=clock.now() - dt.timedelta(hours=1))
    with pytest.raises(DomainError) as refused:
        services.meeting_convene(acting_user=buyer_agent, meeting=_reload(past), urgency_reason="trop tard")
    assert refused.value.code == "past"
    assert sent.calls == []
    assert not AuditEvent.objects.filter(action="meeting.convened").exists()


def _meeting_on(commission, starts_at: dt.datetime) -> Meeting:
    with scopes_disabled():
        meeting = Meeting.objects.create(
            organisation=commission.organisation,
            commission=commission,
            title="CAO de printemps",
            starts_at=starts_at,
            place="Salle du conseil",
        )
    add_item(meeting)
    return meeting


def test_convening_at_the_last_second_before_the_spring_change_is_in_time(buyer_agent, commission, sent):
    # Meeting Tuesday 31 March 2026 at 09:00 (the 29th lasts 23 hours): latest Wednesday 25, 23:59:59.
    with time_machine.travel(dt.datetime(2026, 3, 20, 10, 0, tzinfo=PARIS), tick=False):
        meeting = _meeting_on(commission, dt.datetime(2026, 3, 31, 9, 0, tzinfo=PARIS))
    with time_machine.travel(dt.datetime(2026, 3, 25, 23, 59, 59, tzinfo=PARIS), tick=False):
        services.meeting_convene(acting_user=buyer_agent, meeting=meeting)
    assert not _reload(meeting).is_urgent
    assert AuditEvent.objects.get(action="meeting.convened").data["latest_send"] == "2026-03-25T23:59:59+01:00"


def test_convening_one_second_after_midnight_paris_in_autumn_is_late(buyer_agent, commission, sent):
    # Meeting Tuesday 27 October 2026 (the 25th lasts 25 hours): latest Wednesday 21, 23:59:59 (UTC+2).
    # At 00:00:01 on Thursday 22 in Paris it is still Wednesday 21 in UTC: the Paris day decides.
    with time_machine.travel(dt.datetime(2026, 10, 10, 10, 0, tzinfo=PARIS), tick=False):
        meeting = _meeting_on(commission, dt.datetime(2026, 10, 27, 9, 0, tzinfo=PARIS))
    with time_machine.travel(dt.datetime(2026, 10, 22, 0, 0, 1, tzinfo=PARIS), tick=False):
        assert clock.now().date() == dt.date(2026, 10, 21)
        with pytest.raises(InvalidData):
            services.meeting_convene(acting_user=buyer_agent, meeting=meeting)
        services.meeting_convene(acting_user=buyer_agent, meeting=meeting, urgency_reason="Urgence impérieuse")
    assert _reload(meeting).is_urgent


def test_members_cannot_convene_nor_change_meetings(buyer_agent, commission, commission_member, outsider, sent):
    meeting = make_meeting(commission)
    add_item(meeting)
    with pytest.raises(PermissionRefused):
        services.meeting_convene(acting_user=commission_member, meeting=meeting)
    with pytest.raises(NotFound):
        services.meeting_convene(acting_user=outsider, meeting=meeting)
    with pytest.raises(PermissionRefused):
        services.meeting_cancel(acting_user=commission_member, meeting=meeting, reason="non")
    with pytest.raises(PermissionRefused):
        services.document_add(
            acting_user=commission_member, meeting=meeting, uploaded=SimpleUploadedFile("a.txt", b"a")
        )
    assert sent.calls == [] and _reload(meeting).state == MeetingState.DRAFT


def test_with_the_real_convocations_convene_update_and_cancel_leave_their_evidence(buyer, buyer_agent, commission):
    """No recorder: the convocations' own functions run (the mails wait for the commit, never given here)."""
    from ebourgogne.meetings.models import Convocation, ConvocationEvent

    meeting = make_meeting(commission, days=20)
    add_item(meeting)
    services.meeting_convene(acting_user=buyer_agent, meeting=meeting)
    services.meeting_update(
        acting_user=buyer_agent, meeting=meeting, title=meeting.title, starts_at=meeting.starts_at, place="Salle B"
    )
    services.agenda_item_add(acting_user=buyer_agent, meeting=meeting, kind="other", title="Questions diverses")
    services.meeting_cancel(acting_user=buyer_agent, meeting=meeting, reason="Report")
    with scopes_disabled():
        convocation = Convocation.objects.get(meeting=meeting)
        kinds = list(
            ConvocationEvent.objects.filter(convocation=convocation).order_by("at", "id").values_list("kind", flat=True)
        )
    assert kinds == ["sent", "update_sent", "update_sent", "cancel_sent"]
    assert convocation.sent_sequence == 3 == _reload(meeting).sequence
