"""Buyer and public pages of consultations: access, forms, bad input, actions."""

from __future__ import annotations

import datetime as dt
import html

import pytest
import time_machine
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.audit.models import AuditEvent
from ebourgogne.consultations import services
from ebourgogne.consultations.models import Consultation, ConsultationCpv, Lot, State
from ebourgogne.testing.factories import ConsultationFactory, sign_in
from ebourgogne.testing.sealing import buyer_opening_keys  # noqa: F401 - publication needs an opening commission

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("buyer_opening_keys")]

UTC = dt.UTC
NOW = dt.datetime(2026, 5, 4, 8, 0, tzinfo=UTC)  # 10:00 in Paris


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _url(name, *args):
    return reverse(f"consultations_buyer:{name}", args=args)


def _form(**overrides):
    data = {
        "reference": "2026-TX-100",
        "title": "Rénovation de la médiathèque",
        "object": "Travaux de rénovation intérieure.",
        "contract_type": "works",
        "procedure": "open",
        "main_cpv": "45000000",
        "additional_cpv": "45261000 45261210-9",
        "department": "21",
        "commune": "Beaune",
        "insee_code": "21054",
        "estimated_value": "150000,50",
        "duration_months": "8",
        "contact_name": "Service marchés",
        "contact_email": "marches@beaune.test",
        "questions_deadline_0": "2026-05-20",
        "questions_deadline_1": "12:00",
        "bids_deadline_0": "2026-06-03",
        "bids_deadline_1": "17:00",
        "lots-TOTAL_FORMS": "2",
        "lots-INITIAL_FORMS": "0",
        "lots-MIN_NUM_FORMS": "0",
        "lots-MAX_NUM_FORMS": "500",
        "lots-0-title": "Peinture",
        "lots-0-estimated_value": "50000",
        "lots-0-main_cpv": "45442100",
        "lots-1-title": "",
        "save": "1",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _text(response):
    return html.unescape(response.content.decode())


def _count():
    with scopes_disabled():
        return Consultation.objects.count()


# --- Access ------------------------------------------------------------------------------------------


def test_list_and_create_pages_for_buyer_staff(client, frozen, buyer, buyer_agent):
    sign_in(client, buyer_agent)
    ConsultationFactory(organisation=buyer, title="Marché de voirie")
    response = client.get(_url("list", buyer.slug))
    assert response.status_code == 200
    assert "Marché de voirie" in _text(response)
    assert client.get(_url("create", buyer.slug)).status_code == 200
    assert client.get(_url("cpv", buyer.slug) + "?q=peinture").status_code == 200
    page = _text(client.get(reverse("organisations:detail", args=[buyer.slug])))
    assert _url("list", buyer.slug) in page


def test_outsider_gets_404_and_member_without_role_403(client, frozen, buyer, outsider, commission_member):
    consultation = ConsultationFactory(organisation=buyer)
    sign_in(client, outsider)
    assert client.get(_url("list", buyer.slug)).status_code == 404
    assert client.get(_url("detail", buyer.slug, consultation.pk)).status_code == 404
    client.logout()
    sign_in(client, commission_member)
    assert client.get(_url("list", buyer.slug)).status_code == 403
    assert client.get(_url("create", buyer.slug)).status_code == 403


def test_consultation_of_another_buyer_is_404(client, frozen, buyer, other_buyer, buyer_agent):
    foreign = ConsultationFactory(organisation=other_buyer)
    sign_in(client, buyer_agent)
    assert client.get(_url("detail", buyer.slug, foreign.pk)).status_code == 404
    assert client.post(_url("publish", buyer.slug, foreign.pk)).status_code == 404


def test_operator_reads_but_cannot_manage(client, frozen, buyer, operator):
    consultation = ConsultationFactory(organisation=buyer)
    sign_in(client, operator)
    assert client.get(_url("detail", buyer.slug, consultation.pk)).status_code == 200
    assert client.get(_url("create", buyer.slug)).status_code == 403


# --- Create and edit ---------------------------------------------------------------------------------


def test_create_through_the_form(client, frozen, buyer, buyer_agent):
    sign_in(client, buyer_agent)
    response = client.post(_url("create", buyer.slug), _form())
    assert response.status_code == 302, _text(response)[:3000]
    with scopes_disabled():
        consultation = Consultation.objects.get()
        lots = list(Lot.objects.filter(consultation=consultation).values_list("title", flat=True))
        codes = set(ConsultationCpv.objects.filter(consultation=consultation).values_list("cpv_id", flat=True))
    assert consultation.bids_deadline == dt.datetime(2026, 6, 3, 15, 0, tzinfo=UTC)  # 17:00 Paris (UTC+2)
    assert str(consultation.estimated_value) == "150000.50"
    assert lots == ["Peinture"]
    assert codes == {"45000000", "45261000", "45261210", "45442100"}
    detail = _text(client.get(response["Location"]))
    assert "03/06/2026 à 17:00 (heure de Paris)" in detail
    assert "Consultation créée" in detail  # the event log
    journal = reverse("audit:org_events", args=[buyer.slug]) + (
        f"?object_type=consultations.consultation&object_id={consultation.pk}"
    )
    assert journal in detail.replace("&amp;", "&")
    response = client.get(journal)
    assert response.status_code == 200 and "Consultation créée" in _text(response)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"reference": ""}, "obligatoire"),
        ({"main_cpv": "99999999"}, "99999999"),
        ({"additional_cpv": "45000000 1234"}, "1234"),
        ({"bids_deadline_1": ""}, "Indiquez la date et l'heure"),
        ({"bids_deadline_0": "2026-02-30"}, "date"),
        ({"questions_deadline_0": "2026-06-10"}, "précéder"),
        ({"questions_deadline_0": "2026-05-30"}, "R2132-6"),
        ({"estimated_value": "cent mille"}, "montant"),
        ({"lots-0-main_cpv": "11111111"}, "11111111"),
        ({"procedure": "tirage-au-sort"}, "Sélectionnez"),
        ({"lots-TOTAL_FORMS": "abc"}, ""),
    ],
)
def test_create_bad_input_is_a_clear_400_and_stores_nothing(client, frozen, buyer, buyer_agent, overrides, message):
    sign_in(client, buyer_agent)
    response = client.post(_url("create", buyer.slug), _form(**overrides))
    assert response.status_code == 400
    assert message in _text(response)
    assert _count() == 0


