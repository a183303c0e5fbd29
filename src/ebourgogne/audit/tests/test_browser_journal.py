"""In Chromium: a buyer agent filters the journal of their organisation and pages through it; an operator
reads the platform's journal. axe-core checks every page, with and without errors, at 320 px too."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ebourgogne.audit.services import log_events
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.browser import assert_accessible
from ebourgogne.testing.factories import BuyerFactory, UserFactory, make_member, make_operator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_buyer_filters_and_pages_through_the_journal(browser_page, browser_sign_in):
    page = browser_page
    buyer = BuyerFactory(name="Syndicat des eaux de l'Auxois", slug="eaux-auxois")
    agent = make_member(buyer, Role.BUYER_AGENT, UserFactory(email="agent@auxois.test", full_name="Agathe Agent"))
    log_events(
        {
            "action": "consultation.document.downloaded" if n % 3 else "org.member.invited",
            "actor": agent if n % 2 else None,
            "organisation": buyer,
            "obj": agent,
            "data": {"fichier": f"DCE-{n}.zip", "taille": n * 1000},
        }
        for n in range(70)
    )
    browser_sign_in(page, agent)

    page.goto(f"/journal/{buyer.slug}/")
    expect(page.locator("table caption")).to_have_count(1)
    expect(page.locator("tbody tr")).to_have_count(50)
    assert_accessible(page, context="journal")

    page.get_by_role("link", name="Événements plus anciens").click()
    expect(page.locator("tbody tr")).to_have_count(20)
    assert_accessible(page, context="journal, second page")

    page.goto(f"/journal/{buyer.slug}/")
    page.get_by_label("Action").fill("org.member")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.locator("tbody tr")).to_have_count(24)
    assert "org.member.invited" in page.locator("tbody").inner_text()

    # Bad input: the error is announced and tied to its field.
    page.get_by_label("Action").fill("Pas Un Code")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.locator("[role=alert]")).to_have_count(1)
    expect(page.locator("input[name=action][aria-invalid=true]")).to_have_count(1)
    assert_accessible(page, context="journal with a filter error")

    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(f"/journal/{buyer.slug}/")
    assert_accessible(page, context="journal at 320 px")


def test_operator_reads_the_platform_journal(browser_page, browser_sign_in):
    page = browser_page
    operator = make_operator(UserFactory(email="exploitante@e-bourgogne.test"))
    log_events([{"action": "account.login.failed", "data": {"email": "x@exemple.test"}}])
    browser_sign_in(page, operator)
    page.goto("/journal/")
    assert "Échec de connexion" in page.locator("tbody").inner_text()
    assert_accessible(page, context="operator journal")
