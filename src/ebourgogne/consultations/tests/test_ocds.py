"""OCDS 1.1 release packages: every package produced is valid against the OCDS 1.1.5 release package schema
(checked offline, with the schema shipped in consultations/schemas/ocds), and says what it should."""

from __future__ import annotations

import pytest
from django.test import Client

from ebourgogne.consultations.tests import api_data
from ebourgogne.consultations.tests.ocds_schema import package_validator, validation_errors
from ebourgogne.testing.factories import ConsultationFactory

pytestmark = pytest.mark.django_db


def ocds(client: Client, consultation) -> dict:
    response = client.get(f"/api/v1/consultations/{consultation.pk}/ocds")
    assert response.status_code == 200, response.content
    package = response.json()
    assert validation_errors(package) == []
    return package


def test_the_validator_really_applies_the_release_schema():
    package = {
        "uri": "https://exemple.test/p",
        "version": "1.1",
        "publishedDate": "2027-01-01T00:00:00Z",
        "publisher": {"name": "x"},
        "releases": [
            {"ocid": "ocds-x-1", "id": "1", "date": "2027-01-01T00:00:00Z", "tag": "tender", "initiationType": "tender"}
        ],
    }
    assert any("tag" in error for error in validation_errors(package))
    package["releases"][0]["tag"] = ["tender"]
    assert validation_errors(package) == []
    assert package_validator().schema["id"].endswith("1__1__5/release-package-schema.json")


def test_a_consultation_without_lots(client, buyer):
    consultation = ConsultationFactory(organisation=buyer, published=True, procedure="mapa", contract_type="supplies")
    release = ocds(client, consultation)["releases"][0]
    assert release["ocid"] == f"ocds-ebourg-{consultation.pk}" and release["tag"] == ["tender"]
    party = release["parties"][0]
    assert party["identifier"] == {"scheme": "FR-RCS", "id": buyer.siret, "legalName": buyer.name}
    assert party["id"] == f"FR-RCS-{buyer.siret}" and set(party["roles"]) == {"buyer", "procuringEntity"}
    tender = release["tender"]
    assert tender["procurementMethod"] == "open" and tender["procurementMethodDetails"] == "Procédure adaptée (MAPA)"
    assert tender["mainProcurementCategory"] == "goods" and tender["status"] == "active"
    assert tender["items"][0]["classification"] == {
        "scheme": "CPV",
        "id": "45000000",
        "description": "Travaux de construction",
    }
    assert tender["value"] == {"amount": 250000.0, "currency": "EUR"}
    assert tender["tenderPeriod"]["endDate"].endswith(("+01:00", "+02:00"))
    assert "lots" not in tender and "amendments" not in tender


def test_a_consultation_with_lots_documents_and_answers(client, buyer):
    consultation = api_data.with_lots(buyer, procedure="restricted")
    api_data.with_dce(consultation)
    api_data.with_questions(consultation)
    tender = ocds(client, consultation)["releases"][0]["tender"]
    assert [lot["id"] for lot in tender["lots"]] == ["1", "2"]
    assert {item.get("relatedLot") for item in tender["items"]} == {None, "1", "2"}
    assert tender["procurementMethod"] == "selective"
    bidding = [doc for doc in tender["documents"] if doc["documentType"] == "biddingDocuments"]
    assert sorted(doc["title"] for doc in bidding) == ["CCTP.docx", "RC.pdf"]
    assert all(doc["url"].startswith("http") and "/dce/fichiers/" in doc["url"] for doc in bidding)
    assert tender["hasEnquiries"] is True
    assert [enquiry["id"] for enquiry in tender["enquiries"]] == ["1", "3"]
    assert "secret@entreprise.test" not in str(tender) and "Question sans réponse" not in str(tender)


def test_a_rectified_consultation_has_its_amendment(client, buyer):
    consultation = ConsultationFactory(organisation=buyer, published=True)
    api_data.with_dce(consultation, rectified=True)
    release = ocds(client, consultation)["releases"][0]
    assert release["tag"] == ["tenderAmendment"]
    assert [(a["id"], a["rationale"]) for a in release["tender"]["amendments"]] == [
        ("rectificatif-2", "Erreur de date")
    ]
    titles = sorted(doc["title"] for doc in release["tender"]["documents"] if doc["documentType"] == "biddingDocuments")
    assert titles == ["CCTP.docx", "RC-v2.pdf"]  # version 2: RC.pdf replaced; version 3 is not published


def test_a_cancelled_consultation(client, buyer):
    consultation = api_data.cancelled(buyer)
    release = ocds(client, consultation)["releases"][0]
    assert release["tag"] == ["tenderCancellation"]
    assert release["tender"]["status"] == "cancelled" and "Besoin redéfini" in release["tender"]["statusDetails"]


def test_drafts_have_no_open_data(client, buyer):
    draft = ConsultationFactory(organisation=buyer)
    assert client.get(f"/api/v1/consultations/{draft.pk}/ocds").status_code == 404


def test_the_bulk_endpoint_pages_through_every_published_consultation(client, buyer, other_buyer, settings):
    published = [ConsultationFactory(organisation=buyer, published=True) for _ in range(3)]
    published.append(api_data.with_lots(other_buyer))
    api_data.with_dce(published[-1], rectified=True)
    published.append(api_data.cancelled(other_buyer))
    ConsultationFactory(organisation=buyer)  # a draft
    seen, url = [], "/api/v1/consultations/ocds?limit=2"
    while url:
        package = client.get(url).json()
        assert validation_errors(package) == []
        seen += [release["ocid"] for release in package["releases"]]
        url = package.get("links", {}).get("next", "").removeprefix(settings.BASE_URL)
    assert seen == [f"ocds-ebourg-{consultation.pk}" for consultation in published]


def test_the_prefix_is_configurable(client, buyer, monkeypatch):
    monkeypatch.setenv("EBOURGOGNE_OCDS_PREFIX", "ocds-abc123")
    consultation = ConsultationFactory(organisation=buyer, published=True)
    assert ocds(client, consultation)["releases"][0]["ocid"] == f"ocds-abc123-{consultation.pk}"


def test_the_bulk_endpoint_sends_no_empty_package(client, buyer):
    ConsultationFactory(organisation=buyer)  # a draft only
    assert client.get("/api/v1/consultations/ocds").status_code == 204
    ConsultationFactory(organisation=buyer, published=True)
    assert client.get("/api/v1/consultations/ocds", {"updated_since": "2100-01-01T00:00:00Z"}).status_code == 204
    assert validation_errors(client.get("/api/v1/consultations/ocds").json()) == []


def test_a_page_of_the_bulk_endpoint_costs_a_few_queries_whatever_its_size(
    client, buyer, django_assert_max_num_queries
):
    for _ in range(20):
        consultation = api_data.with_lots(buyer)
        api_data.with_dce(consultation, rectified=True)
        api_data.with_questions(consultation)
    with django_assert_max_num_queries(7):
        response = client.get("/api/v1/consultations/ocds", {"limit": 20})
    package = response.json()
    assert len(package["releases"]) == 20 and validation_errors(package) == []
