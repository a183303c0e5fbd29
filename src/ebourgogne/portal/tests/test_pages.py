"""The portal's pages: public pages, help per audience, the operator's home."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse

from ebourgogne.organisations.roles import Role
from ebourgogne.portal.help import AUDIENCES
from ebourgogne.testing.factories import BuyerFactory, make_member, make_operator, sign_in

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = ["portal:home", "portal:help", "portal:accessibility", "portal:legal", "portal:contact"]


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_pages_open_to_everyone(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 200
    assert "<h1>" in response.content.decode() or "<h1 " in response.content.decode()


def test_footer_links_the_accessibility_statement_legal_notice_and_contact(client):
    page = client.get(reverse("portal:home")).content.decode()

    assert "Accessibilité : partiellement conforme" in page
    for name in ("portal:accessibility", "portal:legal", "portal:contact"):
        assert f'href="{reverse(name)}"' in page


def test_home_offers_the_consultation_search(client):
    page = client.get(reverse("portal:home")).content.decode()

    assert "Rechercher une consultation" in page
    assert f'action="{reverse("search:search")}"' in page
    assert 'type="search"' in page and 'name="q"' in page
    assert f'href="{reverse("search:search")}"' in page  # also in the navigation


@pytest.mark.parametrize("role", ["entreprises", "acheteurs", "commission", "exploitants"])
def test_help_for_each_audience(client, role):
    response = client.get(reverse("portal:help_role", args=[role]))

    assert response.status_code == 200
    assert str(AUDIENCES[role].title) in response.content.decode()


def test_help_for_an_unknown_audience_is_a_404(client):
    assert client.get(reverse("portal:help_role", args=["inconnu"])).status_code == 404


def test_buyer_help_says_mfa_is_required_and_company_help_says_it_is_recommended(client):
    buyers = client.get(reverse("portal:help_role", args=["acheteurs"])).content.decode()
    companies = client.get(reverse("portal:help_role", args=["entreprises"])).content.decode()

    assert "Double authentification (obligatoire)" in buyers
    assert "Double authentification (conseillée)" in companies


def test_operator_home_is_hidden_from_anyone_else(client):
    assert client.get(reverse("portal:operator_home"))["Location"].startswith(reverse("account_login"))
    sign_in(client, make_member(BuyerFactory(), Role.BUYER_ADMIN))
    assert client.get(reverse("portal:operator_home")).status_code == 404


def test_operator_home_links_the_operator_tools_that_exist(client):
    sign_in(client, make_operator())

    response = client.get(reverse("portal:operator_home"))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="/admin/"' in page
    found = 0
    for name in (
        "organisations:operator_list",
        "organisations:operator_create_buyer",
        "audit:operator_events",
        "notifications:outbox",
    ):
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        found += 1
        assert f'href="{url}"' in page, name
    assert found >= 2  # organisations' pages exist in this issue


def test_the_operator_menu_shows_for_operators_only(client):
    operator_link = f'href="{reverse("portal:operator_home")}"'
    sign_in(client, make_member(BuyerFactory(), Role.BUYER_ADMIN))
    assert operator_link not in client.get(reverse("portal:home")).content.decode()

    sign_in(client, make_operator())
    assert operator_link in client.get(reverse("portal:home")).content.decode()


def test_signed_in_members_get_the_organisation_switcher(client):
    buyer = BuyerFactory(name="Commune de Meursault")
    sign_in(client, make_member(buyer, Role.BUYER_AGENT))

    page = client.get(reverse("portal:home")).content.decode()

    assert 'class="org-switcher"' in page
    assert "Commune de Meursault" in page
    assert f'href="{reverse("organisations:detail", args=[buyer.slug])}"' in page
