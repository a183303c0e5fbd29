"""Browser tests: Playwright (sync API) driving Debian's Chromium against pytest-django's live server,
with axe-core injected to check accessibility.

Fixtures:
- `chromium_browser` (session): the browser, or a loud skip when /usr/bin/chromium is missing
  (`apt-get install chromium`; Playwright's own browser download does not work here).
- `browser_page`: a fresh context and page (French, 1280×900) whose `base_url` is the live server.
  Every page load is watched: a Content-Security-Policy violation or a JavaScript error fails the test.
- `browser_sign_in(page, user)`: puts a signed-in session (as after password and TOTP) into the page's
  cookies, to start a test from a signed-in state without going through the login form.

Helpers:
- `assert_accessible(page)`: runs axe-core (WCAG 2.0/2.1 A and AA rules and best practices) on the page
  and fails on any violation of impact "serious" or "critical", listing them.
- `totp_code(secret)`: the current code of a TOTP authenticator.

These tests need a database reachable from the live server's thread: mark them
`@pytest.mark.django_db(transaction=True)` and `@pytest.mark.browser`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_SOURCE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING_IMPACTS = ("serious", "critical")
# Actions, navigations and `expect` assertions wait this long: the CI machine has two cores, shared by two
# test processes, each with its live server and Chromium (Playwright's own `expect` default is 5 s).
TIMEOUT_MS = 20_000


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"BROWSER TESTS SKIPPED: {CHROMIUM} is missing. Install Debian's Chromium: apt-get install -y chromium"
        )
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)

    # Playwright's sync API runs an event loop in this thread; Django would then refuse ORM calls made by
    # the test itself (creating users, reading mail...). They are plain synchronous calls: allow them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class PageProblems:
    """CSP violations and script errors seen while the page was open."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def console(self, message: Any) -> None:
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Refused to" in text):
            self.items.append(f"CSP: {text}")

    def page_error(self, error: Any) -> None:
        self.items.append(f"JavaScript error: {error}")


@pytest.fixture
def browser_page(chromium_browser, live_server) -> Iterator[Any]:
    from django.core.cache import cache

    # Rate limits (sign-up, login) count per IP address in the cache, and every test comes from 127.0.0.1:
    # start each browser test with a clean slate, as a real visitor would.
    cache.clear()
    context = chromium_browser.new_context(
        base_url=live_server.url, locale="fr-FR", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems = PageProblems()
    page.on("console", problems.console)
    page.on("pageerror", problems.page_error)
    page.problems = problems  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        context.close()
    assert problems.items == [], "\n".join(problems.items)


def _axe_loaded(page: Any) -> bool:
    return bool(page.evaluate("() => typeof window.axe !== 'undefined'"))


def assert_accessible(page: Any, *, context: str = "") -> None:
    """Fail on any serious or critical axe-core violation on the current page."""
    page.wait_for_load_state("load")
    if not _axe_loaded(page):
        # Evaluated through the DevTools protocol, not as an inline script: the page's CSP stays strict.
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8") + "\n;true")
    results = page.evaluate(
        "tags => window.axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    violations = [v for v in results["violations"] if v.get("impact") in FAILING_IMPACTS]
    if violations:
        lines = [f"Accessibility violations on {page.url} {context}".rstrip()]
        for violation in violations:
            lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
            for node in violation["nodes"][:5]:
                lines.append(f"    {', '.join(map(str, node['target']))}: {node.get('failureSummary', '')[:300]}")
        pytest.fail("\n".join(lines))
    problems = getattr(page, "problems", None)
    if problems is not None and problems.items:
        pytest.fail("\n".join(problems.items))


def totp_code(secret: str, *, at: float | None = None) -> str:
    """The TOTP code of `secret` at time `at` (now by default), as an authenticator app shows it."""
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    counter = int(time.time() if at is None else at) // app_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))


@pytest.fixture
def browser_sign_in(live_server):
    """Sign `user` in inside the browser page (session cookie of a fully authenticated login)."""

    def sign_in(page: Any, user: Any) -> None:
        from django.conf import settings
        from django.test import Client

        from ebourgogne.testing.factories import sign_in as client_sign_in

        client = client_sign_in(Client(), user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
        )

    return sign_in
