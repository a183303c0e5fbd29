"""The public consultation page reuses the rendered lots and codes of a consultation: it must still show
every change at once (an edit, a lot, a DCE rectification, a published answer), in this process and in
others, and read a fixed, small number of statements."""

from __future__ import annotations

import datetime as dt
import html

import pytest
import time_machine
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.consultations import services
from ebourgogne.consultations.models import Consultation, Lot
from ebourgogne.dce import services as dce_services
from ebourgogne.dce.tests.helpers import add_file, published_with_files
from ebourgogne.questions import services as question_services
from ebourgogne.testing.factories import ConsultationFactory, LotFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    # The clock stands still: two saves leave the same `updated_at`, the hardest case for the reuse.
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def consultation(buyer):
    consultation = ConsultationFactory(
        organisation=buyer,
        published=True,
        questions_deadline=NOW + dt.timedelta(days=10),
        bids_deadline=NOW + dt.timedelta(days=20),
    )
    LotFactory(consultation=consultation, number=1, title="Chaises de bureau")
    return consultation


def _page(client, consultation) -> str:
    response = client.get(reverse("consultations_public:detail", args=[consultation.pk]))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_a_lot_change_shows_at_once(client, consultation, buyer_agent):
    assert "Chaises de bureau" in _page(client, consultation)
    with scopes_disabled():
        lot = Lot.objects.get(consultation=consultation)
    services.lot_update(acting_user=buyer_agent, consultation=consultation, lot_id=lot.pk, title="Tables rondes")
    page = _page(client, consultation)
    assert "Tables rondes" in page and "Chaises de bureau" not in page
    services.lot_add(acting_user=buyer_agent, consultation=consultation, title="Armoires")
    page = _page(client, consultation)
    assert "Tables rondes" in page and "Armoires" in page and "2 lots" in page


def test_a_change_made_by_another_process_shows_at_once(client, consultation, frozen):
    """Another process's save sends no signal here: the new `updated_at`, read on each request, is enough."""
    assert "Chaises de bureau" in _page(client, consultation)
    frozen.shift(dt.timedelta(seconds=1))
    with scopes_disabled():
        Lot.objects.filter(consultation=consultation).update(title="Bancs publics")  # no signal
        Consultation.objects.filter(pk=consultation.pk).update(updated_at=NOW + dt.timedelta(seconds=1))
    page = _page(client, consultation)
    assert "Bancs publics" in page and "Chaises de bureau" not in page


def test_the_page_in_each_language_has_its_own_copy(client, consultation):
    assert "1 lot" in _page(client, consultation)
    response = client.get(
        reverse("consultations_public:detail", args=[consultation.pk]), headers={"accept-language": "en"}
    )
    assert "Lot 1: Chaises de bureau" in html.unescape(response.content.decode())


def test_a_published_answer_shows_at_once(client, consultation, company, company_member, buyer_agent):
    question = question_services.question_ask(
        acting_user=company_member, company=company, consultation=consultation, text="Une visite est-elle prévue ?"
    )
    assert "Une visite est-elle prévue" not in _page(client, consultation)
    question_services.question_answer(acting_user=buyer_agent, question=question, answer="Oui, le 10 mars.")
    page = _page(client, consultation)
    assert "Une visite est-elle prévue" in page and "Oui, le 10 mars." in page


def test_a_dce_rectification_shows_at_once(client, buyer, buyer_agent):
    consultation = published_with_files(
        buyer,
        buyer_agent,
        {"Règlement.pdf": b"%PDF-1.7 reglement"},
        questions_deadline=NOW + dt.timedelta(days=10),
        bids_deadline=NOW + dt.timedelta(days=20),
    )
    page = _page(client, consultation)
    assert "Règlement.pdf" in page and "Plan des lieux.pdf" not in page
    add_file(buyer_agent, consultation, "Plan des lieux.pdf", b"%PDF-1.7 plan")
    assert "Plan des lieux.pdf" not in _page(client, consultation)  # not published yet
    dce_services.publish_changes(acting_user=buyer_agent, consultation=consultation, reason="Ajout du plan.")
    page = _page(client, consultation)
    assert "Plan des lieux.pdf" in page and "Ajout du plan." in page


