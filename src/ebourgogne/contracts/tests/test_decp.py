"""DECP: what is published for each contract state, append-only, valid JSON and XML, threshold, practice,
idempotence, and the two-month deadline."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django_scopes import scopes_disabled

from ebourgogne.audit.models import AuditEvent
from ebourgogne.contracts import decp
from ebourgogne.contracts.models import (
    ChangeState,
    Contract,
    DecpKind,
    DecpRecord,
    Modification,
    Subcontract,
    SubcontractChange,
    SubcontractState,
)
from ebourgogne.core import clock
from ebourgogne.testing import contracts as builders
from ebourgogne.testing.factories import CompanyFactory

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def export(*contracts: Contract) -> dict:
    with scopes_disabled():
        rows = Contract.objects.filter(pk__in=[c.pk for c in contracts]).prefetch_related("decp_records")
        return decp.document(list(rows))


def assert_valid(document: dict) -> None:
    assert decp.json_errors(document) == []
    xml = decp.to_xml(document)
    assert decp.xml_errors(xml) == [], xml.decode()
    assert decp.to_xml(json.loads(decp.to_json(document))) == xml


def modification(contract, number, *, amount="0", months=0, notified=True, days_ago=2):
    with scopes_disabled():
        return Modification.objects.create(
            contract=contract,
            number=number,
            legal_ground="R2194-2",
            object=f"Avenant {number}",
            amount_change=Decimal(amount),
            duration_change_months=months,
            effective_on=clock.today_local(),
            state=ChangeState.NOTIFIED if notified else ChangeState.DRAFT,
            created_at=clock.now() - dt.timedelta(days=days_ago + 1),
            notified_at=clock.now() - dt.timedelta(days=days_ago) if notified else None,
        )


def subcontract(contract, number=1, *, state=SubcontractState.ACCEPTED, amount="15000.50"):
    with scopes_disabled():
        return Subcontract.objects.create(
            contract=contract,
            number=number,
            subcontractor_name="Peintures du Morvan",
            subcontractor_siret="73282932000074",
            object="Peinture",
            amount=Decimal(amount),
            duration_months=6,
            price_variation="Révisable",
            state=state,
            declared_at=clock.now() - dt.timedelta(days=4),
            decided_at=clock.now() - dt.timedelta(days=3) if state != SubcontractState.DECLARED else None,
            notified_at=clock.now() - dt.timedelta(days=3) if state == SubcontractState.ACCEPTED else None,
        )


def subcontract_change(act, number=1, *, amount="18000", months=8):
    with scopes_disabled():
        return SubcontractChange.objects.create(
            subcontract=act,
            number=number,
            object="Prestations supplémentaires",
            new_amount=Decimal(amount),
            new_duration_months=months,
            effective_on=clock.today_local(),
            created_at=clock.now() - dt.timedelta(days=2),
            notified_at=clock.now() - dt.timedelta(days=1),
        )


def reload(instance):
    with scopes_disabled():
        return type(instance).objects.get(pk=instance.pk)


# --- States -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["preparing", "signed"])
def test_a_contract_not_yet_notified_publishes_nothing(buyer, company, state):
    contract = builders.contract(buyer, company, state=state)
    assert decp.publish_initial(contract) is None
    assert reload(contract).decp_published_at is None
    assert export(contract) == {"marches": {"marche": []}}
    assert decp.deadline(contract) is None
    assert decp.status(contract).state == "not_notified"
    assert_valid(export(contract))


def test_a_notified_contract_publishes_its_initial_data_identified_by_siret(buyer, company):
    contract = builders.contract(
        buyer,
        company,
        amount=Decimal("120000.50"),
        cpv_code="45261000",
        procedure="open",
        has_advance=True,
        advance_rate=Decimal("0.0500"),
        price_form="Unitaire",
        ccag="Travaux",
        bids_received=3,
    )
    record = decp.publish_initial(contract)
    assert record.kind == DecpKind.INITIAL and record.source_id is None
    assert reload(contract).decp_published_at == NOW
    payload = record.payload
    assert payload["id"] == "2026-001"
    assert payload["acheteur"] == {"id": buyer.siret}
    assert payload["titulaires"] == [{"titulaire": {"typeIdentifiant": "SIRET", "id": company.siret}}]
    assert company.name not in json.dumps(payload, ensure_ascii=False)  # identified by number, not name
    assert payload["montant"] == 120000.5
    assert payload["codeCPV"] == "45261000"
    assert payload["procedure"] == "Appel d'offres ouvert"
    assert payload["dateNotification"] == "2026-11-10"
    assert payload["datePublicationDonnees"] == "2026-11-20"
    assert payload["attributionAvance"] is True and payload["tauxAvance"] == 0.05
    assert payload["formePrix"] == "Unitaire" and payload["ccag"] == "Travaux" and payload["offresRecues"] == 3
    assert payload["lieuExecution"] == {"code": contract.place_code, "typeCode": "Code département"}
    document = export(contract)
    assert document["marches"]["marche"] == [payload]
    assert_valid(document)
    with scopes_disabled():
        event = AuditEvent.objects.get(action="contracts.decp_published")
    assert event.organisation_id == buyer.pk and event.data["kind"] == "initial"


def test_the_check_digit_of_the_cpv_code_is_left_out_and_the_procedures_map_to_the_schema(buyer, company):
    contract = builders.contract(buyer, company, cpv_code="4526100", procedure="design_contest", is_framework=True)
    with scopes_disabled():
        Contract.objects.filter(pk=contract.pk).update(cpv_code="45261009")
    payload = decp.publish_initial(reload(contract)).payload
    assert payload["codeCPV"] == "45261009"
    assert payload["procedure"] == "Marché passé sans publicité ni mise en concurrence préalable"
    assert set(payload["techniques"]["technique"]) == {"Accord-cadre", "Concours"}
    assert payload["modalitesExecution"]["modaliteExecution"] == ["Bons de commande"]
    assert_valid(export(contract))


@pytest.mark.parametrize("procedure", list(decp.PROCEDURES))
def test_every_procedure_gives_a_valid_export(buyer, company, procedure):
    contract = builders.contract(buyer, company, procedure=procedure)
    decp.publish_initial(contract)
    assert_valid(export(contract))


def test_values_outside_the_schema_are_left_out_and_empty_lists_say_nothing(buyer, company):
    contract = builders.contract(
        buyer,
        company,
        techniques=["Enchère électronique", "Vente aux enchères"],
        execution_modes=[],
        price_types=[],
        social_considerations=["Clause sociale", "Clause sociale"],
        environmental_considerations=[],
        place_code="",
    )
    payload = decp.publish_initial(contract).payload
    assert payload["techniques"] == {"technique": ["Enchère électronique"]}
    assert payload["modalitesExecution"] == {"modaliteExecution": ["Sans objet"]}
    assert payload["typesPrix"] == {"typePrix": ["Définitif ferme"]}
    assert payload["considerationsSociales"] == {"considerationSociale": ["Clause sociale"]}
    assert payload["considerationsEnvironnementales"] == {
        "considerationEnvironnementale": ["Pas de considération environnementale"]
    }
    assert payload["lieuExecution"]["code"]
    assert_valid(export(contract))


def test_modifications_are_appended_and_never_rewrite_what_was_published(buyer, company):
    contract = builders.contract(buyer, company, amount=Decimal("100000"), duration_months=12)
    initial = decp.publish_initial(contract)
    first = decp.publish_modification(modification(contract, 1, amount="10000.25", days_ago=5))
    assert first.payload == {
        "id": 1,
        "dateNotificationModification": "2026-11-15",
        "datePublicationDonneesModification": "2026-11-20",
        "dureeMois": 12,
        "montant": 110000.25,
    }
    assert reload(first).payload == first.payload
    before = export(contract)

    # Later, the contract row changes (another holder, R2194-6) and a second modification is notified.
    newcomer = CompanyFactory(name="Nouvelle Menuiserie", slug="nouvelle-menuiserie")
    with scopes_disabled():
        Contract.objects.filter(pk=contract.pk).update(holder=newcomer, amount=Decimal("999999"), title="Autre")
    with time_machine.travel(NOW + dt.timedelta(days=30), tick=False):
        second = decp.publish_modification(modification(reload(contract), 2, months=6, days_ago=1))
    assert second.payload["montant"] == 110000.25 and second.payload["dureeMois"] == 18
    assert second.payload["titulaires"] == [{"titulaire": {"typeIdentifiant": "SIRET", "id": newcomer.siret}}]
    assert second.payload["datePublicationDonneesModification"] == "2026-12-20"

    after = export(contract)
    earlier = before["marches"]["marche"][0]
    later = after["marches"]["marche"][0]
    assert {key: value for key, value in later.items() if key != "modifications"} == initial.payload
    assert later["modifications"][0] == earlier["modifications"][0]  # repeated as published
    assert [item["modification"]["id"] for item in later["modifications"]] == [1, 2]
    assert reload(initial).payload == initial.payload
    assert_valid(after)


def test_a_draft_modification_publishes_nothing_and_an_unchanged_holder_is_not_repeated(buyer, company):
    contract = builders.contract(buyer, company)
    decp.publish_initial(contract)
    assert decp.publish_modification(modification(contract, 1, notified=False)) is None
    record = decp.publish_modification(modification(contract, 2, amount="-5000"))
    assert "titulaires" not in record.payload
    assert record.payload["montant"] == 115000


def test_a_modification_publishes_the_initial_data_first_when_they_were_missing(buyer, company):
    contract = builders.contract(buyer, company)
    record = decp.publish_modification(modification(contract, 1, amount="1000"))
    with scopes_disabled():
        kinds = list(DecpRecord.objects.filter(contract=contract).values_list("kind", flat=True))
    assert sorted(kinds) == ["initial", "modification"] and record.payload["montant"] == 121000


def test_subcontracting_acts_and_their_changes_are_appended(buyer, company):
    contract = builders.contract(buyer, company, subcontracting_declared=True)
    decp.publish_initial(contract)
    assert decp.publish_subcontract(subcontract(contract, 1, state=SubcontractState.DECLARED)) is None
    assert decp.publish_subcontract(subcontract(contract, 2, state=SubcontractState.REFUSED)) is None
    act = subcontract(contract, 3)
    record = decp.publish_subcontract(act)
    assert record.payload == {
        "id": 3,
        "sousTraitant": {"typeIdentifiant": "SIRET", "id": "73282932000074"},
        "dureeMois": 6,
        "dateNotification": "2026-11-17",
        "datePublicationDonnees": "2026-11-20",
        "montant": 15000.5,
        "variationPrix": "Révisable",
    }
    assert reload(act).decp_published_at == NOW
    change = subcontract_change(act)
    changed = decp.publish_subcontract_change(change)
    assert changed.payload == {
        "id": 3,
        "dureeMois": 8,
        "dateNotificationModificationSousTraitance": "2026-11-19",
        "montant": 18000,
        "datePublicationDonnees": "2026-11-20",
    }
    assert reload(change).decp_published_at == NOW
    document = export(contract)
    item = document["marches"]["marche"][0]
    assert item["actesSousTraitance"] == [{"acteSousTraitance": record.payload}]
    assert item["modificationsActesSousTraitance"] == [{"modificationActeSousTraitance": changed.payload}]
    assert_valid(document)
    assert b"<modificationActesSousTraitance>" in decp.to_xml(document)  # the XSD's spelling


def test_an_ended_contract_with_everything_exports_valid_json_and_xml(buyer, company):
    contract = builders.contract(buyer, company, state="notified", has_advance=True, advance_rate=0)
    decp.publish_initial(contract)
    decp.publish_modification(modification(contract, 1, amount="5000", months=2))
    act = subcontract(contract, 1)
    decp.publish_subcontract(act)
    decp.publish_subcontract_change(subcontract_change(act))
    with scopes_disabled():
        Contract.objects.filter(pk=contract.pk).update(state="ended", ended_at=clock.now())
    other = builders.contract(buyer, CompanyFactory(), number="2026-002")
    decp.publish_initial(other)
    document = export(contract, other)
    assert len(document["marches"]["marche"]) == 2
    assert_valid(document)
    xml = decp.to_xml(document).decode()
    assert "<marcheInnovant>false</marcheInnovant>" in xml and "<tauxAvance>0</tauxAvance>" in xml


# --- Threshold, practice, idempotence ----------------------------------------------------------------------


def test_below_the_threshold_nothing_is_published(buyer, company):
    contract = builders.contract(buyer, company, amount=Decimal("39999.99"))
    assert decp.publish_initial(contract) is None
    assert decp.publish_modification(modification(contract, 1, amount="50000")) is None
    assert decp.publish_subcontract(subcontract(contract)) is None
    assert decp.deadline(contract) is None and decp.status(contract).state == "not_required"
    with scopes_disabled():
        assert not DecpRecord.objects.exists()
        assert not AuditEvent.objects.filter(action="contracts.decp_published").exists()


def test_at_the_threshold_the_data_are_published(buyer, company):
    assert decp.publish_initial(builders.contract(buyer, company, amount=Decimal("40000"))) is not None


def test_a_practice_consultation_publishes_nothing(buyer, company):
    contract = builders.contract(buyer, company)
    with scopes_disabled():
        contract.consultation.is_practice = True
        contract.consultation.save(update_fields=["is_practice"])
    assert decp.publish_initial(reload(contract)) is None
    assert decp.publish_subcontract(subcontract(contract)) is None
    assert decp.status(reload(contract)).state == "not_required"
    with scopes_disabled():
        assert not DecpRecord.objects.exists()


def test_publishing_twice_appends_nothing(buyer, company):
    contract = builders.contract(buyer, company)
    first = decp.publish_initial(contract)
    change = modification(contract, 1, amount="100")
    act = subcontract(contract)
    act_change = subcontract_change(act)
    records = [
        decp.publish_modification(change),
        decp.publish_subcontract(act),
        decp.publish_subcontract_change(act_change),
    ]
    with time_machine.travel(NOW + dt.timedelta(days=3), tick=False):
        assert decp.publish_initial(reload(contract)) == first
        assert decp.publish_modification(reload(change)) == records[0]
        assert decp.publish_subcontract(reload(act)) == records[1]
        assert decp.publish_subcontract_change(reload(act_change)) == records[2]
    with scopes_disabled():
        assert DecpRecord.objects.count() == 4
        assert AuditEvent.objects.filter(action="contracts.decp_published").count() == 4
    assert reload(contract).decp_published_at == NOW


# --- Deadline ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("notified", "due"),
    [
        (dt.datetime(2026, 1, 15, 10, 0, tzinfo=dt.UTC), dt.date(2026, 3, 15)),
        (dt.datetime(2026, 12, 31, 10, 0, tzinfo=dt.UTC), dt.date(2027, 2, 28)),
        (dt.datetime(2027, 12, 31, 10, 0, tzinfo=dt.UTC), dt.date(2028, 2, 29)),
        (dt.datetime(2026, 10, 31, 10, 0, tzinfo=dt.UTC), dt.date(2026, 12, 31)),
        (dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC), dt.date(2027, 1, 30)),
        # 23:30 UTC on 31 March is 1 April in Paris: the local date counts.
        (dt.datetime(2026, 3, 31, 23, 30, tzinfo=dt.UTC), dt.date(2026, 6, 1)),
    ],
)
def test_the_deadline_is_two_months_after_the_notification(buyer, company, notified, due):
    contract = builders.contract(buyer, company, notified_at=notified)
    assert decp.deadline(contract) == due


def test_the_status_moves_from_due_to_late_and_to_published(buyer, company):
    notified = dt.datetime(2026, 12, 31, 10, 0, tzinfo=dt.UTC)
    contract = builders.contract(buyer, company, notified_at=notified)
    with time_machine.travel(dt.datetime(2027, 2, 28, 20, 0, tzinfo=dt.UTC), tick=False):
        status = decp.status(contract)
        assert (status.state, status.deadline) == ("due", dt.date(2027, 2, 28))
    with time_machine.travel(dt.datetime(2027, 2, 28, 23, 30, tzinfo=dt.UTC), tick=False):  # 1 March in Paris
        assert decp.status(contract).state == "late"
        decp.publish_initial(contract)
        status = decp.status(reload(contract))
    assert status.state == "published" and status.published_late


def test_special_characters_and_long_objects_stay_valid(buyer, company):
    contract = builders.contract(buyer, company, object="Travaux <urgents> & « rénovation » " + "x" * 1200)
    payload = decp.publish_initial(contract).payload
    assert len(payload["objet"]) == 1000
    document = export(contract)
    assert_valid(document)
    assert "Travaux &lt;urgents&gt; &amp; « rénovation »" in decp.to_xml(document).decode()