def test_nonexistent_local_time_is_refused(client, frozen, buyer, buyer_agent):
    sign_in(client, buyer_agent)
    response = client.post(
        _url("create", buyer.slug),
        _form(
            questions_deadline_0="2026-03-20",
            bids_deadline_0="2026-03-29",
            bids_deadline_1="02:30",
        ),
    )
    assert response.status_code == 400
    assert "n'existe pas" in _text(response)
    assert _count() == 0


def test_ambiguous_local_time_asks_then_resolves(client, frozen, buyer, buyer_agent):
    sign_in(client, buyer_agent)
    data = _form(
        procedure="mapa", questions_deadline_0="2026-10-20", bids_deadline_0="2026-10-25", bids_deadline_1="02:30"
    )
    response = client.post(_url("create", buyer.slug), data)
    page = _text(response)
    assert response.status_code == 400
    assert "existe deux fois" in page
    assert 'name="bids_deadline_2"' in page
    response = client.post(_url("create", buyer.slug), {**data, "bids_deadline_2": "winter"})
    assert response.status_code == 302
    with scopes_disabled():
        assert Consultation.objects.get().bids_deadline == dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    response = client.post(_url("create", buyer.slug), {**data, "reference": "autre", "bids_deadline_2": "summer"})
    assert response.status_code == 302
    with scopes_disabled():
        assert Consultation.objects.get(reference="autre").bids_deadline == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_add_lot_and_cpv_picker_steps_do_not_save(client, frozen, buyer, buyer_agent):
    sign_in(client, buyer_agent)
    data = _form()
    data.pop("save")
    response = client.post(_url("create", buyer.slug), {**data, "add_lot": "1"})
    assert response.status_code == 200
    assert 'name="lots-2-title"' in _text(response)
    response = client.post(_url("create", buyer.slug), {**data, "cpv_search": "1", "cpv_q": "peinture"})
    page = _text(response)
    assert "44810000" in page  # Peintures
    response = client.post(
        _url("create", buyer.slug), {**data, "cpv_pick": "main:44810000", "cpv_target": "lot-1", "cpv_at": ""}
    )
    assert 'name="lots-1-main_cpv" value="44810000"' in _text(response)
    response = client.post(_url("create", buyer.slug), {**data, "cpv_expand": "45000000"})
    assert "45100000" in _text(response)
    assert _count() == 0


