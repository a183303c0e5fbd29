"""The meeting preparation pages: who sees what (staff, members of the commission, members of another
commission of the same buyer, another buyer), the forms and their refusals, documents served as
attachments, convening with the latest date and the urgency reason.

`convocations.convene/send_update/send_cancel` are replaced by recorders (their own tests cover them)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.commissions.models import Commission, CommissionMember
from ebourgogne.core import clock
from ebourgogne.core.clock import PARIS
from ebourgogne.meetings import convocations, services
from ebourgogne.meetings.models import AgendaItem, Convocation, Meeting, MeetingDocument, MeetingState, Response
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import ConsultationFactory, UserFactory, make_member, sign_in
from ebourgogne.testing.meetings import add_item, make_meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    calls: list[str] = []
    for name in ("convene", "send_update", "send_cancel"):
        monkeypatch.setattr(convocations, name, lambda name=name, **kwargs: calls.append(name) or 2)
    return calls


@pytest.fixture
def commission(buyer, commission_member):
    with scopes_disabled():
        commission = Commission.objects.create(organisation=buyer, name="Commission d'appel d'offres")
        CommissionMember.objects.create(commission=commission, user=commission_member, is_president=True)
    return commission


@pytest.fixture
def other_member(buyer):
    """A commission member of the same buyer, sitting in another commission only."""
    user = make_member(buyer, Role.COMMISSION_MEMBER, UserFactory(full_name="Paul Jury"))
    with scopes_disabled():
        jury = Commission.objects.create(organisation=buyer, name="Jury de concours", kind="jury")
        CommissionMember.objects.create(commission=jury, user=user)
    return user


@pytest.fixture
def meeting(commission):
    meeting = make_meeting(commission, title="CAO de décembre")
    add_item(meeting, title="Examen du rapport d'analyse")
    return meeting


def url(name: str, meeting: Meeting | None = None, *extra) -> str:
    if meeting is None:
        raise ValueError
    args = (
        [meeting.organisation.slug, meeting.pk, *extra]
        if name not in ("meetings:list", "meetings:create")
        else [meeting.organisation.slug]
    )
    return reverse(name, args=args)


def _document(meeting, buyer_agent, content: bytes = b"%PDF-1.7 rapport") -> MeetingDocument:
    return services.document_add(
        acting_user=buyer_agent,
        meeting=meeting,
        uploaded=SimpleUploadedFile("rapport.pdf", content, content_type="application/pdf"),
        title="Rapport d'analyse des offres",
    )


def _paris_fields(moment: dt.datetime, prefix: str = "starts_at") -> dict[str, str]:
    local = moment.astimezone(PARIS)
    return {f"{prefix}_0": local.strftime("%Y-%m-%d"), f"{prefix}_1": local.strftime("%H:%M")}


# --- Seeing ------------------------------------------------------------------------------------------


def test_staff_see_every_meeting_members_only_those_of_their_commission(
    client, buyer, buyer_agent, commission_member, other_member, meeting
):
    with scopes_disabled():
        jury = Commission.objects.get(name="Jury de concours")
    jury_meeting = make_meeting(jury, title="Jury du concours de maîtrise d'œuvre")
    list_url = reverse("meetings:list", args=[buyer.slug])

    page = sign_in(client, buyer_agent).get(list_url).content.decode()
    assert "CAO de décembre" in page and "Jury du concours" in page and "Préparer une séance" in page

    page = sign_in(client, commission_member).get(list_url).content.decode()
    assert "CAO de décembre" in page and "Jury du concours" not in page and "Préparer une séance" not in page
    assert client.get(url("meetings:detail", meeting)).status_code == 200
    assert client.get(url("meetings:detail", jury_meeting)).status_code == 404

    sign_in(client, other_member)
    assert "CAO de décembre" not in client.get(list_url).content.decode()
    assert client.get(url("meetings:detail", meeting)).status_code == 404
    assert client.get(url("meetings:detail", jury_meeting)).status_code == 200


def test_another_buyer_gets_404_everywhere(client, outsider, other_buyer, buyer_agent, meeting):
    document = _document(meeting, buyer_agent)
    sign_in(client, outsider)
    for address in (
        reverse("meetings:list", args=[meeting.organisation.slug]),
        url("meetings:detail", meeting),
        url("meetings:document_download", meeting, document.pk),
        url("meetings:edit", meeting),
        url("meetings:convene", meeting),
    ):
        assert client.get(address).status_code == 404, address
    # Their own buyer's address with this meeting's number: not found either.
    assert client.get(reverse("meetings:detail", args=[other_buyer.slug, meeting.pk])).status_code == 404


def test_members_cannot_reach_the_preparation_pages(client, commission_member, meeting):
    sign_in(client, commission_member)
    for name in ("meetings:edit", "meetings:cancel", "meetings:convene", "meetings:agenda", "meetings:documents"):
        assert client.get(url(name, meeting)).status_code == 403, name
    assert client.get(reverse("meetings:create", args=[meeting.organisation.slug])).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, meeting):
    response = client.get(url("meetings:detail", meeting))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_absurd_identifiers_answer_404(client, buyer_agent, meeting):
    sign_in(client, buyer_agent)
    slug = meeting.organisation.slug
    assert client.get(f"/organisations/{slug}/seances/99999999999999999999999/").status_code == 404
    assert client.get(url("meetings:document_download", meeting, 2**62)).status_code == 404


# --- Documents ---------------------------------------------------------------------------------------


def test_documents_are_attachments_for_the_commission_only(
    client, buyer_agent, commission_member, other_member, meeting
):
    content = b"%PDF-1.7 rapport d'analyse des offres"
    document = _document(meeting, buyer_agent, content)
    address = url("meetings:document_download", meeting, document.pk)

    sign_in(client, commission_member)
    page = client.get(url("meetings:detail", meeting)).content.decode()
    assert "Rapport d&#x27;analyse des offres" in page and address in page
    response = client.get(address)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert (
        response["Content-Disposition"].startswith("attachment;") and "rapport.pdf" in response["Content-Disposition"]
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response["ETag"] == f'"{hashlib.sha256(content).hexdigest()}"'

    sign_in(client, other_member)
    assert client.get(address).status_code == 404

    services.document_remove(acting_user=buyer_agent, meeting=meeting, document=document.pk)
    sign_in(client, commission_member)
    assert client.get(address).status_code == 404


def test_a_substitute_convened_sees_the_meeting_and_its_documents(client, buyer, buyer_agent, meeting):
    substitute = make_member(buyer, Role.COMMISSION_MEMBER, UserFactory())
    document = _document(meeting, buyer_agent)
    sign_in(client, substitute)
    assert client.get(url("meetings:detail", meeting)).status_code == 404
    with scopes_disabled():
        Convocation.objects.create(meeting=meeting, user=substitute, voice="deliberative", seat="substitute")
    assert client.get(url("meetings:detail", meeting)).status_code == 200
    assert client.get(url("meetings:document_download", meeting, document.pk)).status_code == 200


def test_uploading_a_document_through_the_page(client, buyer_agent, meeting):
    sign_in(client, buyer_agent)
    item = AgendaItem.objects.get(meeting=meeting)
    response = client.post(
        url("meetings:document_add", meeting),
        {"file": SimpleUploadedFile("note.pdf", b"%PDF note"), "title": "Note de synthèse", "agenda_item": item.pk},
    )
    assert response.status_code == 302
    with scopes_disabled():
        document = MeetingDocument.objects.get()
    assert (document.title, document.agenda_item_id, document.sha256) == (
        "Note de synthèse",
        item.pk,
        hashlib.sha256(b"%PDF note").hexdigest(),
    )
    assert "Note de synthèse" in client.get(url("meetings:documents", meeting)).content.decode()


def test_a_document_too_large_is_refused_with_413_and_nothing_stored(client, buyer_agent, meeting, settings):
    settings.MEETINGS_DOCUMENT_MAX_BYTES = 1000
    sign_in(client, buyer_agent)
    response = client.post(url("meetings:document_add", meeting), {"file": SimpleUploadedFile("gros.pdf", b"x" * 5000)})
    assert response.status_code == 413
    assert "dépasse la taille permise" in response.content.decode()
    response = client.post(url("meetings:document_add", meeting), {"title": "sans fichier"})
    assert response.status_code == 400 and "Choisissez un fichier" in response.content.decode()
    with scopes_disabled():
        assert not MeetingDocument.objects.exists()


def test_removing_a_document_through_the_page(client, buyer_agent, meeting):
    document = _document(meeting, buyer_agent)
    sign_in(client, buyer_agent)
    assert client.post(url("meetings:document_remove", meeting, document.pk)).status_code == 302
    assert client.post(url("meetings:document_remove", meeting, document.pk)).status_code == 404
    with scopes_disabled():
        assert MeetingDocument.objects.get().removed_at is not None


# --- Creating, changing, cancelling ------------------------------------------------------------------


def test_creating_a_meeting_through_the_form(client, buyer, buyer_agent, commission):
    sign_in(client, buyer_agent)
    create = reverse("meetings:create", args=[buyer.slug])
    page = client.get(create, {"commission": commission.pk})
    assert page.status_code == 200 and f'value="{commission.pk}" selected' in page.content.decode()
    starts = dt.datetime.combine(clock.today_local() + dt.timedelta(days=15), dt.time(14, 30), tzinfo=PARIS)
    response = client.post(
        create,
        {
            "commission": commission.pk,
            "title": "CAO d'attribution",
            **_paris_fields(starts),
            "ends_time": "16:00",
            "place": "",
            "video_url": "https://visio.exemple.test/cao",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        meeting = Meeting.objects.get()
    assert response["Location"] == url("meetings:detail", meeting)
    assert meeting.starts_at == starts and meeting.ends_at == starts.replace(hour=16, minute=0)
    assert meeting.video_url == "https://visio.exemple.test/cao" and meeting.state == MeetingState.DRAFT


def test_a_meeting_in_the_past_or_without_place_is_refused_on_the_form(
    client, buyer, buyer_agent, commission, other_buyer
):
    sign_in(client, buyer_agent)
    create = reverse("meetings:create", args=[buyer.slug])
    yesterday = clock.now() - dt.timedelta(days=1)
    response = client.post(
        create, {"commission": commission.pk, "title": "CAO", **_paris_fields(yesterday), "place": "Salle"}
    )
    assert response.status_code == 400
    assert "est passée : choisissez une date à venir" in response.content.decode()
    response = client.post(
        create,
        {"commission": commission.pk, "title": "CAO", **_paris_fields(clock.now() + dt.timedelta(days=9))},
    )
    assert response.status_code == 400
    assert "Indiquez le lieu de la séance, un lien de visioconférence, ou les deux." in response.content.decode()
    with scopes_disabled():
        foreign = Commission.objects.create(organisation=other_buyer, name="CAO d'ailleurs")
    response = client.post(
        create,
        {"commission": foreign.pk, "title": "CAO", **_paris_fields(clock.now() + dt.timedelta(days=9)), "place": "x"},
    )
    assert response.status_code == 400
    assert "Choisissez une commission active de l&#x27;acheteur dans la liste." in response.content.decode()
    with scopes_disabled():
        assert not Meeting.objects.exists()


def test_editing_a_convened_meeting_sends_the_update(client, buyer_agent, meeting, sent):
    services.meeting_convene(acting_user=buyer_agent, meeting=meeting)
    sign_in(client, buyer_agent)
    page = client.get(url("meetings:edit", meeting)).content.decode()
    assert "chaque membre convoqué reçoit la modification" in page and 'name="urgency_reason"' in page
    response = client.post(
        url("meetings:edit", meeting),
        {"title": meeting.title, **_paris_fields(meeting.starts_at), "place": "Salle des mariages"},
    )
    assert response.status_code == 302
    assert sent == ["convene", "send_update"]
    with scopes_disabled():
        assert Meeting.objects.get().sequence == 1


def test_cancelling_through_the_page_needs_a_reason(client, buyer_agent, meeting, sent):
    sign_in(client, buyer_agent)
    response = client.post(url("meetings:cancel", meeting), {"reason": ""})
    assert response.status_code == 400
    response = client.post(url("meetings:cancel", meeting), {"reason": "Procédure déclarée sans suite"})
    assert response.status_code == 302
    page = client.get(url("meetings:detail", meeting)).content.decode()
    assert "Procédure déclarée sans suite" in page and "Séance annulée le" in page
    # A second cancellation: refused with a message, not a 500.
    response = client.post(url("meetings:cancel", meeting), {"reason": "encore"})
    assert response.status_code == 400 and "est annulée" in response.content.decode()
    assert sent == []


# --- Agenda ------------------------------------------------------------------------------------------


def test_agenda_pages_add_move_and_remove(client, buyer, buyer_agent, meeting):
    consultation = ConsultationFactory(organisation=buyer, published=True)
    sign_in(client, buyer_agent)
    assert consultation.reference in client.get(url("meetings:agenda", meeting)).content.decode()
    response = client.post(url("meetings:agenda_add", meeting), {"kind": "analysis", "consultation": consultation.pk})
    assert response.status_code == 302
    with scopes_disabled():
        first, second = AgendaItem.objects.filter(meeting=meeting).order_by("position")
    assert second.consultation == consultation
    assert client.post(url("meetings:agenda_move", meeting, second.pk), {"direction": "up"}).status_code == 302
    assert services.agenda_lines(meeting)[0].startswith("1. Examen du rapport d'analyse des offres : ")
    response = client.post(url("meetings:agenda_move", meeting, second.pk), {"direction": "up"})
    assert response.status_code == 400 and "déjà le premier" in response.content.decode()
    assert client.post(url("meetings:agenda_remove", meeting, first.pk)).status_code == 302
    assert client.post(url("meetings:agenda_remove", meeting, first.pk)).status_code == 404
    assert len(services.agenda_lines(meeting)) == 1


def test_an_agenda_item_for_another_buyers_consultation_is_refused_on_the_page(
    client, other_buyer, buyer_agent, meeting
):
    foreign = ConsultationFactory(organisation=other_buyer, published=True)
    sign_in(client, buyer_agent)
    response = client.post(url("meetings:agenda_add", meeting), {"kind": "analysis", "consultation": foreign.pk})
    assert response.status_code == 400
    assert "n&#x27;est pas une consultation de l&#x27;acheteur" in response.content.decode()
    assert foreign.reference not in response.content.decode()
    with scopes_disabled():
        assert AgendaItem.objects.filter(meeting=meeting).count() == 1


# --- Convening ---------------------------------------------------------------------------------------


def test_convening_in_time_shows_the_latest_date_and_no_urgency_field(client, buyer_agent, meeting, sent):
    sign_in(client, buyer_agent)
    page = client.get(url("meetings:convene", meeting)).content.decode()
    latest = services.convocation_deadline(meeting).astimezone(PARIS)
    assert f"{latest.day} " in page and "23:59:59" in page
    assert 'name="urgency_reason"' not in page and "Le délai est respecté" in page
    response = client.post(url("meetings:convene", meeting))
    assert response.status_code == 302 and sent == ["convene"]
    with scopes_disabled():
        assert Meeting.objects.get().state == MeetingState.CONVENED
    page = client.get(url("meetings:detail", meeting)).content.decode()
    assert "Convoquée" in page and "convoquée en urgence" not in page


def test_a_late_convocation_asks_for_the_urgency_reason_and_is_flagged(client, commission, buyer_agent, sent):
    meeting = make_meeting(commission, days=2)
    add_item(meeting)
    sign_in(client, buyer_agent)
    page = client.get(url("meetings:convene", meeting)).content.decode()
    assert 'name="urgency_reason"' in page and "Convoquer en urgence" in page
    response = client.post(url("meetings:convene", meeting), {"urgency_reason": " "})
    assert response.status_code == 400
    assert "indiquez le motif de l&#x27;urgence" in response.content.decode()
    assert sent == []
    response = client.post(url("meetings:convene", meeting), {"urgency_reason": "Offres valables jusqu'au 4"})
    assert response.status_code == 302 and sent == ["convene"]
    page = client.get(url("meetings:detail", meeting)).content.decode()
    assert "convoquée en urgence" in page and "Offres valables jusqu&#x27;au 4" in page
    # Convening again: a clear refusal.
    response = client.post(url("meetings:convene", meeting), {"urgency_reason": "encore"})
    assert response.status_code == 400 and "déjà convoquée" in response.content.decode()
    assert sent == ["convene"]


def test_convening_an_empty_agenda_is_refused_on_the_page(client, commission, buyer_agent, sent):
    meeting = make_meeting(commission)
    sign_in(client, buyer_agent)
    response = client.post(url("meetings:convene", meeting))
    assert response.status_code == 400 and "L&#x27;ordre du jour est vide" in response.content.decode()
    assert sent == []


def test_the_detail_page_summarises_the_convocations(client, buyer, buyer_agent, commission_member, meeting):
    with scopes_disabled():
        Meeting.objects.filter(pk=meeting.pk).update(state=MeetingState.CONVENED, convened_at=clock.now())
        now = clock.now()
        Convocation.objects.create(
            meeting=meeting,
            user=commission_member,
            voice="deliberative",
            seat="titular",
            sent_at=now,
            delivered_at=now,
            acknowledged_at=now,
            response=Response.PRESENT,
            responded_at=now,
        )
        absent = make_member(buyer, Role.COMMISSION_MEMBER, UserFactory(full_name="Zoé Absente"))
        Convocation.objects.create(meeting=meeting, user=absent, voice="deliberative", seat="titular", sent_at=now)
    sign_in(client, buyer_agent)
    page = client.get(url("meetings:detail", meeting)).content.decode()
    assert "2 membres convoqués" in page
    assert "1 sur 2 accusés de réception" in page and "1 sur 2 réponses" in page
    assert "Zoé Absente" in page and commission_member.full_name in page


# --- The commission's page ---------------------------------------------------------------------------


def test_the_commission_page_lists_its_meetings_to_those_who_may_see_them(
    client, buyer, buyer_agent, commission_member, other_member, commission, meeting
):
    address = reverse("commissions:detail", args=[buyer.slug, commission.pk])
    page = sign_in(client, buyer_agent).get(address).content.decode()
    assert 'id="seances"' in page and "CAO de décembre" in page
    assert f"{reverse('meetings:create', args=[buyer.slug])}?commission={commission.pk}" in page
    assert "5 jours francs" in page
    page = sign_in(client, commission_member).get(address).content.decode()
    assert "CAO de décembre" in page and reverse("meetings:create", args=[buyer.slug]) not in page
    # A member of another commission may read the commission's page, not its meetings.
    page = sign_in(client, other_member).get(address).content.decode()
    assert 'id="seances"' in page and "CAO de décembre" not in page


def test_the_convocation_delay_is_set_on_the_commission(client, buyer, buyer_admin, commission):
    from ebourgogne.commissions import services as commission_services

    sign_in(client, buyer_admin)
    edit = reverse("commissions:edit", args=[buyer.slug, commission.pk])
    assert 'name="convocation_delay_days" value="5"' in client.get(edit).content.decode()
    data = {"name": commission.name, "kind": "cao", "opening_threshold": "2"}
    response = client.post(edit, {**data, "convocation_delay_days": "0"})
    assert response.status_code == 400
    response = client.post(edit, {**data, "convocation_delay_days": "3"})
    assert response.status_code == 302
    commission.refresh_from_db()
    assert commission.convocation_delay_days == 3
    # Left out (API callers, older forms): unchanged.
    commission_services.commission_update(acting_user=buyer_admin, commission=commission, **data)
    commission.refresh_from_db()
    assert commission.convocation_delay_days == 3
    with pytest.raises(commission_services.InvalidData) as refused:
        commission_services.commission_update(
            acting_user=buyer_admin, commission=commission, **data, convocation_delay_days=61
        )
    assert "convocation_delay_days" in refused.value.errors


def test_an_end_before_the_start_is_shown_on_the_end_field(client, buyer, buyer_agent, commission):
    sign_in(client, buyer_agent)
    starts = dt.datetime.combine(clock.today_local() + dt.timedelta(days=15), dt.time(14, 30), tzinfo=PARIS)
    response = client.post(
        reverse("meetings:create", args=[buyer.slug]),
        {"commission": commission.pk, "title": "CAO", **_paris_fields(starts), "ends_time": "09:00", "place": "Salle"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["ends_time"] == ["La fin prévue doit suivre le début de la séance."]
