"""A buyer without a SIRET: its essential data would carry an invalid `acheteur.id` (the schema wants 14
digits). Nothing is published (neither at notification, nor by "publish now", nor in the daily file): the
data stay due, the buyer reads what to fill in and where, and they are published once the SIRET is set."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.contracts import decp, services, tasks_decp
from ebourgogne.contracts.models import ChangeState, DecpRecord, Modification
from ebourgogne.contracts.tests.conftest import PASSPHRASE, reload
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError
from ebourgogne.organisations.models import Organisation
from ebourgogne.testing import contracts as builders
from ebourgogne.testing.factories import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _without_siret(buyer) -> None:
    Organisation.objects.filter(pk=buyer.pk).update(siret="")
    buyer.siret = ""


def _notified_through_the_services(award, buyer_agent, buyer_admin, company_admin, buyer_certificate, holder_cert):
    contract = services.contract_create(award=award, acting_user=buyer_agent, number="2026-SIR")
    services.contract_sign(
        contract=contract, party="buyer", acting_user=buyer_admin, certificate=buyer_certificate, secret=PASSPHRASE
    )
    signed = services.contract_sign(
        contract=contract, party="holder", acting_user=company_admin, certificate=holder_cert, secret=PASSPHRASE
    )
    return services.contract_notify(contract=signed, acting_user=buyer_agent)


def test_notifying_without_siret_publishes_nothing_and_the_daily_job_publishes_once_it_is_set(
    client, award, buyer, buyer_agent, buyer_admin, company_admin, buyer_certificate, holder_certificate
):
    _without_siret(buyer)
    notified = _notified_through_the_services(
        award, buyer_agent, buyer_admin, company_admin, buyer_certificate, holder_certificate
    )
    assert notified.state == "notified"  # the notification itself is not held up
    with scopes_disabled():
        assert not DecpRecord.objects.filter(contract=notified).exists()
    contract = reload(notified)
    assert contract.decp_published_at is None
    state = decp.status(contract)
    assert state.state == "due" and state.buyer_siret_missing

    # The buyer reads what to fill in and where, on the contract page and on the contracts list.
    sign_in(client, buyer_agent)
    settings_url = reverse("organisations:edit", args=[buyer.slug])
    page = client.get(reverse("contracts:detail", args=[buyer.slug, contract.pk])).content.decode()
    assert "acheteur manquant : rien n" in page and settings_url in page and "Numéro SIRET" in page
    listing = client.get(reverse("contracts:list", args=[buyer.slug])).content.decode()
    assert "données essentielles non publiées" in listing and "2026-SIR" in listing and settings_url in listing

    # The nightly job publishes nothing while the SIRET is missing, then the data once it is set.
    assert tasks_decp.decp_daily_file.call()["published"] == []
    Organisation.objects.filter(pk=buyer.pk).update(siret="21210001400019")
    assert tasks_decp.decp_daily_file.call()["published"] == [contract.pk]
    with scopes_disabled():
        record = DecpRecord.objects.get(contract=contract, kind="initial")
    assert record.payload["acheteur"] == {"id": "21210001400019"}
    assert reload(contract).decp_published_at == record.published_at
    document = decp.wrap([record.payload])
    assert decp.json_errors(document) == [] and decp.xml_errors(decp.to_xml(document)) == []
    assert (
        "acheteur manquant : rien n"
        not in client.get(reverse("contracts:detail", args=[buyer.slug, contract.pk])).content.decode()
    )
    assert tasks_decp.decp_daily_file.call()["published"] == []  # once


def test_publish_now_refuses_with_the_message_and_appends_nothing(client, buyer, company, buyer_agent):
    late = builders.contract(buyer, company, amount=Decimal("90000"), number="2026-NOSIRET", notified_days_ago=75)
    _without_siret(buyer)
    with pytest.raises(DomainError) as refused:
        services.contract_decp_publish(contract=late, acting_user=buyer_agent)
    assert refused.value.code == "buyer_siret" and "Numéro SIRET" in refused.value.message

    sign_in(client, buyer_agent)
    response = client.post(reverse("contracts:decp_publish", args=[buyer.slug, late.pk]))
    assert response.status_code == 400
    assert "le SIRET de votre organisation" in response.content.decode()
    with scopes_disabled():
        assert not DecpRecord.objects.filter(contract=late).exists()
    assert decp.status(reload(late)).state == "late"

    Organisation.objects.filter(pk=buyer.pk).update(siret="21210001400019")
    done = services.contract_decp_publish(contract=reload(late), acting_user=buyer_agent)
    assert done.decp_published_at is not None


def test_a_modification_after_the_siret_was_removed_still_appends(buyer, company):
    contract = builders.contract(buyer, company, number="2026-MOD")
    assert decp.publish_initial(contract) is not None
    _without_siret(buyer)
    with scopes_disabled():
        change = Modification.objects.create(
            contract=contract,
            number=1,
            legal_ground="R2194-8",
            object="Prestations complémentaires",
            amount_change=Decimal("4000"),
            effective_on=clock.today_local(),
            state=ChangeState.NOTIFIED,
            created_at=clock.now(),
            notified_at=clock.now(),
        )
        contract = type(contract).objects.select_related("organisation").get(pk=contract.pk)
        change.contract = contract
    # The initial data (with a valid acheteur.id) are published: the modification has no acheteur.
    assert decp.publish_modification(change) is not None


def test_a_record_with_an_invalid_buyer_is_left_out_of_the_daily_file_and_the_api(client, buyer, company):
    good = builders.contract(buyer, company, number="2026-OK")
    decp.publish_initial(good)
    broken = builders.contract(buyer, company, number="2026-OLD")
    with scopes_disabled():  # a record published before the check existed
        payload = decp.initial_payload(broken, now=clock.now()) | {"acheteur": {"id": ""}}
        DecpRecord.objects.create(contract=broken, kind="initial", payload=payload, published_at=clock.now())
        type(broken).objects.filter(pk=broken.pk).update(decp_published_at=clock.now())
    built = tasks_decp.build_daily_file(clock.today_local(), now=clock.now() + dt.timedelta(days=1))
    with default_storage.open(built.json_storage_name, "rb") as handle:
        document = json.loads(handle.read())
    assert [item["id"] for item in document["marches"]["marche"]] == ["2026-OK"]
    assert decp.json_errors(document) == []
    with default_storage.open(built.xml_storage_name, "rb") as handle:
        assert decp.xml_errors(handle.read()) == []
    api = client.get("/api/v1/decp").json()
    assert [item["id"] for item in api["marches"]["marche"]] == ["2026-OK"]
