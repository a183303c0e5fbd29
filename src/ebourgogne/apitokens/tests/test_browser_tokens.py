"""In Chromium: a buyer agent creates an API token, sees it once, uses it, then revokes it. axe-core checks
the page empty, with an error, with the new token shown, and at 320 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ebourgogne.apitokens.models import ApiToken
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.browser import assert_accessible
from ebourgogne.testing.factories import BuyerFactory, UserFactory, make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_use_and_revoke_a_token(browser_page, browser_sign_in, live_server):
    page = browser_page
    buyer = BuyerFactory(name="Commune de Nuits", slug="commune-de-nuits")
    agent = make_member(buyer, Role.BUYER_AGENT, UserFactory(email="agent@nuits.test", full_name="Nina Agent"))
    browser_sign_in(page, agent)

    page.goto("/compte/jetons-api/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Jetons d'API")
    assert_accessible(page, context="no token yet")

    page.get_by_role("button", name="Créer le jeton").click()  # no name: refused, announced
    expect(page.locator(".error-summary")).to_have_count(1)
    assert_accessible(page, context="with an error")

    page.get_by_label("Nom du jeton").fill("Logiciel de gestion des marchés")
    page.get_by_role("button", name="Créer le jeton").click()
    secret_field = page.get_by_label("Votre jeton")
    expect(secret_field).to_have_count(1)
    secret = secret_field.input_value()
    assert secret.startswith("ebg_")
    assert_accessible(page, context="token shown once")

    response = page.request.get(
        f"{live_server.url}/api/v1/buyers/{buyer.slug}/consultations", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status == 200

    page.goto("/compte/jetons-api/")
    expect(page.get_by_label("Votre jeton")).to_have_count(0)  # never shown again
    page.set_viewport_size({"width": 320, "height": 800})
    assert_accessible(page, context="list at 320 px")
    page.get_by_role("button", name="Révoquer le jeton Logiciel de gestion des marchés").click()
    expect(page.locator(".tag").filter(has_text="Révoqué")).to_have_count(1)
    assert ApiToken.objects.get().revoked_at is not None
    response = page.request.get(
        f"{live_server.url}/api/v1/buyers/{buyer.slug}/consultations", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status == 401
