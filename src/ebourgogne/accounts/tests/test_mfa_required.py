"""RequireMFAMiddleware: buyer staff, commission members and operators without TOTP are sent to the
activation page (the API answers a JSON 403); the pages needed to get there stay open; companies are
not forced."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ebourgogne.organisations.roles import MFA_REQUIRED_ROLES, Role
from ebourgogne.testing.factories import (
    DEMO_PASSWORD,
    BuyerFactory,
    CompanyFactory,
    give_totp,
    make_member,
    make_operator,
    sign_in,
)

pytestmark = pytest.mark.django_db

ACTIVATE_URL = "/comptes/2fa/totp/activate/"


def _staff(role: str, *, totp: bool):
    if role == Role.PLATFORM_OPERATOR:
        return make_operator(totp=totp)
    return make_member(BuyerFactory(), role, totp=totp)


def test_activation_url_is_the_one_allauth_serves():
    assert reverse("mfa_activate_totp") == ACTIVATE_URL


@pytest.mark.parametrize("role", sorted(MFA_REQUIRED_ROLES))
def test_staff_without_totp_is_sent_to_the_activation_page_with_a_message(client, role):
    sign_in(client, _staff(role, totp=False))

    response = client.get(reverse("accounts:home"))

    assert response.status_code == 302
    assert response["Location"] == ACTIVATE_URL
    page = client.get(ACTIVATE_URL, follow=True)
    assert page.status_code == 200
    assert "Votre rôle exige la double authentification" in page.content.decode()


@pytest.mark.parametrize("role", sorted(MFA_REQUIRED_ROLES))
def test_staff_with_totp_goes_through(client, role):
    sign_in(client, _staff(role, totp=True))

    assert client.get(reverse("accounts:home")).status_code == 200


@pytest.mark.parametrize("role", [Role.COMPANY_ADMIN, Role.COMPANY_MEMBER])
def test_company_members_are_not_forced(client, role):
    sign_in(client, make_member(CompanyFactory(), role, totp=False))

    response = client.get(reverse("accounts:home"))

    assert response.status_code == 200
    assert "conseillée" in response.content.decode()


def test_a_person_without_organisation_is_not_forced(client):
    from ebourgogne.testing.factories import UserFactory

    sign_in(client, UserFactory())
    assert client.get(reverse("accounts:home")).status_code == 200


def test_a_company_admin_who_is_also_buyer_agent_is_forced(client):
    user = make_member(CompanyFactory(), Role.COMPANY_ADMIN, totp=False)
    make_member(BuyerFactory(), Role.BUYER_AGENT, user, totp=False)
    sign_in(client, user)

    assert client.get(reverse("accounts:home"))["Location"] == ACTIVATE_URL


def test_operator_pages_are_blocked_too(client):
    sign_in(client, make_operator(totp=False))

    assert client.get(reverse("portal:operator_home"))["Location"] == ACTIVATE_URL
    assert client.get("/admin/")["Location"] == ACTIVATE_URL


def test_public_portal_pages_are_blocked_for_staff_without_totp(client):
    sign_in(client, _staff(Role.BUYER_AGENT, totp=False))

    assert client.get(reverse("portal:home"))["Location"] == ACTIVATE_URL


def test_after_a_real_login_the_activation_page_opens_without_asking_the_password_again(client):
    user = _staff(Role.BUYER_AGENT, totp=False)

    login = client.post(reverse("account_login"), {"login": user.email, "password": DEMO_PASSWORD})
    assert login.status_code == 302
    home = client.get(login["Location"])
    assert home["Location"] == ACTIVATE_URL

    page = client.get(ACTIVATE_URL)

    assert page.status_code == 200
    assert "Activer la double authentification" in page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in page.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/comptes/2fa/",
        "/comptes/email/",
        "/comptes/password/change/",
        "/comptes/logout/",
    ],
)
def test_allauth_pages_stay_open(client, url):
    sign_in(client, _staff(Role.BUYER_ADMIN, totp=False))

    response = client.get(url)

    assert response.status_code == 200, url


def test_logout_works(client):
    user = _staff(Role.BUYER_AGENT, totp=False)
    sign_in(client, user)

    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert response["Location"] != ACTIVATE_URL
    assert "_auth_user_id" not in client.session


def test_language_switch_health_probes_and_static_files_stay_open(client):
    sign_in(client, _staff(Role.BUYER_AGENT, totp=False))

    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/aide/"})
    assert switched.status_code == 302 and switched["Location"] == "/aide/"
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code in (200, 503)
    static = client.get("/static/ebourgogne/css/ebourgogne.css")
    assert static.status_code == 200
    b"".join(static.streaming_content)


def test_the_api_answers_a_json_403(client):
    sign_in(client, _staff(Role.BUYER_AGENT, totp=False))

    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "mfa_required"


def test_activating_totp_lifts_the_block(client):
    user = _staff(Role.BUYER_AGENT, totp=False)
    sign_in(client, user)
    assert client.get(reverse("accounts:home")).status_code == 302

    give_totp(user)

    assert client.get(reverse("accounts:home")).status_code == 200


def test_anonymous_visitors_are_not_concerned(client):
    assert client.get(reverse("portal:home")).status_code == 200
    assert client.get(reverse("accounts:home"))["Location"].startswith(reverse("account_login"))


def test_roles_are_read_once_per_request(client):
    """The middleware, the header's organisation switcher and the account page share one query."""
    user = _staff(Role.BUYER_AGENT, totp=True)
    sign_in(client, user)

    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("accounts:home")).status_code == 200

    membership_queries = [q["sql"] for q in queries if "organisations_membership" in q["sql"]]
    assert len(membership_queries) == 1, membership_queries


def test_a_password_proven_long_ago_must_be_given_again(client):
    import time_machine

    user = _staff(Role.BUYER_AGENT, totp=False)
    with time_machine.travel("2026-03-02 09:00 +0100", tick=False):
        assert (
            client.post(reverse("account_login"), {"login": user.email, "password": DEMO_PASSWORD}).status_code == 302
        )
    with time_machine.travel("2026-03-02 09:10 +0100", tick=False):
        response = client.get(ACTIVATE_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
