"""What each request no longer recomputes gives what Django would: session data verified once per signed
string (core.sessions), the CSRF mask from a table (core.csrf), the CSP header kept per policy
(core.csp), fragment inputs read directly (templatetags), a page of one fragment rendered without the
context processors (core.layout.render_fragment_page)."""

from __future__ import annotations

import re
import secrets

import pytest
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.middleware import csp as csp_middleware
from django.middleware import csrf as django_csrf
from django.shortcuts import render
from django.template import Context, Template, TemplateSyntaxError
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils.csp import CSP, LazyNonce
from django.utils.csp import build_policy as djangos_build_policy

from ebourgogne.accounts.authentication import get_user
from ebourgogne.core import csp, csrf, sessions
from ebourgogne.core.layout import render_fragment_page
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import CompanyFactory, make_member, sign_in

TOKEN = re.compile(r'value="([A-Za-z0-9]{64})"')


# --- Session data verified once per signed string ---------------------------------------------------------


@pytest.mark.django_db
def test_each_request_gets_its_own_session_data_from_a_string_verified_once():
    store = sessions.SessionStore()
    store.update({"panier": {"lots": [1, 2]}, "langue": "fr"})
    store.create()
    first = sessions.SessionStore(store.session_key)
    first["panier"]["lots"].append(3)  # changed in place, not saved: must not reach another request
    assert first["langue"] == "fr"
    second = sessions.SessionStore(store.session_key)
    assert second["panier"] == {"lots": [1, 2]}
    assert second.load() == DjangoSessionStore().decode(store.encode({"panier": {"lots": [1, 2]}, "langue": "fr"}))


def test_a_bad_signature_is_an_empty_session_and_is_not_kept(caplog):
    store = sessions.SessionStore()
    signed = store.encode({SESSION_KEY: "1"})
    forged = signed[:-1] + ("A" if signed[-1] != "A" else "B")
    with caplog.at_level("WARNING", logger="django.security.SuspiciousSession"):
        assert store.decode(forged) == {}
        assert store.decode(forged) == {}
    assert [record.message for record in caplog.records] == ["Session data corrupted"] * 2
    assert all(data != forged for _salt, data in sessions._VERIFIED)
    assert store.decode("not signed at all") == {}


def test_session_data_signed_with_another_key_is_refused_even_when_verified_before():
    store = sessions.SessionStore()
    signed = store.encode({SESSION_KEY: "7"})
    assert store.decode(signed) == {SESSION_KEY: "7"}
    with override_settings(SECRET_KEY="another-" + secrets.token_urlsafe(40)):
        assert store.decode(signed) == {}
    assert store.decode(signed) == {SESSION_KEY: "7"}


@pytest.mark.django_db
def test_a_session_whose_password_hash_no_longer_matches_still_signs_out():
    person = make_member(CompanyFactory(), Role.COMPANY_MEMBER)
    store = sessions.SessionStore()
    store.update(
        {
            SESSION_KEY: str(person.pk),
            "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: person.get_session_auth_hash(),
        }
    )
    store.create()
    request = RequestFactory().get("/")
    request.session = sessions.SessionStore(store.session_key)
    assert get_user(request) == person
    person.set_password("un autre mot de passe 2026")
    person.save()
    request = RequestFactory().get("/")
    request.session = sessions.SessionStore(store.session_key)
    assert not get_user(request).is_authenticated


# --- CSRF mask ------------------------------------------------------------------------------------------


def _djangos_mask(secret: str, mask: str) -> str:
    chars = django_csrf.CSRF_ALLOWED_CHARS
    pairs = zip((chars.index(x) for x in secret), (chars.index(x) for x in mask), strict=True)
    return mask + "".join(chars[(x + y) % len(chars)] for x, y in pairs)


def test_the_csrf_mask_is_djangos_and_django_unmasks_it():
    assert django_csrf._mask_cipher_secret is csrf.mask_cipher_secret
    for _ in range(500):
        secret, mask = csrf.new_csrf_string(), csrf.new_csrf_string()
        assert csrf.mask_with(secret, mask) == _djangos_mask(secret, mask)
    every = django_csrf.CSRF_ALLOWED_CHARS
    assert csrf.mask_with(every[:32], every[30:]) == _djangos_mask(every[:32], every[30:])
    secret = csrf.new_csrf_string()
    tokens = {csrf.mask_cipher_secret(secret) for _ in range(50)}
    assert len(tokens) == 50
    assert all(django_csrf._unmask_cipher_token(token) == secret for token in tokens)


