"""In Chromium: a buyer administrator invites a colleague, who accepts the invitation from the e-mail and
is then asked to activate two-factor authentication. axe-core checks every page visited."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.tasks import task_backends
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from ebourgogne.core.worker import make_worker
from ebourgogne.organisations.models import Membership
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.browser import assert_accessible
from ebourgogne.testing.factories import DEMO_PASSWORD, BuyerFactory, UserFactory, make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_invite_a_member_who_accepts_and_must_then_activate_mfa(browser_page, browser_sign_in):
    page = browser_page
    buyer = BuyerFactory(name="Communauté de communes du Chablisien", slug="cc-chablisien")
    admin = make_member(buyer, Role.BUYER_ADMIN)
    colleague = UserFactory(email="gaspard@chablisien.test", full_name="Gaspard Collègue")
    browser_sign_in(page, admin)

    page.goto(f"/organisations/{buyer.slug}/membres/")
    assert_accessible(page, context="members")
    page.get_by_role("link", name="Inviter une personne").click()
    assert_accessible(page, context="invitation form")

    # Bad input first: an invalid address is refused with a message tied to the field.
    page.locator("input[name=email]").fill("pas-une-adresse")
    page.locator("input[name=role][value=buyer_agent]").check()
    page.get_by_role("button", name="Envoyer l'invitation").click()
    expect(page.locator("input[name=email][aria-invalid=true]")).to_have_count(1)
    assert_accessible(page, context="invitation form with errors")

    page.locator("input[name=email]").fill(colleague.email)
    page.locator("input[name=role][value=buyer_agent]").check()
    page.get_by_role("button", name="Envoyer l'invitation").click()
    page.wait_for_url(f"**/organisations/{buyer.slug}/invitations/")
    assert colleague.email in page.content()
    assert_accessible(page, context="invitations list")

    make_worker(backend=task_backends["default"], batch=True).run()  # what `ebourgogne worker` does
    sent = [message for message in mail.outbox if colleague.email in message.to]
    assert len(sent) == 1
    accept_path = re.search(r"/organisations/invitation/[^/\s]+/", sent[0].body).group(0)

    # The colleague opens the link in their own browser session.
    page.context.clear_cookies()
    page.goto(accept_path)
    assert "Communauté de communes du Chablisien" in page.content()
    assert_accessible(page, context="invitation, signed out")
    page.get_by_role("link", name="Se connecter").last.click()
    page.locator("input[name=login]").fill(colleague.email)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main").get_by_role("button", name="Se connecter").click()

    page.wait_for_url(f"**{accept_path}")
    assert_accessible(page, context="invitation, signed in")
    page.get_by_role("button", name="Accepter l'invitation").click()

    # Now a buyer agent, the colleague must set up the second factor before going further.
    page.wait_for_url("**/comptes/2fa/totp/activate/")
    assert "Votre rôle exige la double authentification" in page.content()
    assert_accessible(page, context="MFA activation after accepting")
    with scopes_disabled():
        assert Membership.objects.filter(organisation=buyer, user=colleague, role=Role.BUYER_AGENT).exists()

    # The link served once: opening it again is refused with a clear message.
    page.context.clear_cookies()
    page.goto(accept_path)
    expect(page.locator("[role=alert]")).to_have_count(1)
    assert_accessible(page, context="invitation already used")