def test_edit_removes_a_lot(client, frozen, buyer, buyer_agent):
    consultation = services.consultation_create(
        acting_user=buyer_agent,
        organisation=buyer,
        reference="R1",
        title="T",
        contract_type="works",
        procedure="mapa",
        lots=[{"title": "A"}, {"title": "B"}],
    )
    sign_in(client, buyer_agent)
    page = _text(client.get(_url("edit", buyer.slug, consultation.pk)))
    assert 'value="A"' in page and 'value="B"' in page
    with scopes_disabled():
        first, second = Lot.objects.filter(consultation=consultation).order_by("number")
    data = _form(
        reference="R1",
        procedure="mapa",
        **{
            "lots-TOTAL_FORMS": "2",
            "lots-INITIAL_FORMS": "2",
            "lots-0-id": str(first.pk),
            "lots-0-title": "A",
            "lots-0-main_cpv": "",
            "lots-0-estimated_value": "",
            "lots-0-remove": "on",
            "lots-1-id": str(second.pk),
            "lots-1-title": "B",
        },
    )
    response = client.post(_url("edit", buyer.slug, consultation.pk), data)
    assert response.status_code == 302
    with scopes_disabled():
        assert list(Lot.objects.filter(consultation=consultation).values_list("number", "title")) == [(1, "B")]


# --- Actions -----------------------------------------------------------------------------------------


def _draft(agent, buyer, **overrides):
    fields = {
        "reference": "A-1",
        "title": "Fourniture de mobilier",
        "object": "Mobilier scolaire.",
        "contract_type": "supplies",
        "procedure": "open",
        "main_cpv": "39160000",
        "contact_email": "achats@beaune.test",
        "questions_deadline": NOW + dt.timedelta(days=10),
        "bids_deadline": NOW + dt.timedelta(days=20),
    }
    fields.update(overrides)
    return services.consultation_create(acting_user=agent, organisation=buyer, **fields)


def test_publish_confirmation_then_post(client, frozen, buyer, buyer_agent):
    consultation = _draft(buyer_agent, buyer)
    sign_in(client, buyer_agent)
    page = client.get(_url("publish", buyer.slug, consultation.pk))
    assert page.status_code == 200 and "Publier maintenant" in _text(page)
    consultation.refresh_from_db()
    assert consultation.state == State.DRAFT  # GET changes nothing
    response = client.post(_url("publish", buyer.slug, consultation.pk))
    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.state == State.PUBLISHED
    again = client.post(_url("publish", buyer.slug, consultation.pk))
    assert again.status_code == 409
    assert "Impossible de passer" in _text(again)


def test_publish_past_deadline_is_refused_clearly(client, frozen, buyer, buyer_agent):
    consultation = _draft(buyer_agent, buyer)
    frozen.move_to(NOW + dt.timedelta(days=21))
    sign_in(client, buyer_agent)
    response = client.post(_url("publish", buyer.slug, consultation.pk))
    assert response.status_code == 400
    assert "est passée" in _text(response)
    consultation.refresh_from_db()
    assert consultation.state == State.DRAFT


def test_postpone_through_the_form(client, frozen, buyer, buyer_agent):
    consultation = _draft(buyer_agent, buyer)
    services.consultation_publish(acting_user=buyer_agent, consultation=consultation)
    sign_in(client, buyer_agent)
    earlier = {"bids_deadline_0": "2026-05-20", "bids_deadline_1": "10:00", "reason": "Erreur"}
    response = client.post(_url("postpone", buyer.slug, consultation.pk), earlier)
    assert response.status_code == 400
    assert "ne peut être que reportée" in _text(response)
    response = client.post(_url("postpone", buyer.slug, consultation.pk), {**earlier, "bids_deadline_0": "2026-06-01"})
    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.bids_deadline == dt.datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    response = client.post(_url("postpone", buyer.slug, consultation.pk), {"bids_deadline_0": "2026-06-10"})
    assert response.status_code == 400


def test_cancel_open_outcome_through_views(client, frozen, buyer, buyer_agent):
    consultation = _draft(buyer_agent, buyer)
    services.consultation_publish(acting_user=buyer_agent, consultation=consultation)
    sign_in(client, buyer_agent)
    assert client.post(_url("open", buyer.slug, consultation.pk)).status_code == 409  # deadline not passed
    frozen.move_to(consultation.bids_deadline + dt.timedelta(minutes=1))
    sign_in(client, buyer_agent)
    assert client.post(_url("open", buyer.slug, consultation.pk)).status_code == 302
    response = client.post(_url("outcome", buyer.slug, consultation.pk), {"outcome": "abandoned", "reason": ""})
    assert response.status_code == 400
    response = client.post(
        _url("outcome", buyer.slug, consultation.pk), {"outcome": "abandoned", "reason": "Besoin redéfini"}
    )
    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.state == State.ABANDONED
    assert client.post(_url("cancel", buyer.slug, consultation.pk), {"reason": "x"}).status_code == 409
    actions = set(
        AuditEvent.objects.filter(object_id=str(consultation.pk), action__startswith="consultation.").values_list(
            "action", flat=True
        )
    )
    assert {"consultation.closed", "consultation.opened", "consultation.abandoned"} <= actions


