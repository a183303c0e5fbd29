"""The contracts API: the public award notice (published consultations, notified contracts only), the
buyer's contracts and the contracts a company holds (each sees only its own)."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from ebourgogne.testing import contracts as builders
from ebourgogne.testing.factories import sign_in

pytestmark = pytest.mark.django_db


def test_the_award_notice_is_public_and_lists_notified_contracts(client, buyer, company):
    notified = builders.contract(buyer, company, state="notified", number="2026-020")
    response = client.get(f"/api/v1/contracts/notices/{notified.consultation_id}")
    assert response.status_code == 200
    [row] = response.json()
    assert row["holder"] == company.name and row["amount"] == "120000.00" and row["number"] == "2026-020"
    assert row["notified_at"].startswith(notified.notified_at.date().isoformat()[:4])
    preparing = builders.contract(buyer, company, state="preparing", number="2026-021")
    assert client.get(f"/api/v1/contracts/notices/{preparing.consultation_id}").json() == []


def test_a_draft_consultation_has_no_notice(client, buyer, company):
    notified = builders.contract(buyer, company, state="notified")
    with scopes_disabled():
        notified.consultation.state = "draft"
        notified.consultation.save(update_fields=["state"])
    assert client.get(f"/api/v1/contracts/notices/{notified.consultation_id}").status_code == 404
    assert client.get("/api/v1/contracts/notices/999999").status_code == 404


def test_the_buyer_lists_its_contracts(client, buyer, company, buyer_agent, outsider):
    builders.contract(buyer, company, state="notified", number="2026-030")
    builders.contract(buyer, company, state="preparing", number="2026-031", title="Voirie communale")
    assert client.get(f"/api/v1/contracts/{buyer.slug}/contracts").status_code == 401
    sign_in(client, buyer_agent)
    numbers = [row["number"] for row in client.get(f"/api/v1/contracts/{buyer.slug}/contracts").json()]
    assert sorted(numbers) == ["2026-030", "2026-031"]
    filtered = client.get(f"/api/v1/contracts/{buyer.slug}/contracts", {"state": "preparing"}).json()
    assert [row["number"] for row in filtered] == ["2026-031"]
    searched = client.get(f"/api/v1/contracts/{buyer.slug}/contracts", {"q": "voirie"}).json()
    assert [row["number"] for row in searched] == ["2026-031"]
    client.logout()
    sign_in(client, outsider)
    assert client.get(f"/api/v1/contracts/{buyer.slug}/contracts").status_code == 404


def test_a_company_lists_what_it_holds_only(client, buyer, other_buyer, company, other_company, company_member):
    builders.contract(buyer, company, state="notified", number="2026-040")
    builders.contract(other_buyer, company, state="signed", number="A-1")
    builders.contract(buyer, other_company, state="notified", number="2026-041")
    sign_in(client, company_member)
    rows = client.get(f"/api/v1/contracts/{company.slug}/held").json()
    assert sorted((row["buyer"], row["number"]) for row in rows) == [
        (other_buyer.name, "A-1"),
        (buyer.name, "2026-040"),
    ]
    assert client.get(f"/api/v1/contracts/{other_company.slug}/held").status_code == 404
