"""A notified contract whose essential data were not published at notification (notified before the
platform published them, an interrupted notification): the buyer's contracts list warns once the
2-month deadline has passed, and the contract page publishes them now — the initial data, then the
notified modifications — appending only, once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.contracts import decp
from ebourgogne.contracts.models import DecpRecord, Modification
from ebourgogne.core import clock
from ebourgogne.testing.contracts import contract as make_contract
from ebourgogne.testing.factories import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def late(buyer, company):
    made = make_contract(buyer, company, amount=Decimal("90000"), number="2026-LATE", notified_days_ago=75)
    with scopes_disabled():
        Modification.objects.create(
            contract=made,
            number=1,
            legal_ground="R2194-8",
            object="Prestations complémentaires",
            amount_change=Decimal("4000"),
            effective_on=clock.today_local(),
            state="notified",
            created_at=clock.now(),
            notified_at=clock.now(),
        )
    return made


def test_the_list_warns_and_the_page_publishes_now(client, buyer, buyer_agent, late):
    sign_in(client, buyer_agent)
    listing = client.get(reverse("contracts:list", args=[buyer.slug])).content.decode()
    assert "Données essentielles en retard" in listing and "2026-LATE" in listing
    page = client.get(reverse("contracts:detail", args=[buyer.slug, late.pk])).content.decode()
    assert "En retard" in page and "Publier les données essentielles maintenant" in page

    url = reverse("contracts:decp_publish", args=[buyer.slug, late.pk])
    response = client.post(url)
    assert response.status_code == 302
    with scopes_disabled():
        kinds = list(DecpRecord.objects.filter(contract=late).order_by("pk").values_list("kind", flat=True))
        late.refresh_from_db()
    assert kinds == ["initial", "modification"]
    assert late.decp_published_at is not None
    with scopes_disabled():
        exported = decp.marche(late, list(DecpRecord.objects.filter(contract=late)))
    assert exported["montant"] == 90000 and exported["modifications"][0]["modification"]["montant"] == 94000
    assert decp.json_errors(decp.wrap([exported])) == []

    # Nothing more to publish: a clear refusal, nothing appended; the warning is gone.
    again = client.post(url)
    assert again.status_code == 400 and "déjà publiées" in again.content.decode()
    with scopes_disabled():
        assert DecpRecord.objects.filter(contract=late).count() == 2
    assert (
        "Données essentielles en retard"
        not in client.get(reverse("contracts:list", args=[buyer.slug])).content.decode()
    )


def test_only_the_buyers_contract_staff_publish(client, buyer, company_admin, late):
    sign_in(client, company_admin)  # the holder
    assert client.post(reverse("contracts:decp_publish", args=[buyer.slug, late.pk])).status_code in (403, 404)
    with scopes_disabled():
        assert DecpRecord.objects.filter(contract=late).count() == 0
