"""In Chromium: the timestamp authority's page (/horodatage/) is accessible (axe-core), at full width and
at 320 px, and its root certificate downloads as the PEM published there."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ebourgogne.testing.browser import assert_accessible
from ebourgogne.timestamping import authority as tsa

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_certificates_page(browser_page):
    page = browser_page
    root = tsa.get_authority().root  # made (keys generated) before the page is asked for
    page.goto("/horodatage/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Autorité d'horodatage")
    expect(page.get_by_text(tsa.fingerprint(root))).to_have_count(1)
    assert_accessible(page, context="certificates")
    with page.expect_download() as download:
        page.get_by_role("link", name="Certificat racine").click()
    content = open(download.value.path(), "rb").read()  # noqa: PTH123
    assert tsa.load_pem_certificates(content)[0].dump() == root.dump()
    page.set_viewport_size({"width": 320, "height": 800})
    assert_accessible(page, context="320 px")