def test_edit_of_closed_consultation_redirects_with_message(client, frozen, buyer, buyer_agent):
    consultation = _draft(buyer_agent, buyer)
    services.consultation_publish(acting_user=buyer_agent, consultation=consultation)
    frozen.move_to(consultation.bids_deadline)
    sign_in(client, buyer_agent)
    response = client.get(_url("edit", buyer.slug, consultation.pk))
    assert response.status_code == 302


def test_delete_draft(client, frozen, buyer, buyer_agent):
    consultation = _draft(buyer_agent, buyer)
    sign_in(client, buyer_agent)
    assert client.post(_url("delete", buyer.slug, consultation.pk)).status_code == 302
    assert _count() == 0


# --- Public page -------------------------------------------------------------------------------------


def test_public_page(client, frozen, buyer, buyer_agent):
    consultation = _draft(
        buyer_agent,
        buyer,
        lots=[{"title": "Chaises", "main_cpv": "39112000"}],
        required_documents="DC1\nDC2\nMémoire technique",
    )
    public_url = reverse("consultations_public:detail", args=[consultation.pk])
    assert client.get(public_url).status_code == 404  # a draft is never public
    services.consultation_publish(acting_user=buyer_agent, consultation=consultation)
    page = _text(client.get(public_url))
    assert "Fourniture de mobilier" in page
    assert "24/05/2026 à 10:00 (heure de Paris)" in page  # bids deadline, Paris time named
    assert "Dernière date de réponse aux questions" in page and "18/05/2026 à 10:00" in page
    assert "39112000-0" in page and "Chaises" in page
    assert "Mémoire technique" in page
    assert "En cours" in page
    frozen.move_to(consultation.bids_deadline)
    page = _text(client.get(public_url))
    assert "Clôturée" in page  # at the deadline, before the scheduler runs
    services.consultation_cancel(acting_user=buyer_agent, consultation=consultation, reason="Erreur de procédure")
    page = _text(client.get(public_url))
    assert "Annulée" in page and "Erreur de procédure" in page


def test_public_page_in_english(client, frozen, buyer, buyer_agent):
    consultation = _draft(buyer_agent, buyer)
    services.consultation_publish(acting_user=buyer_agent, consultation=consultation)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("consultations_public:detail", args=[consultation.pk]), HTTP_ACCEPT_LANGUAGE="en")
    text = _text(page)
    assert "School furniture" in text  # CPV label in English
    assert "Paris time" in text


def test_unknown_public_consultation_404(client, db):
    assert client.get(reverse("consultations_public:detail", args=[999999])).status_code == 404


def test_edit_published_keeps_locked_fields(client, frozen, buyer, buyer_agent):
    consultation = _draft(buyer_agent, buyer)
    services.consultation_publish(acting_user=buyer_agent, consultation=consultation)
    sign_in(client, buyer_agent)
    page = _text(client.get(_url("edit", buyer.slug, consultation.pk)))
    assert 'name="reference"' in page and "disabled" in page
    # A tampered form that tries to change the locked fields changes only the others.
    data = _form(
        reference="PIRATE",
        procedure="mapa",
        title="Fourniture de mobilier scolaire",
        main_cpv="39160000",
        additional_cpv="",
        bids_deadline_0="2026-05-05",
        questions_deadline_0="2026-05-14",
        questions_deadline_1="10:00",
        **{"lots-TOTAL_FORMS": "0"},
    )
    response = client.post(_url("edit", buyer.slug, consultation.pk), data)
    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.reference == "A-1" and consultation.procedure == "open"
    assert consultation.bids_deadline == NOW + dt.timedelta(days=20)
    assert consultation.title == "Fourniture de mobilier scolaire"


def test_cpv_search_ignores_accents_and_case(db):
    from ebourgogne.consultations.selectors import cpv_search

    codes = {cpv.code for cpv in cpv_search("ECOLES primaires")}
    assert codes == {cpv.code for cpv in cpv_search("écoles Primaires")}
    assert "45214210" in codes  # Travaux de construction d'écoles primaires
    assert "15894210" in {cpv.code for cpv in cpv_search("repas ecoles")}
    assert "45214210" in {cpv.code for cpv in cpv_search("primary SCHOOL")}  # the English labels too
    assert [cpv.code for cpv in cpv_search("4521421")] == ["45214210"]


@pytest.mark.parametrize(
    ("language", "title"), [("fr", "Publier une consultation"), ("en", "Publishing a consultation")]
)
def test_buyers_help_has_the_consultations_section(client, db, language, title):
    response = client.get(reverse("portal:help_role", args=["acheteurs"]), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert title in _text(response)
