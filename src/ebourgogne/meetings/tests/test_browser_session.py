"""In Chromium: the buyer's agent opens the session of a convened CAO meeting, takes the attendance, two
members present type their passphrases (one wrong first), the bids are opened, a decision with a vote is
recorded and the session closed. axe-core checks every state of the page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from ebourgogne.consultations.models import Consultation
from ebourgogne.core import clock
from ebourgogne.meetings.models import Decision, Meeting
from ebourgogne.meetings.tests.test_session_helpers import convened_meeting, make_panel
from ebourgogne.organisations.roles import Role
from ebourgogne.tenders.models import Opening
from ebourgogne.tenders.tests.opening_helpers import deposit, run_jobs
from ebourgogne.testing.browser import assert_accessible
from ebourgogne.testing.factories import BuyerFactory, CompanyFactory, UserFactory, make_member
from ebourgogne.testing.meetings import add_item
from ebourgogne.testing.sealing import sealed_consultation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_run_the_session_and_members_open_the_bids(browser_page, browser_sign_in):
    page = browser_page
    page.set_default_timeout(60_000)  # a long scenario on a shared 2-core machine
    buyer = BuyerFactory(name="Commune de Semur", slug="commune-de-semur")
    agent = make_member(buyer, Role.BUYER_AGENT, UserFactory(full_name="Bruno Agent"))
    panel = make_panel(buyer)
    sealed = sealed_consultation(
        buyer, acting_user=agent, commission=panel.opening, reference="2026-SEM-04", title="Restauration des remparts"
    )
    consultation = sealed.consultation
    company = CompanyFactory(name="Maçonnerie de l'Auxois")
    deposit(consultation, company, [("offre.pdf.age", b"%PDF offre")])
    with scopes_disabled():
        Consultation.objects.filter(pk=consultation.pk).update(bids_deadline=clock.now() - dt.timedelta(minutes=5))
    meeting = convened_meeting(panel, responses={panel.president: "present", panel.third: "absent"})
    item = add_item(meeting, kind="opening", consultation=consultation)
    url = f"/organisations/{buyer.slug}/seances/{meeting.pk}/seance/"
    president, second = panel.president, panel.second

    browser_sign_in(page, agent)
    page.goto(url)
    assert_accessible(page, context="convened meeting")
    page.get_by_role("button", name="Ouvrir la séance").click()
    expect(page.get_by_text("Quorum non atteint.")).to_have_count(1)  # only the president answered "present"
    assert_accessible(page, context="session opened without quorum yet")

    # The second titular arrives: attendance taken in the room.
    page.get_by_label(f"Présence de {second.full_name}").select_option("present")
    page.get_by_role("button", name="Enregistrer les présences").click()
    expect(page.get_by_text("Quorum atteint.")).to_have_count(1)
    assert_accessible(page, context="session with quorum")

    # The two members present type their passphrases; the second one mistypes first.
    page.get_by_label(f"Phrase secrète de {president.full_name}").fill(panel.passphrase(president))
    page.get_by_label(f"Phrase secrète de {second.full_name}").fill("une phrase fausse")
    page.get_by_role("button", name="Ouvrir les plis").click()
    expect(page.get_by_role("alert").filter(has_text=second.full_name)).to_have_count(1)
    assert_accessible(page, context="wrong passphrase")
    page.get_by_label(f"Phrase secrète de {president.full_name}").fill(panel.passphrase(president))
    page.get_by_label(f"Phrase secrète de {second.full_name}").fill(panel.passphrase(second))
    page.get_by_role("button", name="Ouvrir les plis").click()
    expect(page.get_by_text("Ouverture en cours.")).to_have_count(1)

    with scopes_disabled():
        opening = Opening.objects.get(consultation=consultation)
    opening = run_jobs(opening)  # the worker's part, in this process
    assert opening.state == "done", opening.error
    page.reload()  # the address is already the session page's (at the item's anchor)
    expect(page.get_by_role("heading", name="Procès-verbal d'ouverture")).to_have_count(1)
    expect(page.get_by_role("heading", name="Registre des dépôts")).to_have_count(1)
    assert_accessible(page, context="bids opened in session")

    # A decision with a vote.
    page.get_by_label("Nature de la décision").select_option("admitted")
    page.get_by_label(re.compile(r"^Décision")).fill("La candidature de la Maçonnerie de l'Auxois est admise.")
    page.get_by_label(company.name).check()
    page.get_by_label("La commission a voté").check()
    page.get_by_label("Voix pour").fill("2")
    page.get_by_role("button", name="Enregistrer la décision").click()
    expect(page.get_by_text("Vote : 2 pour, 0 contre, 0 abstention(s).")).to_have_count(1)
    assert_accessible(page, context="decision recorded")

    page.get_by_role("button", name="Clore la séance").click()
    expect(page.get_by_text("La séance est close.")).to_have_count(1)
    assert_accessible(page, context="session closed")
    with scopes_disabled():
        assert Meeting.objects.get(pk=meeting.pk).state == "closed"
        decision = Decision.objects.get(agenda_item=item)
    assert decision.data["companies"][0]["name"] == company.name
