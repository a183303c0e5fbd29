"""What every page knows about the signed-in person (organisations, roles, authenticator app) is read on
each request and kept on that request only: a change shows on the very next request, in every session."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import reverse

from ebourgogne.accounts import current
from ebourgogne.organisations.roles import Role
from ebourgogne.organisations.services import member_remove
from ebourgogne.testing.factories import DEMO_PASSWORD, BuyerFactory, CompanyFactory, make_member, sign_in

pytestmark = pytest.mark.django_db

ACTIVATE_URL = "/comptes/2fa/totp/activate/"


def switcher(client: Client) -> str:
    """The organisation switcher of the account page's header ("" when there is none)."""
    page = client.get(reverse("accounts:home"))
    assert page.status_code == 200
    html = page.content.decode()
    start = html.find('<details class="org-switcher">')
    return "" if start < 0 else html[start : html.index("</details>", start)]


def test_a_removed_member_loses_the_organisation_in_the_navigation_at_once():
    company = CompanyFactory(name="Menuiserie Rameau")
    admin = make_member(company, Role.COMPANY_ADMIN)
    member = make_member(company, Role.COMPANY_MEMBER)
    other = make_member(CompanyFactory(name="Charpentes Vernier"), Role.COMPANY_ADMIN, member)
    first, second = sign_in(Client(), member), sign_in(Client(), other)
    assert "Menuiserie Rameau" in switcher(first) and "Menuiserie Rameau" in switcher(second)

    member_remove(acting_user=admin, organisation=company, user=member)

    for client in (first, second):
        assert "Menuiserie Rameau" not in switcher(client)
        assert "Charpentes Vernier" in switcher(client)
        assert client.get(reverse("organisations:detail", args=[company.slug])).status_code == 404


def test_a_role_granted_shows_at_once_and_a_staff_role_asks_for_mfa_at_once(client):
    person = make_member(CompanyFactory(), Role.COMPANY_MEMBER)
    sign_in(client, person)
    assert "Mairie de Semur" not in switcher(client)

    make_member(BuyerFactory(name="Mairie de Semur"), Role.BUYER_AGENT, person, totp=False)

    response = client.get(reverse("accounts:home"))
    assert response.status_code == 302 and response["Location"] == ACTIVATE_URL


def test_staff_who_remove_their_authenticator_app_are_sent_back_to_mfa_set_up():
    agent = make_member(BuyerFactory(), Role.BUYER_AGENT, totp=True)
    first, second = sign_in(Client(), agent), sign_in(Client(), agent)
    for client in (first, second):
        assert client.get(reverse("accounts:home")).status_code == 200

    # Through allauth's own pages, as the person would: password again, then "deactivate".
    assert first.post(reverse("account_reauthenticate"), {"password": DEMO_PASSWORD}).status_code == 302
    removed = first.post(reverse("mfa_deactivate_totp"))
    assert removed.status_code == 302 and removed["Location"] == reverse("mfa_index")
    assert not Authenticator.objects.filter(user=agent, type=Authenticator.Type.TOTP).exists()

    for client in (first, second):
        response = client.get(reverse("accounts:home"))
        assert response.status_code == 302 and response["Location"] == ACTIVATE_URL
        assert client.get(reverse("portal:home"))["Location"] == ACTIVATE_URL


def test_the_answers_are_kept_on_the_request_only(rf):
    from django.contrib.auth.models import AnonymousUser

    agent = make_member(BuyerFactory(name="Communauté de Montbard"), Role.BUYER_AGENT, totp=True)
    request = _with_user(rf, agent)
    assert [organisation.name for organisation, _roles in current.organisations(request)] == ["Communauté de Montbard"]
    assert current.roles(request) == {Role.BUYER_AGENT}
    assert current.has_totp(request) is True

    Authenticator.objects.filter(user=agent).delete()
    assert current.has_totp(request) is True  # same request: read once
    assert current.has_totp(_with_user(rf, agent)) is False  # the next request reads again

    visitor = rf.get("/")
    visitor.user = AnonymousUser()
    assert current.organisations(visitor) == [] and current.roles(visitor) == set() and not current.has_totp(visitor)


def _with_user(rf, user):
    request = rf.get("/")
    request.user = user
    return request


def test_the_person_their_organisations_and_totp_state_are_read_in_one_query():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ebourgogne.organisations.selectors import organisations_of
    from ebourgogne.testing.factories import UserFactory

    person = make_member(CompanyFactory(name="Scierie Lambert"), Role.COMPANY_ADMIN)
    make_member(BuyerFactory(name="Ville d'Avallon"), Role.BUYER_AGENT, person, totp=True)
    make_member(BuyerFactory(name="Ville d'Avallon (ancienne)", is_active=False), Role.BUYER_ADMIN, person)
    nobody = UserFactory()

    with CaptureQueriesContext(connection) as queries:
        user, found, totp = current.load_user(person.pk)
    assert len(queries) == 1
    assert user == person and totp is True
    assert [(o.pk, roles) for o, roles in found] == [(o.pk, roles) for o, roles in organisations_of(user=person)]
    assert [o.name for o, _roles in found] == ["Scierie Lambert", "Ville d'Avallon"]
    assert current.load_user(nobody.pk)[1:] == ([], False)
    assert current.load_user(nobody.pk + 1000) == (None, [], False)
