"""In Chromium: the workstation test page (/poste-de-travail/) runs without an account, finds what the
browser can do, measures encryption and upload speed, gives a verdict, is usable from the keyboard and
axe-clean. And the upload probe it measures against refuses what it must."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from ebourgogne.tenders import views_workstation
from ebourgogne.testing.browser import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def small_probe(monkeypatch):
    """Measure on 2 MB rather than 64/16 MB: the test checks the page's behaviour, not the speed."""
    monkeypatch.setattr(views_workstation, "PROBE_ENCRYPT_BYTES", 2 * 1024 * 1024)
    monkeypatch.setattr(views_workstation, "PROBE_UPLOAD_BYTES", 2 * 1024 * 1024)


def test_workstation_test_runs_from_the_keyboard_and_gives_a_verdict(browser_page, small_probe):
    page = browser_page
    page.goto("/poste-de-travail/")
    expect(page.get_by_role("heading", name="Tester mon poste de travail", exact=True)).to_be_visible()
    # JavaScript runs: the "JavaScript required" notice is gone and the button works.
    expect(page.get_by_text("nécessite JavaScript")).to_be_hidden()
    assert_accessible(page, context="before the test")

    start = page.get_by_role("button", name="Lancer le test")
    start.focus()
    with page.expect_response(lambda r: r.url.endswith("/poste-de-travail/mesure-envoi/")) as probe:
        page.keyboard.press("Enter")
    assert probe.value.status == 200
    assert probe.value.json() == {"received": 2 * 1024 * 1024}
    verdict = page.locator("[data-workstation-verdict]")
    expect(verdict).to_have_attribute("data-verdict", "done")
    expect(page.locator("[data-capability=streams]")).to_contain_text("oui")
    expect(page.locator("[data-capability=opfs]")).to_contain_text("oui")  # Chromium has OPFS
    expect(page.locator("[data-speed=encrypt]")).to_contain_text("Chiffrement :")
    expect(page.locator("[data-speed=upload]")).to_contain_text("Envoi :")
    expect(verdict).to_contain_text("Ce poste")
    assert_accessible(page, context="after the test")


def test_probe_refuses_without_csrf_too_large_and_too_often(client, settings):
    from django.core.cache import cache

    cache.clear()
    url = reverse("tenders_workstation:probe")
    csrf_client = type(client)(enforce_csrf_checks=True)
    assert csrf_client.post(url, data=b"x" * 10, content_type="application/octet-stream").status_code == 403

    too_large = client.generic(
        "POST",
        url,
        data=b"",
        content_type="application/octet-stream",
        CONTENT_LENGTH=str(views_workstation.PROBE_MAX_BYTES + 1),
    )
    assert too_large.status_code == 413
    assert "32 Mo" in too_large.json()["message"]

    for _ in range(views_workstation.PROBE_LIMIT):
        answer = client.post(url, data=b"y" * 1000, content_type="application/octet-stream")
        assert answer.status_code == 200
        assert answer.json() == {"received": 1000}
    refused = client.post(url, data=b"y" * 1000, content_type="application/octet-stream")
    assert refused.status_code == 429
    assert "Trop de mesures" in refused.json()["message"]
    assert client.get(url).status_code == 405
