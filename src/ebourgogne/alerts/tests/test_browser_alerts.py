"""In Chromium: an alert made from a portal search, a matching consultation published, the mail received
by a real SMTP server, the one-click unsubscribe link followed. Every page axe-clean."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.tasks import task_backends
from django.urls import reverse
from playwright.sync_api import expect

from ebourgogne.alerts.models import Alert
from ebourgogne.consultations.signals import consultation_published
from ebourgogne.core.worker import make_worker
from ebourgogne.search.tests.conftest import published
from ebourgogne.testing.browser import assert_accessible
from ebourgogne.testing.factories import BuyerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def run_tasks() -> None:
    for _ in range(3):  # percolation, then the mail it queued
        make_worker(backend=task_backends["default"], batch=True).run()


def test_alert_from_a_search_mail_and_unsubscribe(browser_page, browser_sign_in, smtp_server, subscriber):
    page = browser_page
    buyer = BuyerFactory(name="Commune de Nolay", slug="commune-de-nolay", department="21")
    browser_sign_in(page, subscriber)

    page.goto(reverse("search:search") + "?q=voirie&department=21")
    assert_accessible(page, context="search results")
    page.get_by_role("link", name="Créer une alerte à partir de cette recherche").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer une alerte")
    expect(page.get_by_label("Mots-clés")).to_have_value("voirie")
    expect(page.get_by_label("Côte-d'Or (21)")).to_be_checked()
    assert_accessible(page, context="alert form")
    page.get_by_label("Nom de l'alerte").fill("Voirie en Côte-d'Or")
    page.get_by_label("Immédiatement (un courriel par consultation)").check()
    page.get_by_role("button", name="Créer l'alerte").click()
    expect(page.locator(".messages")).to_contain_text("L'alerte est créée")
    expect(page.get_by_role("rowheader", name=re.compile("Voirie en Côte-d'Or"))).to_be_visible()
    assert_accessible(page, context="alerts list")
    alert = Alert.objects.get(owner=subscriber)
    assert (alert.q, alert.departments, alert.delivery) == ("voirie", ["21"], "immediate")

    with transaction.atomic():
        consultation = published(organisation=buyer, title="Réfection de la voirie communale", department="21")
        consultation_published.send(sender=None, consultation=consultation)
    published(organisation=buyer, title="Réfection de la piscine", department="21")  # not for this alert
    run_tasks()

    [message] = smtp_server.wait_for(1)
    assert message["To"] == subscriber.email
    assert "Voirie en Côte-d'Or" in message["Subject"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https_link = re.fullmatch(r"<(https?://[^>]+)>", message["List-Unsubscribe"]).group(1)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Réfection de la voirie communale" in text and https_link in text

    # From the mail, in a fresh browser without session: the confirmation page, then one click.
    page.context.clear_cookies()
    page.goto(urlsplit(https_link).path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Ne plus recevoir cette alerte")
    assert_accessible(page, context="unsubscribe page")
    page.get_by_role("button", name="Me désabonner de cette alerte").click()
    expect(page.get_by_role("status")).to_contain_text("C'est fait")
    assert_accessible(page, context="unsubscribed")
    alert.refresh_from_db()
    assert not alert.is_active
