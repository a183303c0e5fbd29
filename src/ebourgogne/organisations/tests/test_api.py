"""/api/v1/organisations: session authentication with CSRF, schemas, and the error statuses."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from ebourgogne.organisations.models import Invitation
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import sign_in

pytestmark = pytest.mark.django_db


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def test_my_organisations(client, buyer, buyer_admin, company):
    from ebourgogne.testing.factories import make_member

    make_member(company, Role.COMPANY_MEMBER, buyer_admin)
    sign_in(client, buyer_admin)
    body = client.get("/api/v1/organisations/").json()
    assert [(item["slug"], item["kind"], item["roles"]) for item in body] == [
        ("commune-de-beaune", "buyer", [Role.BUYER_ADMIN]),
        ("menuiserie-bourguignonne", "company", [Role.COMPANY_MEMBER]),
    ]
    assert body[1]["siren"] == company.siren and body[1]["naf_code"] == "43.32A"


def test_signed_out_callers_get_401(client, buyer):
    assert client.get("/api/v1/organisations/").status_code == 401
    assert client.get(f"/api/v1/organisations/{buyer.slug}").status_code == 401
    assert post_json(client, f"/api/v1/organisations/{buyer.slug}/invitations", {}).status_code == 401


def test_one_organisation_and_its_members(client, buyer, buyer_admin, buyer_agent, outsider):
    sign_in(client, buyer_agent)
    detail = client.get(f"/api/v1/organisations/{buyer.slug}")
    assert detail.status_code == 200
    assert detail.json()["name"] == "Commune de Beaune" and detail.json()["roles"] == [Role.BUYER_AGENT]
    members = client.get(f"/api/v1/organisations/{buyer.slug}/members").json()
    assert {(member["email"], tuple(member["roles"])) for member in members} == {
        (buyer_admin.email, (Role.BUYER_ADMIN,)),
        (buyer_agent.email, (Role.BUYER_AGENT,)),
    }
    sign_in(client, outsider)
    response = client.get(f"/api/v1/organisations/{buyer.slug}")
    assert response.status_code == 404 and response.json() == {"detail": "Organisation introuvable."}
    assert client.get("/api/v1/organisations/nexiste-pas").status_code == 404


def test_inviting_through_the_api(client, buyer, buyer_admin, buyer_agent):
    url = f"/api/v1/organisations/{buyer.slug}/invitations"
    sign_in(client, buyer_agent)
    response = post_json(client, url, {"email": "api@exemple.test", "role": Role.BUYER_AGENT})
    assert response.status_code == 403
    assert "ne permet pas" in response.json()["detail"]

    sign_in(client, buyer_admin)
    response = post_json(client, url, {"email": "API@exemple.test", "role": Role.BUYER_AGENT})
    assert response.status_code == 201
    body = response.json()
    assert (body["email"], body["role"], body["status"]) == ("api@exemple.test", Role.BUYER_AGENT, "pending")

    response = post_json(client, url, {"email": "pas-une-adresse", "role": "company_admin"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"email", "role"}
    response = post_json(client, url, {})
    assert response.status_code == 400 and "email" in response.json()["errors"]
    with scopes_disabled():
        assert Invitation.objects.filter(organisation=buyer).count() == 1


def test_errors_in_english(client, buyer, buyer_admin):
    sign_in(client, buyer_admin)
    client.cookies["ebourgogne_language"] = "en"
    response = post_json(
        client, f"/api/v1/organisations/{buyer.slug}/invitations", {"email": "x", "role": "buyer_agent"}
    )
    assert response.status_code == 400
    assert response.json()["errors"]["email"] == ["Enter a valid e-mail address, for example marie.dupont@example.org."]


def test_csrf_is_checked_for_session_callers(buyer, buyer_admin):
    client = Client(enforce_csrf_checks=True)
    sign_in(client, buyer_admin)
    url = f"/api/v1/organisations/{buyer.slug}/invitations"
    response = post_json(client, url, {"email": "csrf@exemple.test", "role": Role.BUYER_AGENT})
    assert response.status_code == 403
    client.get(f"/organisations/{buyer.slug}/membres/inviter/")  # a page with a form sets the CSRF cookie
    token = client.cookies["ebourgogne_csrftoken"].value
    response = client.post(
        url,
        json.dumps({"email": "csrf@exemple.test", "role": Role.BUYER_AGENT}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 201
    with scopes_disabled():
        assert Invitation.objects.filter(email="csrf@exemple.test").count() == 1


def test_the_schema_documents_the_operations(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/organisations/{org_slug}/invitations"]["post"]
    assert {"201", "400", "401", "403", "404"} <= set(operation["responses"])


def test_a_personal_api_token_lists_and_invites_without_csrf(buyer, buyer_admin, buyer_agent):
    """Software of the buyer works with a token: no session, no CSRF token; the owner's roles apply."""
    from ebourgogne.apitokens.services import token_create

    _token, secret = token_create(user=buyer_admin, name="annuaire")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", enforce_csrf_checks=True)
    assert [item["slug"] for item in api.get("/api/v1/organisations/").json()] == [buyer.slug]
    response = api.post(
        f"/api/v1/organisations/{buyer.slug}/invitations",
        json.dumps({"email": "nouvel.agent@example.org", "role": Role.BUYER_AGENT}),
        content_type="application/json",
    )
    assert response.status_code in (200, 201), response.content
    with scopes_disabled():
        assert Invitation.objects.filter(organisation=buyer, email="nouvel.agent@example.org").exists()
    _token, agents = token_create(user=buyer_agent, name="agent")
    agent_api = Client(HTTP_AUTHORIZATION=f"Bearer {agents}")
    refused = agent_api.post(
        f"/api/v1/organisations/{buyer.slug}/invitations",
        json.dumps({"email": "autre@example.org", "role": Role.BUYER_AGENT}),
        content_type="application/json",
    )
    assert refused.status_code == 403
