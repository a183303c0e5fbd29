"""GET /api/v1/audit/{org_slug}/events: access, filters, cursor pagination."""

from __future__ import annotations

import pytest

from ebourgogne.audit.services import log_event, log_events
from ebourgogne.testing.factories import sign_in

pytestmark = pytest.mark.django_db


def endpoint(org) -> str:
    return f"/api/v1/audit/{org.slug}/events"


@pytest.fixture
def journal(buyer, other_buyer, buyer_admin):
    log_events(
        [{"action": "consultation.document.downloaded", "organisation": buyer, "data": {"n": n}} for n in range(5)]
    )
    log_event(action="org.member.invited", actor=buyer_admin, organisation=buyer, obj=buyer_admin)
    log_event(action="org.member.invited", organisation=other_buyer)
    return buyer


def test_access(client, journal, outsider, commission_member):
    assert client.get(endpoint(journal)).status_code == 401
    sign_in(client, outsider)
    assert client.get(endpoint(journal)).status_code == 404
    sign_in(client, commission_member)
    assert client.get(endpoint(journal)).status_code == 403


def test_events_of_the_callers_organisation_newest_first(client, journal, buyer_admin):
    sign_in(client, buyer_admin)
    response = client.get(endpoint(journal))
    assert response.status_code == 200
    body = response.json()
    items = body["items"]
    assert [item["action"] for item in items] == ["org.member.invited"] + ["consultation.document.downloaded"] * 5
    assert body["next_cursor"] is None
    first = items[0]
    assert first["actor"] == buyer_admin.email
    assert first["actor_id"] == buyer_admin.pk
    assert (first["object_type"], first["object_id"]) == ("accounts.user", str(buyer_admin.pk))
    assert len(first["hash"]) == 64 and first["prev_hash"] == items[1]["hash"]
    assert "ip_address" not in first


def test_filters(client, journal, buyer_admin):
    sign_in(client, buyer_admin)
    by_object = client.get(endpoint(journal), {"object_type": "accounts.user", "object_id": buyer_admin.pk}).json()
    assert [item["action"] for item in by_object["items"]] == ["org.member.invited"]
    by_action = client.get(endpoint(journal), {"action": "consultation"}).json()
    assert len(by_action["items"]) == 5
    by_actor = client.get(endpoint(journal), {"actor": buyer_admin.email}).json()
    assert len(by_actor["items"]) == 1
    future = client.get(endpoint(journal), {"since": "2999-01-01T00:00:00"}).json()
    assert future["items"] == []


def test_cursor_pagination(client, journal, buyer_admin):
    sign_in(client, buyer_admin)
    seen = []
    cursor = ""
    while True:
        body = client.get(endpoint(journal), {"limit": 2, "cursor": cursor}).json()
        seen += [item["seq"] for item in body["items"]]
        if body["next_cursor"] is None:
            break
        cursor = body["next_cursor"]
    assert len(seen) == 6 and seen == sorted(seen, reverse=True) and len(set(seen)) == 6


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"cursor": "abc"}, 400),
        ({"cursor": "9" * 30}, 400),
        ({"limit": 0}, 422),
        ({"limit": 1000}, 422),
        ({"since": "pas une date"}, 422),
    ],
)
def test_bad_parameters(client, journal, buyer_admin, params, status):
    sign_in(client, buyer_admin)
    response = client.get(endpoint(journal), params)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")


def test_a_personal_api_token_reads_the_journal_with_its_owners_roles(journal, buyer_admin, outsider):
    from django.test import Client

    from ebourgogne.apitokens.services import token_create

    _token, secret = token_create(user=buyer_admin, name="export du journal")
    response = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get(endpoint(journal))
    assert response.status_code == 200
    assert len(response.json()["items"]) == 6  # this buyer's events only
    _token, foreign = token_create(user=outsider, name="autre acheteur")
    assert Client(HTTP_AUTHORIZATION=f"Bearer {foreign}").get(endpoint(journal)).status_code == 404
    refused = Client(HTTP_AUTHORIZATION="Bearer ebg_not-a-token").get(endpoint(journal))
    assert refused.status_code == 401 and refused.json()["code"]
