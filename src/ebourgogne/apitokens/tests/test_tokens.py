"""Personal API tokens: the page, the hash, revocation, expiry, the owner's current roles, inactive owners,
the second factor, and the session that keeps working for the browser."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.test import Client
from django_scopes import scopes_disabled

from ebourgogne.apitokens import services
from ebourgogne.apitokens.auth import RATE_LIMIT
from ebourgogne.apitokens.models import ApiToken
from ebourgogne.audit.models import AuditEvent
from ebourgogne.core import clock
from ebourgogne.organisations.models import Membership
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import ConsultationFactory, UserFactory, make_member, sign_in

pytestmark = pytest.mark.django_db
PAGE = "/compte/jetons-api/"


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def buyer_list(buyer) -> str:
    return f"/api/v1/buyers/{buyer.slug}/consultations"


def create_on_page(client, name="Intégration SIG", expires_on="") -> str:
    response = client.post(PAGE, {"name": name, "expires_on": expires_on})
    assert response.status_code == 201, response.content.decode()[:500]
    found = re.search(r'value="(ebg_[A-Za-z0-9_-]+)"', response.content.decode())
    assert found, "the new token is shown on the answer"
    return found.group(1)


def test_the_page_creates_a_token_shown_once_and_stores_only_its_hash(client, buyer_agent):
    sign_in(client, buyer_agent)
    assert client.get(PAGE).status_code == 200
    secret = create_on_page(client)
    assert secret.startswith("ebg_") and len(secret) == 4 + 43
    token = ApiToken.objects.get(user=buyer_agent)
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[:12] and token.name == "Intégration SIG"
    stored = json.dumps(list(ApiToken.objects.values()), default=str)
    assert secret not in stored
    page = client.get(PAGE).content.decode()
    assert secret not in page and token.prefix in page and "Intégration SIG" in page
    assert AuditEvent.objects.filter(action="account.api_token.created", actor_id=buyer_agent.pk).count() == 1


def test_the_page_refuses_bad_input_and_stores_nothing(client, buyer_agent):
    sign_in(client, buyer_agent)
    assert client.post(PAGE, {"name": "   "}).status_code == 400
    assert client.post(PAGE, {"name": "x", "expires_on": "2001-01-01"}).status_code == 400
    assert client.post(PAGE, {"name": "x", "expires_on": "pas une date"}).status_code == 400
    assert client.post(PAGE, {"name": "x" * 101}).status_code == 400
    assert not ApiToken.objects.exists()


def test_signed_out_visitors_are_sent_to_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/connexion" in response["Location"] or "login" in response["Location"]


def test_the_page_needs_the_second_factor_when_the_role_requires_it(client, buyer):
    agent = make_member(buyer, Role.BUYER_AGENT, totp=False)
    sign_in(client, agent)
    response = client.get(PAGE)
    assert response.status_code == 302 and "/mfa/" in response["Location"] or "totp" in response["Location"]
    assert client.post(PAGE, {"name": "x"}).status_code == 302
    assert not ApiToken.objects.exists()


def test_a_company_member_without_second_factor_may_create_one(client, company_member):
    sign_in(client, company_member)
    create_on_page(client)
    assert ApiToken.objects.filter(user=company_member).count() == 1


def test_the_token_acts_as_its_owner_with_the_roles_of_the_moment(buyer, buyer_agent):
    ConsultationFactory(organisation=buyer, reference="BROUILLON-1")
    _token, secret = services.token_create(user=buyer_agent, name="script")
    api = Client()
    response = api.get(buyer_list(buyer), **bearer(secret))
    assert response.status_code == 200
    assert [item["reference"] for item in response.json()["items"]] == ["BROUILLON-1"]
    with scopes_disabled():
        Membership.objects.filter(user=buyer_agent, organisation=buyer).delete()
    response = api.get(buyer_list(buyer), **bearer(secret))
    assert response.status_code == 404  # no longer a member: the organisation is not revealed
    make_member(buyer, Role.COMMISSION_MEMBER, buyer_agent)
    assert api.get(buyer_list(buyer), **bearer(secret)).status_code == 403


def test_revoked_expired_unknown_and_malformed_tokens_get_401_with_a_reason(client, buyer, buyer_agent):
    sign_in(client, buyer_agent)
    secret = create_on_page(client, expires_on=(clock.today_local() + dt.timedelta(days=2)).isoformat())
    api = Client()
    assert api.get(buyer_list(buyer), **bearer(secret)).status_code == 200
    token = ApiToken.objects.get(user=buyer_agent)
    assert token.last_used_at is not None

    with time_machine.travel(clock.now() + dt.timedelta(days=3)):
        response = api.get(buyer_list(buyer), **bearer(secret))
        assert response.status_code == 401
        assert response.json() == {"detail": "Ce jeton d'API a expiré.", "code": "token_expired"}

    response = client.post(f"{PAGE}{token.pk}/revoquer/")
    assert response.status_code == 302
    response = api.get(buyer_list(buyer), **bearer(secret))
    assert response.status_code == 401 and response.json()["code"] == "token_revoked"
    assert AuditEvent.objects.filter(action="account.api_token.revoked").count() == 1

    response = api.get(buyer_list(buyer), **bearer("ebg_" + "x" * 43))
    assert response.status_code == 401 and response.json()["code"] == "token_invalid"
    response = api.get(buyer_list(buyer), HTTP_AUTHORIZATION="Token abc")
    assert response.status_code == 401 and response.json()["code"] == "authorization_invalid"
    response = api.get(buyer_list(buyer), **bearer(secret), HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()["detail"] == "This API token has been revoked."


def test_nobody_revokes_someone_elses_token(client, buyer_agent, company_member):
    token, _secret = services.token_create(user=company_member, name="à moi")
    sign_in(client, buyer_agent)
    assert client.post(f"{PAGE}{token.pk}/revoquer/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_token_of_an_inactive_account_is_refused(buyer, buyer_agent):
    _token, secret = services.token_create(user=buyer_agent, name="script")
    buyer_agent.is_active = False
    buyer_agent.save(update_fields=["is_active"])
    response = Client().get(buyer_list(buyer), **bearer(secret))
    assert response.status_code == 401 and response.json()["code"] == "account_inactive"


def test_the_token_is_refused_when_the_required_second_factor_is_gone(buyer, buyer_agent):
    _token, secret = services.token_create(user=buyer_agent, name="script")
    Authenticator.objects.filter(user=buyer_agent).delete()
    response = Client().get(buyer_list(buyer), **bearer(secret))
    assert response.status_code == 403 and response.json()["code"] == "mfa_required"


def test_anonymous_calls_to_buyer_operations_get_401(buyer):
    response = Client().get(buyer_list(buyer))
    assert response.status_code == 401 and response.json()["code"] == "authentication_required"


def test_the_browser_session_still_works_and_its_writes_need_the_csrf_token(buyer, buyer_agent):
    browser = Client(enforce_csrf_checks=True)
    sign_in(browser, buyer_agent)
    assert browser.get(buyer_list(buyer)).status_code == 200
    data = json.dumps({"reference": "CSRF-1", "title": "Essai", "contract_type": "works", "procedure": "open"})
    response = browser.post(buyer_list(buyer), data, content_type="application/json")
    assert response.status_code == 403 and response.json()["code"] == "csrf_failed"
    # A token needs no CSRF token: it is not a cookie the browser sends by itself.
    _token, secret = services.token_create(user=buyer_agent, name="script")
    api = Client(enforce_csrf_checks=True)
    response = api.post(buyer_list(buyer), data, content_type="application/json", **bearer(secret))
    assert response.status_code == 201, response.content


def test_too_many_calls_with_one_token_get_429(buyer, buyer_agent, monkeypatch):
    from ebourgogne.apitokens import auth

    monkeypatch.setattr(auth, "RATE_LIMIT", 3)
    _token, secret = services.token_create(user=buyer_agent, name="script")
    api = Client()
    with time_machine.travel(dt.datetime(2027, 3, 1, 10, 0, 5, tzinfo=dt.UTC), tick=False):
        statuses = [api.get(buyer_list(buyer), **bearer(secret)).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert RATE_LIMIT >= 100


def test_active_tokens_are_limited(buyer_agent):
    for number in range(services.MAX_ACTIVE_TOKENS):
        services.token_create(user=buyer_agent, name=f"jeton {number}")
    with pytest.raises(services.DomainError):
        services.token_create(user=buyer_agent, name="un de trop")


def test_a_token_of_someone_else_never_mixes_with_a_session(client, buyer, buyer_agent, outsider):
    """A request with a token is judged on the token alone, even with another person's session."""
    _token, secret = services.token_create(user=outsider, name="script")
    sign_in(client, buyer_agent)
    assert client.get(buyer_list(buyer), **bearer(secret)).status_code == 404
    assert UserFactory  # the factory module is loaded for the fixtures above
