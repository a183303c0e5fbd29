"""The public side: the opening-key API (docs/bids-protocol.md §1) and the block on the public page."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from ebourgogne.sealing import crypto
from ebourgogne.tenders.limits import CHUNK_SIZE
from ebourgogne.testing.factories import ConsultationFactory
from ebourgogne.testing.sealing import sealed_consultation

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 28, 16, 40, 12, 512000, tzinfo=dt.UTC)
DEADLINE = dt.datetime(2026, 12, 30, 11, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def sealed(buyer, buyer_agent):
    return sealed_consultation(
        buyer, acting_user=buyer_agent, bids_deadline=DEADLINE, questions_deadline=DEADLINE - dt.timedelta(days=10)
    )


def test_api_gives_what_a_bidder_needs_to_encrypt(client, sealed):
    response = client.get(f"/api/v1/consultations/{sealed.consultation.pk}/opening-key")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "recipient": sealed.key.recipient,
        "fingerprint": crypto.fingerprint(sealed.key.recipient),
        "threshold": 2,
        "share_count": 3,
        "bids_deadline": "2026-12-30T11:00:00Z",
        "server_time": "2026-11-28T16:40:12.512Z",
        "bid_size_limit": sealed.consultation.bid_size_limit,
        "chunk_size": CHUNK_SIZE,
    }
    assert body["recipient"].startswith("age1")


def test_api_answers_404_for_drafts_unknown_ids_and_consultations_without_a_key(client, buyer):
    draft = ConsultationFactory(organisation=buyer)
    keyless = ConsultationFactory(organisation=buyer, published=True)
    for pk in (draft.pk, 999999):
        response = client.get(f"/api/v1/consultations/{pk}/opening-key")
        assert response.status_code == 404
    response = client.get(f"/api/v1/consultations/{keyless.pk}/opening-key")
    assert response.status_code == 404
    assert "clé de chiffrement" in response.json()["detail"]
    assert client.get("/api/v1/consultations/abc/opening-key").status_code in (404, 422)


def test_public_page_shows_recipient_grouped_fingerprint_and_k_of_n(client, sealed):
    page = client.get(f"/consultations/{sealed.consultation.pk}/").content.decode()
    assert sealed.key.recipient in page
    assert crypto.grouped(sealed.key.fingerprint) in page
    assert "2 membres sur 3" in page
    assert "AGE-SECRET-KEY" not in page


def test_the_block_costs_one_small_query(sealed, django_assert_num_queries):
    from ebourgogne.sealing.templatetags.sealing_public import opening_key_block

    with django_assert_num_queries(1):
        context = opening_key_block(sealed.consultation)
    assert context["key"]["recipient"] == sealed.key.recipient
