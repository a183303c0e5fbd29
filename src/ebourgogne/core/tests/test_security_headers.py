"""Security headers on every page, and pages that a strict Content-Security-Policy does not break:
no inline script or style, no asset from another site."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.test import override_settings
from django.urls import reverse

from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import DEMO_PASSWORD, CompanyFactory, give_totp, make_member, make_operator, sign_in

pytestmark = pytest.mark.django_db

PUBLIC_URLS = [
    "/",
    "/aide/",
    "/aide/entreprises/",
    "/aide/acheteurs/",
    "/aide/commission/",
    "/aide/exploitants/",
    "/accessibilite/",
    "/mentions-legales/",
    "/contact/",
    "/comptes/login/",
    "/comptes/signup/",
    "/comptes/password/reset/",
    "/comptes/confirm-email/",
    "/page-inconnue/",
]

SIGNED_IN_NAMES = [
    "accounts:home",
    "accounts:profile",
    "account_email",
    "account_change_password",
    "mfa_index",
    "mfa_view_recovery_codes",
    "mfa_generate_recovery_codes",
    "mfa_deactivate_totp",
    "portal:operator_home",
    "organisations:create_company",
    "organisations:operator_list",
]


class _AssetAudit(HTMLParser):
    """Collects what a strict CSP would block or what would load from elsewhere."""

    ASSET_ATTRS = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src", "video": "src"}

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self._in_script: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, _value in attrs:
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>")
            if name.startswith("on"):
                self.problems.append(f"inline event handler {name} on <{tag}>")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script" and not attributes.get("src"):
            # JSON data blocks (json_script, allauth's settings) are never executed by the browser.
            if attributes.get("type") != "application/json":
                self.problems.append("inline <script>")
        asset_attr = self.ASSET_ATTRS.get(tag)
        if asset_attr:
            url = (attributes.get(asset_attr) or "").strip().lower()
            if url.startswith(("http://", "https://", "//")):
                self.problems.append(f"external asset {url} in <{tag}>")
        for name, value in attrs:
            if name in ("href", "src") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL in <{tag}>")


def audit(html: str) -> list[str]:
    parser = _AssetAudit()
    parser.feed(html)
    return parser.problems


def assert_strict_headers(response, url):
    csp = response.headers.get("Content-Security-Policy", "")
    assert csp, f"{url}: no Content-Security-Policy"
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert directives.get("default-src") == ["'self'"], url
    assert directives.get("script-src") == ["'self'"], url
    assert directives.get("style-src") == ["'self'"], url
    assert directives.get("object-src") == ["'none'"], url
    assert directives.get("frame-ancestors") == ["'none'"], url
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, url
    assert response.headers.get("X-Frame-Options") == "DENY", url
    assert response.headers.get("X-Content-Type-Options") == "nosniff", url
    assert response.headers.get("Referrer-Policy") == "same-origin", url
    assert "camera=()" in response.headers.get("Permissions-Policy", ""), url


def test_the_audit_catches_what_it_must():
    bad = (
        '<script>alert(1)</script><p style="color:red" onclick="x()">t</p><style>p{}</style>'
        '<link rel="stylesheet" href="https://cdn.example/x.css"><script src="//cdn.example/x.js"></script>'
        '<a href="javascript:alert(1)">x</a>'
    )
    assert len(audit(bad)) == 7
    good = '<script src="/static/x.js"></script><script type="application/json">{}</script><a href="https://x.fr">x</a>'
    assert audit(good) == []


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_public_pages_have_strict_headers_and_no_inline_code(client, url):
    response = client.get(url)

    assert response.status_code in (200, 404), url
    assert_strict_headers(response, url)
    assert audit(response.content.decode()) == [], url


def test_signed_in_pages_have_strict_headers_and_no_inline_code(client):
    user = make_operator()
    organisation = CompanyFactory()
    make_member(organisation, Role.COMPANY_ADMIN, user)
    RecoveryCodes.activate(user)
    client.post(reverse("account_login"), {"login": user.email, "password": DEMO_PASSWORD})
    sign_in(client, user)
    client.post(reverse("account_reauthenticate"), {"password": DEMO_PASSWORD})
    urls = [reverse(name) for name in SIGNED_IN_NAMES]
    urls += [reverse("organisations:detail", args=[organisation.slug])]
    urls += [reverse("organisations:members", args=[organisation.slug])]

    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.get("Location"))
        assert_strict_headers(response, url)
        assert audit(response.content.decode()) == [], url
        assert "no-store" in response.headers.get("Cache-Control", ""), url
        assert "private" in response.headers.get("Cache-Control", ""), url


def test_totp_activation_page_shows_its_qr_code_as_a_data_uri_allowed_by_the_csp(client):
    user = make_member(CompanyFactory(), Role.COMPANY_ADMIN, totp=False)
    client.post(reverse("account_login"), {"login": user.email, "password": DEMO_PASSWORD})

    response = client.get(reverse("mfa_activate_totp"))

    assert response.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in response.content.decode()
    assert "img-src 'self' data:" in response.headers["Content-Security-Policy"]
    assert audit(response.content.decode()) == []


def test_anonymous_pages_may_be_cached_but_signed_in_ones_not(client):
    assert "no-store" not in client.get("/aide/").headers.get("Cache-Control", "")
    user = make_member(CompanyFactory(), Role.COMPANY_ADMIN)
    give_totp(user)
    sign_in(client, user)
    assert "no-store" in client.get("/aide/").headers["Cache-Control"]


def _production_settings() -> dict:
    """The security settings as `EBOURGOGNE_PRODUCTION=1` computes them, read in a fresh interpreter."""
    env = dict(os.environ)
    env.update(
        EBOURGOGNE_PRODUCTION="1",
        EBOURGOGNE_SECRET_KEY="x" * 60,
        EBOURGOGNE_ALLOWED_HOSTS="e-bourgogne.example",
        DJANGO_SETTINGS_MODULE="ebourgogne.settings",
    )
    names = [
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "LANGUAGE_COOKIE_SECURE",
        "DEBUG",
    ]
    code = f"import json, ebourgogne.settings as s; print(json.dumps({{n: getattr(s, n, None) for n in {names!r}}}))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)  # noqa: S603
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_production_mode_turns_on_hsts_and_secure_cookies(client):
    production = _production_settings()

    assert production["DEBUG"] is False
    assert production["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production["SECURE_SSL_REDIRECT"] is True
    assert (
        production["SESSION_COOKIE_SECURE"]
        and production["CSRF_COOKIE_SECURE"]
        and production["LANGUAGE_COOKIE_SECURE"]
    )

    hsts = {k: v for k, v in production.items() if k.startswith("SECURE_")}
    with override_settings(**hsts):
        secure = client.get("/aide/", secure=True)
        plain = client.get("/aide/")

    assert secure.status_code == 200
    header = secure.headers["Strict-Transport-Security"]
    assert f"max-age={production['SECURE_HSTS_SECONDS']}" in header
    assert "includeSubDomains" in header
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