def test_the_page_reads_a_fixed_number_of_statements(
    client, consultation, django_assert_num_queries, django_assert_max_num_queries
):
    _page(client, consultation)  # the page is rendered once per version of what it shows
    with django_assert_num_queries(1):  # the consultation with its buyer and the page's stamp
        page = _page(client, consultation)
    assert "Chaises de bureau" in page
    with scopes_disabled():
        for number in range(2, 12):
            LotFactory(consultation=consultation, number=number, title=f"Lot numéro {number}")
        Consultation.objects.filter(pk=consultation.pk).update(updated_at=NOW + dt.timedelta(seconds=5))
    # A new version is rendered: its lots, their codes, its own codes and main code, then the blocks of
    # the other apps (tender files, answers, bids, opening key), each a statement or two.
    with django_assert_max_num_queries(1 + 4 + 8):
        page = _page(client, consultation)
    assert "Lot numéro 11" in page
    with django_assert_num_queries(1):
        _page(client, consultation)


def test_a_signed_in_visitor_gets_the_page_made_for_them(client, consultation, company_member):
    """The kept copy is for anonymous visitors only: once a copy is kept, a signed-in company member still
    gets the article rendered for them (the form to ask a question, not the invitation to sign in)."""
    from ebourgogne.testing.factories import sign_in

    assert "Connectez-vous pour poser une question" in _page(client, consultation)  # the common copy, kept
    sign_in(client, company_member)
    page = _page(client, consultation)
    assert 'id="ask-title"' in page and "Connectez-vous pour poser une question" not in page


def test_each_visitor_gets_their_own_csrf_token(consultation):
    """The kept copy carries a placeholder; each response has the token of its own visitor."""
    from django.test import Client

    tokens = []
    for _ in range(2):
        visitor = Client(enforce_csrf_checks=True)
        page = _page(visitor, consultation)
        assert "csrf-placeholder" not in page
        token = visitor.cookies.get("ebourgogne_csrftoken")
        tokens.append(token.value if token else None)
        if 'name="csrfmiddlewaretoken"' in page:
            assert token is not None
    assert tokens[0] != tokens[1] or tokens[0] is None


def test_an_identified_downloader_is_not_served_the_common_copy(client, buyer, buyer_agent):
    """A visitor with a cookie of their own (a tender-file downloader who left their address) gets their
    own page, not the copy kept for everyone; and the next anonymous visitor still gets the common one."""
    from django.http import HttpResponse

    from ebourgogne.dce.views import COOKIE_SALT, cookie_name

    consultation = published_with_files(
        buyer,
        buyer_agent,
        {"Règlement.pdf": b"%PDF-1.7 reglement"},
        questions_deadline=NOW + dt.timedelta(days=10),
        bids_deadline=NOW + dt.timedelta(days=20),
    )
    assert "Laissez votre adresse" in _page(client, consultation)  # the common copy, now kept
    name = cookie_name(consultation.pk)
    signed = HttpResponse()
    signed.set_signed_cookie(name, "12345", salt=COOKIE_SALT)  # as the identification form does
    client.cookies[name] = signed.cookies[name].value
    page = _page(client, consultation)
    assert "Vous êtes identifié·e pour cette consultation" in page and "Laissez votre adresse" not in page
    del client.cookies[name]
    assert "Laissez votre adresse" in _page(client, consultation)


def test_the_buyer_service_is_shown_and_a_rename_shows_at_once(client, buyer):
    """The service is read by its name only (no join over the services table): shown, kept up to date, and
    its other fields still there when used."""
    from ebourgogne.consultations import selectors
    from ebourgogne.organisations.models import BuyerService

    with scopes_disabled():
        service = BuyerService.objects.create(organisation=buyer, name="Direction des achats")
        consultation = ConsultationFactory(
            organisation=buyer, service=service, published=True, bids_deadline=NOW + dt.timedelta(days=20)
        )
    assert "Direction des achats" in _page(client, consultation)
    with scopes_disabled():
        BuyerService.objects.filter(pk=service.pk).update(name="Pôle commande publique")  # no signal
    page = _page(client, consultation)
    assert "Pôle commande publique" in page and "Direction des achats" not in page
    read, _stamp = selectors.public_consultation_row(pk=consultation.pk)
    with scopes_disabled():
        assert (read.service.pk, read.service.name, read.service.organisation_id) == (
            service.pk,
            "Pôle commande publique",
            buyer.pk,
        )
