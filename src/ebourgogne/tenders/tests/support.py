"""Helpers of the tenders tests: a consultation with a test opening key, and the protocol driven through
the test client (announce, upload in chunks, deposit)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django_scopes import scopes_disabled

from ebourgogne.core import clock
from ebourgogne.sealing.models import ConsultationKey
from ebourgogne.testing.factories import ConsultationFactory
from ebourgogne.testing.sealing import encrypt_to, give_test_key


def open_consultation(buyer: Any, **fields: Any):
    """A published consultation of `buyer` with a test opening key; returns (consultation, recipient)."""
    # The deadline is near, so that tests can travel past it without outliving the session.
    fields.setdefault("bids_deadline", clock.now().replace(microsecond=0) + dt.timedelta(hours=2))
    fields.setdefault("questions_deadline", fields["bids_deadline"] - dt.timedelta(hours=1))
    consultation = ConsultationFactory(organisation=buyer, published=True, **fields)
    give_test_key(consultation)
    with scopes_disabled():
        recipient = ConsultationKey.objects.get(consultation=consultation).recipient
    return consultation, recipient


def sealed(recipient: str, size: int = 3000, seed: int = 1) -> bytes:
    data = bytes((i * 31 + seed) % 251 for i in range(size))
    return encrypt_to(recipient, data)


def post(client, url: str, data: Any = None, **extra: Any):
    return client.post(url, json.dumps(data or {}), content_type="application/json", **extra)


def create_bid(client, org: str, consultation_id: int, **fields: Any) -> dict:
    response = post(client, f"/api/v1/companies/{org}/bids", {"consultation": consultation_id, **fields})
    assert response.status_code == 201, response.content
    return response.json()


def announce(client, org: str, bid_id: int, size: int, name: str = "offre.pdf", envelope: str = "offer") -> dict:
    response = post(
        client, f"/api/v1/companies/{org}/bids/{bid_id}/files", {"envelope": envelope, "name": name, "size": size}
    )
    assert response.status_code == 201, response.content
    return response.json()


def patch(client, url: str, offset: int, body: bytes, **headers: Any):
    extra = {"HTTP_UPLOAD_OFFSET": str(offset), **headers}
    return client.generic("PATCH", url, body, content_type="application/offset+octet-stream", **extra)


def upload(client, url: str, data: bytes, chunk: int = 1000) -> None:
    for start in range(0, len(data), chunk):
        response = patch(client, url, start, data[start : start + chunk])
        assert response.status_code == 204, response.content


def deposit(client, org: str, bid_id: int, **fields: Any):
    return post(client, f"/api/v1/companies/{org}/bids/{bid_id}/deposit", fields)


def full_bid(client, org: str, consultation_id: int, recipient: str, *, seed: int = 1, **fields: Any) -> dict:
    """A bid with one complete file, deposited; returns the receipt JSON."""
    bid = create_bid(client, org, consultation_id, **fields)
    data = sealed(recipient, 2000, seed)
    announced = announce(client, org, bid["id"], len(data))
    upload(client, announced["url"], data, chunk=4096)
    response = deposit(client, org, bid["id"])
    assert response.status_code == 201, response.content
    return response.json()
