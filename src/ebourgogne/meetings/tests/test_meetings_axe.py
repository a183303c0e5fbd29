"""In Chromium, with the keyboard-reachable controls and axe-core on each page: a buyer's agent prepares a
meeting (form with an error, then created), builds its agenda, uploads a document, convenes the commission
late with an urgency reason; a member of the commission reads the meeting and downloads the document.

The convocations are replaced by a recorder here (their e-mails are tested with meetings.convocations)."""

from __future__ import annotations

import datetime as dt

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from ebourgogne.commissions.models import Commission, CommissionMember
from ebourgogne.core import clock
from ebourgogne.meetings import convocations
from ebourgogne.meetings.models import Meeting, MeetingState
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.browser import assert_accessible
from ebourgogne.testing.factories import BuyerFactory, ConsultationFactory, UserFactory, make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_preparing_and_convening_a_meeting_in_the_browser(browser_page, browser_sign_in, monkeypatch, tmp_path):
    calls: list[str] = []
    monkeypatch.setattr(convocations, "convene", lambda **kwargs: calls.append("convene") or 1)
    page = browser_page
    buyer = BuyerFactory(name="Commune de Semur", slug="commune-de-semur")
    agent = make_member(buyer, Role.BUYER_AGENT, UserFactory(full_name="Inès Agent"))
    member = make_member(buyer, Role.COMMISSION_MEMBER, UserFactory(full_name="Marc Membre"))
    with scopes_disabled():
        commission = Commission.objects.create(organisation=buyer, name="CAO de Semur")
        CommissionMember.objects.create(commission=commission, user=member, is_president=True)
    consultation = ConsultationFactory(organisation=buyer, published=True, title="Réfection de la toiture")

    browser_sign_in(page, agent)
    page.goto(f"/organisations/{buyer.slug}/commissions/{commission.pk}/")
    assert_accessible(page, context="commission page with its meetings")
    page.get_by_role("link", name="Préparer une séance de cette commission").click()
    assert_accessible(page, context="new meeting form")
    page.get_by_label("Intitulé").fill("CAO d'attribution")
    page.get_by_role("button", name="Créer la séance").click()  # no date, no place: refused
    expect(page.locator(".error-summary")).to_have_count(1)
    assert_accessible(page, context="new meeting form with errors")

    soon = clock.today_local() + dt.timedelta(days=2)  # inside the five clear days: late
    page.get_by_label("Date", exact=True).fill(soon.isoformat())
    page.get_by_label("Heure (heure de Paris)").fill("14:30")
    page.get_by_label("Lieu").fill("Salle du conseil, mairie de Semur")
    page.get_by_role("button", name="Créer la séance").click()
    expect(page.get_by_role("heading", name="CAO d'attribution")).to_have_count(1)
    assert_accessible(page, context="meeting page, draft")

    page.get_by_role("link", name="Gérer l'ordre du jour").click()
    page.get_by_label("Nature du point").select_option("analysis")
    page.get_by_label("Consultation").select_option(str(consultation.pk))
    page.get_by_role("button", name="Ajouter le point").click()
    expect(page.get_by_text("est ajouté à l'ordre du jour")).to_have_count(1)
    assert_accessible(page, context="agenda page")

    page.goto(f"/organisations/{buyer.slug}/seances/")
    page.get_by_role("link", name="CAO d'attribution").click()
    page.get_by_role("link", name="Gérer les documents").click()
    report = tmp_path / "rapport-analyse.pdf"
    report.write_bytes(b"%PDF-1.7 rapport d'analyse")
    page.get_by_label("Fichier").set_input_files(str(report))
    page.get_by_label("Titre").fill("Rapport d'analyse des offres")
    page.get_by_role("button", name="Déposer le document").click()
    expect(page.get_by_text("est déposé")).to_have_count(1)
    assert_accessible(page, context="documents page")

    page.get_by_role("link", name="Revenir à la séance").click()
    page.get_by_role("link", name="Convoquer la commission").click()
    expect(page.get_by_text("Ce délai n'est plus respecté")).to_have_count(1)
    assert_accessible(page, context="convene page, late")
    page.get_by_role("button", name="Convoquer en urgence").click()  # no reason: refused
    expect(page.locator(".error-summary")).to_have_count(1)
    page.get_by_label("Motif de l'urgence").fill("Validité des offres expirant avant la prochaine séance")
    page.get_by_role("button", name="Convoquer en urgence").click()
    expect(page.get_by_text("convoquée en urgence", exact=True)).to_have_count(1)
    assert_accessible(page, context="meeting page, convened urgently")
    assert calls == ["convene"]
    with scopes_disabled():
        meeting = Meeting.objects.get()
    assert meeting.state == MeetingState.CONVENED and meeting.is_urgent

    browser_sign_in(page, member)
    page.goto(f"/organisations/{buyer.slug}/seances/")
    assert_accessible(page, context="meetings list for a member")
    page.get_by_role("link", name="CAO d'attribution").click()
    expect(page.get_by_role("link", name="Gérer les documents")).to_have_count(0)
    with page.expect_download() as download:
        page.get_by_role("link", name="Rapport d'analyse des offres").click()
    assert download.value.suggested_filename == "rapport-analyse.pdf"