@pytest.mark.django_db
def test_a_form_posted_with_the_pages_masked_token_passes_and_a_wrong_one_does_not():
    person = make_member(CompanyFactory(), Role.COMPANY_MEMBER)
    client = Client(enforce_csrf_checks=True)
    sign_in(client, person)
    page = client.get(reverse("accounts:profile")).content.decode()
    token = TOKEN.search(page)[1]
    data = {"full_name": "Hugo Masson", "language": "fr"}
    assert client.post(reverse("accounts:profile"), {**data, "csrfmiddlewaretoken": token}).status_code == 302
    wrong = csrf.mask_cipher_secret(csrf.new_csrf_string())
    assert client.post(reverse("accounts:profile"), {**data, "csrfmiddlewaretoken": wrong}).status_code == 403


# --- CSP header kept per policy -------------------------------------------------------------------------


def test_the_csp_header_is_djangos_and_follows_the_settings(settings):
    assert csp_middleware.build_policy is csp.build_policy
    assert csp.build_policy(settings.SECURE_CSP) == djangos_build_policy(settings.SECURE_CSP)
    assert csp.build_policy(settings.SECURE_CSP, LazyNonce()) == djangos_build_policy(settings.SECURE_CSP)
    with override_settings(SECURE_CSP={"default-src": [CSP.SELF], "script-src": [CSP.SELF, CSP.NONCE]}):
        from django.conf import settings as current

        assert csp.build_policy(current.SECURE_CSP) == "default-src 'self'; script-src 'self'"
        used = LazyNonce()
        value = str(used)
        assert csp.build_policy(current.SECURE_CSP, used) == f"default-src 'self'; script-src 'self' 'nonce-{value}'"
        other = LazyNonce()
        str(other)
        assert f"'nonce-{other}'" in csp.build_policy(current.SECURE_CSP, other)


@pytest.mark.django_db
def test_pages_carry_the_csp_header(client):
    from django.conf import settings as current

    for _ in range(2):
        response = client.get("/")
        assert response["Content-Security-Policy"] == djangos_build_policy(current.SECURE_CSP)


# --- Fragment inputs and pages of one fragment ----------------------------------------------------------


def test_fragment_inputs_read_directly_resolve_as_django_does():
    template = Template(
        "{% load ebourgogne_fragments %}{% fragment a=a b=b c=c d=missing %}{{ a }}|{{ b }}|{{ c }}|{{ d }}|"
        "{% slot e %}|{% slot f %}{% endfragment %}"
    )
    context = {"a": "x", "b": lambda: 3, "c": None, "e": "<i>", "f": lambda: "appelé"}
    assert template.render(Context(context)) == "x|3|None||&lt;i&gt;|appelé"


@pytest.mark.django_db
def test_the_account_page_is_the_same_as_rendered_with_the_context_processors(client):
    company = CompanyFactory(name="Tonnellerie <Nuits>")
    person = make_member(company, Role.COMPANY_ADMIN, totp=False)
    sign_in(client, person)
    captured = {}
    from ebourgogne.accounts import views

    def both(request, template_name, context):
        captured["plain"] = render_fragment_page(request, template_name, context).content.decode()
        response = render(request, template_name, context)
        captured["render"] = response.content.decode()
        return response

    original = views.render_fragment_page
    views.render_fragment_page = both
    try:
        page = client.get(reverse("accounts:home"))
    finally:
        views.render_fragment_page = original
    assert page.status_code == 200
    assert "Tonnellerie &lt;Nuits&gt;" in captured["plain"]
    # The same page but for the CSRF token, masked anew each time.
    masked = re.compile(r"\b[A-Za-z0-9]{64}\b")
    assert masked.sub("", captured["plain"]) == masked.sub("", captured["render"])
    assert TOKEN.search(captured["plain"])


@pytest.mark.django_db
def test_the_account_page_still_shows_a_waiting_message_once(client):
    person = make_member(CompanyFactory(), Role.COMPANY_MEMBER)
    sign_in(client, person)
    client.post(reverse("accounts:profile"), {"full_name": "Élise Morel", "language": "fr"})
    first = client.get(reverse("accounts:home")).content.decode()
    assert "Vos informations ont été enregistrées." in first
    second = client.get(reverse("accounts:home")).content.decode()
    assert "Vos informations ont été enregistrées." not in second


def test_a_template_that_is_not_one_fragment_is_refused(rf):
    request = rf.get("/")
    request.user = None
    with pytest.raises(TemplateSyntaxError):
        render_fragment_page(request, "base.html", {})


@pytest.mark.django_db
def test_organisation_names_are_escaped_in_the_switcher_and_the_table_as_django_escapes(client):
    from django.utils.html import escape

    name = """Bois & Fer <"l'atelier">"""
    person = make_member(CompanyFactory(name=name), Role.COMPANY_ADMIN, totp=False)
    sign_in(client, person)
    page = client.get(reverse("accounts:home")).content.decode()
    assert name not in page
    assert page.count(f"{escape(name)}</a></th>") == 1  # the table of the account page
    assert page.count(f'{escape(name)} <span class="org-role">') == 1  # the header's switcher
    assert "Mes organisations" in page
