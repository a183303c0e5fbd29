"""The browser-test tools themselves: axe-core finds real violations, and the strict CSP really blocks
inline scripts in Chromium (so that a clean run of the other browser tests means something)."""

from __future__ import annotations

import pytest

from ebourgogne.testing.browser import assert_accessible, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_axe_reports_serious_and_critical_violations(browser_page):
    browser_page.set_content(
        '<!doctype html><html lang="fr"><head><title>t</title></head><body><main><h1>t</h1>'
        '<img src="/static/ebourgogne/img/favicon.svg"><input type="text"></main></body></html>'
    )

    with pytest.raises(pytest.fail.Exception) as failure:
        assert_accessible(browser_page)

    assert "image-alt" in str(failure.value)
    assert "label" in str(failure.value)


def test_the_csp_blocks_inline_scripts_and_the_fixture_notices(browser_page):
    browser_page.goto("/")
    browser_page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1'; "
        "document.body.appendChild(s); }"
    )

    assert browser_page.evaluate("() => window.injected") is None
    assert any("CSP" in problem for problem in browser_page.problems.items)
    browser_page.problems.items.clear()


def test_htmx_loads_under_the_csp_without_injecting_styles(browser_page):
    browser_page.goto("/")

    assert browser_page.evaluate("() => typeof window.htmx") == "object"
    assert browser_page.evaluate("() => htmx.config.includeIndicatorStyles") is False
    assert browser_page.evaluate("() => document.querySelectorAll('style').length") == 0


def test_totp_code_matches_allauth():
    from allauth.mfa.totp.internal.auth import generate_totp_secret, validate_totp_code

    secret = generate_totp_secret()

    assert validate_totp_code(secret, totp_code(secret))
