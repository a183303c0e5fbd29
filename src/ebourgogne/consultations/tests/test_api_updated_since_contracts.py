"""`updated_since` on the OCDS feed and the list sees the award and contract stages: a client polling
the feed learns of a contract notified, modified or ended, although the consultation row itself did
not change."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from ebourgogne.consultations.models import Consultation
from ebourgogne.contracts.models import Modification
from ebourgogne.core import clock
from ebourgogne.testing.contracts import contract
from ebourgogne.testing.factories import BuyerFactory, CompanyFactory

pytestmark = pytest.mark.django_db


def _ids(client, since: dt.datetime) -> list[int]:
    response = client.get("/api/v1/consultations/", {"updated_since": since.isoformat()})
    assert response.status_code == 200
    return [item["id"] for item in response.json()["items"]]


def test_a_contract_notified_or_modified_after_the_date_is_seen(client):
    now = clock.now()
    made = contract(BuyerFactory(), CompanyFactory(), notified_days_ago=3)
    with scopes_disabled():
        Consultation.objects.filter(pk=made.consultation_id).update(
            state="awarded", updated_at=now - dt.timedelta(days=30)
        )
        # The award itself was decided and its letters sent well before.
        made.award.__class__.objects.filter(pk=made.award_id).update(
            decided_at=now - dt.timedelta(days=20), letters_sent_at=now - dt.timedelta(days=19)
        )
    assert made.consultation_id in _ids(client, now - dt.timedelta(days=5))  # the notification, 3 days ago
    assert made.consultation_id not in _ids(client, now - dt.timedelta(days=1))

    with scopes_disabled():
        Modification.objects.create(
            contract=made,
            number=1,
            legal_ground="R2194-8",
            object="Travaux supplémentaires",
            amount_change=Decimal("5000"),
            effective_on=now.date(),
            state="notified",
            created_at=now,
            notified_at=now,
        )
    assert made.consultation_id in _ids(client, now - dt.timedelta(days=1))
    assert made.consultation_id not in _ids(client, now + dt.timedelta(minutes=1))
