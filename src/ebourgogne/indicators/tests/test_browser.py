"""In Chromium, axe-core on the dashboards: a buyer's (with a data table opened and after the refresh
button), the region's and a department's public pages, and a period refused with its message."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ebourgogne.consultations.models import CpvCode
from ebourgogne.indicators import services
from ebourgogne.indicators.tests import data
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.browser import assert_accessible
from ebourgogne.testing.factories import UserFactory, make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dashboards_are_accessible(browser_page, browser_sign_in, client):
    page = browser_page
    for code, label in (("45000000", "Travaux de construction"), ("72000000", "Services informatiques")):
        # transactional tests flush the codes the migration loaded
        CpvCode.objects.get_or_create(
            code=code, defaults={"check_digit": "7", "label_fr": label, "label_en": label, "level": 1}
        )
    world = data.build()
    services.refresh_all()
    admin = make_member(world.a, Role.BUYER_ADMIN, UserFactory(full_name="Alice Acheteuse"))

    # The first request imports the whole URL configuration: on a loaded 2-core machine that alone can
    # outlast the browser's navigation timeout, so it is made here, outside the browser.
    assert client.get("/indicateurs/").status_code == 200
    browser_sign_in(page, admin)
    page.goto(f"/organisations/{world.a.slug}/indicateurs/?du=2026-01&au=2026-06")
    expect(page.get_by_role("heading", name="Consultations publiées par mois")).to_have_count(1)
    expect(page.get_by_role("img", name="Consultations publiées par mois")).to_have_count(1)
    assert_accessible(page, context="buyer dashboard")
    page.get_by_text("Données du graphique : Consultations publiées par mois").click()
    expect(page.get_by_role("table", name="Consultations publiées par mois")).to_be_visible()
    assert_accessible(page, context="buyer dashboard with a data table open")
    page.get_by_role("button", name="Recalculer maintenant").click()
    expect(page.get_by_text("Les indicateurs de votre organisation ont été recalculés.")).to_have_count(1)
    assert_accessible(page, context="buyer dashboard after the refresh")

    page.get_by_role("link", name="indicateurs publics de la région").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Région Bourgogne")
    assert_accessible(page, context="regional page")
    page.get_by_role("link", name="Côte-d'Or (21)").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Côte-d'Or")
    assert_accessible(page, context="department page")
    page.goto("/indicateurs/?du=2026-13")
    expect(page.get_by_text("Indiquez un mois sous la forme AAAA-MM")).to_have_count(1)
    assert_accessible(page, context="regional page with a refused period")
