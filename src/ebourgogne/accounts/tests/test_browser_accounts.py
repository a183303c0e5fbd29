"""In Chromium: sign-up with e-mail verification, login with MFA, the mandatory MFA activation, keyboard
use, the English switch. axe-core checks every page visited."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from ebourgogne.organisations.roles import Role
from ebourgogne.testing.browser import assert_accessible, totp_code
from ebourgogne.testing.factories import DEMO_PASSWORD, BuyerFactory, make_member, totp_secret

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Chablis-premier-cru-2024"


def _heading(page) -> str:
    return page.locator("h1").first.inner_text().strip()


def test_sign_up_with_email_verification(browser_page):
    page = browser_page
    page.goto("/")
    assert_accessible(page, context="home")
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="S'inscrire").click()
    assert _heading(page) == "Créer un compte"
    assert_accessible(page, context="sign-up form")

    # A bad submission first: the errors are announced and tied to their field.
    page.locator("input[name=email]").fill("nouvelle@exemple.test")
    page.locator("input[name=password1]").fill("court")
    page.locator("input[name=password2]").fill("court")
    page.get_by_role("button", name="Créer mon compte").click()
    assert page.locator("[aria-invalid=true]").count() >= 1
    assert page.locator("[role=alert]").count() >= 1
    assert_accessible(page, context="sign-up form with errors")

    page.locator("input[name=password1]").fill(NEW_PASSWORD)
    page.locator("input[name=password2]").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Créer mon compte").click()
    page.wait_for_url("**/comptes/confirm-email/")
    assert_accessible(page, context="verification sent")

    assert len(mail.outbox) == 1, [(m.to, m.subject) for m in mail.outbox]
    message = mail.outbox[0]
    assert message.to == ["nouvelle@exemple.test"]
    link = re.search(r"https?://\S+/comptes/confirm-email/\S+/", message.body).group(0)
    page.goto(link)
    assert_accessible(page, context="confirm e-mail")
    page.get_by_role("button", name=re.compile("Confirmer")).click()

    page.wait_for_url("**/compte/")
    assert _heading(page) == "Mon compte"
    assert "nouvelle@exemple.test" in page.content()
    assert_accessible(page, context="account home after sign-up")


def test_login_with_mfa_refuses_a_wrong_code_then_accepts_the_right_one(browser_page):
    page = browser_page
    buyer = BuyerFactory(name="Commune de Chablis")
    agent = make_member(buyer, Role.BUYER_AGENT)
    secret = totp_secret(agent)

    page.goto("/comptes/login/")
    assert_accessible(page, context="login")
    page.locator("input[name=login]").fill(agent.email)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    page.wait_for_url("**/comptes/2fa/authenticate/")
    assert_accessible(page, context="MFA code")
    page.locator("input[name=code]").fill("000000" if totp_code(secret) != "000000" else "111111")
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator("input[name=code][aria-invalid=true]")).to_have_count(1)
    assert_accessible(page, context="MFA code refused")

    page.locator("input[name=code]").fill(totp_code(secret))
    page.locator("main form button[type=submit]").first.click()

    page.wait_for_url("**/compte/")
    assert "Commune de Chablis" in page.content()
    assert "Agent acheteur" in page.content()
    assert_accessible(page, context="account home after MFA")


def test_buyer_staff_without_totp_activate_it_at_first_login(browser_page):
    page = browser_page
    agent = make_member(BuyerFactory(), Role.BUYER_ADMIN, totp=False)

    page.goto("/comptes/login/")
    page.locator("input[name=login]").fill(agent.email)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    page.wait_for_url("**/comptes/2fa/totp/activate/")
    assert "Votre rôle exige la double authentification" in page.content()
    qr = page.locator("img.qr-code")
    assert qr.get_attribute("src").startswith("data:image/svg+xml;base64,")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")  # the CSP let it load
    assert_accessible(page, context="TOTP activation")

    secret = page.locator(".secret").inner_text().strip()
    page.locator("input[name=code]").fill(totp_code(secret))
    page.get_by_role("button", name="Activer").click()

    page.wait_for_url(re.compile(r".*/comptes/2fa/.*"))
    assert_accessible(page, context="after activation")
    page.goto("/compte/")
    assert _heading(page) == "Mon compte"
    assert "Activée" in page.content()
    assert_accessible(page, context="account home with MFA")
    page.goto("/comptes/2fa/recovery-codes/")
    expect(page.locator("#recovery_codes")).to_have_count(1)
    assert_accessible(page, context="recovery codes")


def test_keyboard_skip_link_and_visible_focus(browser_page):
    page = browser_page
    page.goto("/aide/")

    page.keyboard.press("Tab")
    focused = page.evaluate(
        """() => { const el = document.activeElement; const s = getComputedStyle(el); const r = el.getBoundingClientRect();
                   return {cls: el.className, text: el.textContent.trim(), outline: s.outlineStyle, width: s.outlineWidth,
                           shadow: s.boxShadow, top: r.top, height: r.height}; }"""
    )
    assert focused["cls"] == "skip-link"
    assert focused["text"] == "Aller au contenu"
    assert focused["top"] >= 0 and focused["height"] > 0, "the skip link must show when focused"
    assert focused["outline"] != "none" and focused["width"] != "0px"

    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "contenu"
    page.keyboard.press("Tab")
    inside_main = page.evaluate("() => document.querySelector('main').contains(document.activeElement)")
    assert inside_main, "after the skip link, Tab goes to the first link of the content"
    link_style = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert link_style != "none"
    assert_accessible(page, context="help page")


def test_pages_fit_a_320_pixel_screen(browser_page):
    page = browser_page
    page.set_viewport_size({"width": 320, "height": 640})
    for url in ("/", "/aide/acheteurs/", "/comptes/login/", "/comptes/signup/", "/accessibilite/"):
        page.goto(url)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 320, f"{url} scrolls sideways at 320 px ({width} px)"
        assert_accessible(page, context=f"{url} at 320 px")


def test_switching_to_english(browser_page):
    page = browser_page
    page.goto("/aide/")
    page.get_by_role("button", name="English").click()

    page.wait_for_url("**/aide/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert _heading(page) == "Help"
    assert page.get_by_role("link", name="Sign in").count() >= 1
    assert_accessible(page, context="help in English")

    page.goto("/comptes/login/")
    assert _heading(page) == "Sign in"
    assert_accessible(page, context="login in English")
    page.get_by_role("button", name="Français").click()
    assert page.locator("html").get_attribute("lang") == "fr"
