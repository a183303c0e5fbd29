"""The public DECP bulk endpoint: root form valid against the schema, filters, pages, bad parameters, queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from ebourgogne.contracts import decp
from ebourgogne.contracts.models import ChangeState, Contract, Modification
from ebourgogne.testing import contracts as builders
from ebourgogne.testing.factories import CompanyFactory

URL = "/api/v1/decp"
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def published(buyer, other_buyer, company):
    """Beaune: 2026-001 published on 1 November, 2026-002 on 20 November, 2026-003 below the threshold.
    Auxerre: A-1 published on 10 November, and a modification of it on 19 November."""
    made = {}
    with time_machine.travel(dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC), tick=False):
        made["first"] = builders.contract(buyer, company, number="2026-001")
        decp.publish_initial(made["first"])
    with time_machine.travel(dt.datetime(2026, 11, 10, 10, tzinfo=dt.UTC), tick=False):
        made["auxerre"] = builders.contract(other_buyer, CompanyFactory(), number="A-1")
        decp.publish_initial(made["auxerre"])
    with time_machine.travel(dt.datetime(2026, 11, 19, 10, tzinfo=dt.UTC), tick=False), scopes_disabled():
        change = Modification.objects.create(
            contract=made["auxerre"],
            number=1,
            legal_ground="R2194-2",
            object="Avenant",
            amount_change=Decimal("2000"),
            effective_on=dt.date(2026, 11, 19),
            state=ChangeState.NOTIFIED,
            created_at=NOW - dt.timedelta(days=2),
            notified_at=NOW - dt.timedelta(days=1, hours=1),
        )
        decp.publish_modification(change)
    with time_machine.travel(NOW, tick=False):
        made["second"] = builders.contract(buyer, CompanyFactory(), number="2026-002")
        decp.publish_initial(made["second"])
        made["small"] = builders.contract(buyer, company, number="2026-003", amount=Decimal("39999.99"))
        decp.publish_initial(made["small"])
        made["draft"] = builders.contract(buyer, company, number="2026-004", state="signed")
    return made


def ids(response) -> list[str]:
    return [item["id"] for item in response.json()["marches"]["marche"]]


def test_the_bulk_endpoint_is_public_and_in_the_schemas_root_form(client, published):
    response = client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert decp.json_errors(body) == []
    assert decp.xml_errors(decp.to_xml(body)) == []
    assert sorted(ids(response)) == ["2026-001", "2026-002", "A-1"]  # neither below 40 k€ nor unnotified
    auxerre = next(item for item in body["marches"]["marche"] if item["id"] == "A-1")
    assert auxerre["modifications"][0]["modification"]["montant"] == 122000


def test_filter_by_buyer_siret_or_slug(client, published, buyer, other_buyer):
    assert sorted(ids(client.get(URL, {"acheteur": buyer.siret}))) == ["2026-001", "2026-002"]
    assert ids(client.get(URL, {"acheteur": "commune-d-auxerre"})) == ["A-1"]
    assert ids(client.get(URL, {"acheteur": "99999999999999"})) == []


def test_filter_by_publication_dates_includes_the_modifications(client, published):
    assert sorted(ids(client.get(URL, {"depuis": "2026-11-10"}))) == ["2026-002", "A-1"]
    assert ids(client.get(URL, {"depuis": "2026-11-01", "jusqua": "2026-11-01"})) == ["2026-001"]
    assert ids(client.get(URL, {"depuis": "2026-11-19", "jusqua": "2026-11-19"})) == ["A-1"]  # its modification
    assert ids(client.get(URL, {"jusqua": "2026-10-31"})) == []


def test_pages_follow_each_other_with_a_link_header(client, published):
    first = client.get(URL, {"taille": 2})
    assert len(ids(first)) == 2 and 'rel="next"' in first["Link"]
    second = client.get(URL, {"taille": 2, "page": 2})
    assert len(ids(second)) == 1 and 'rel="prev"' in second["Link"] and 'rel="next"' not in second["Link"]
    assert sorted(ids(first) + ids(second)) == ["2026-001", "2026-002", "A-1"]
    assert ids(client.get(URL, {"taille": 2, "page": 9})) == []


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"depuis": "20-11-2026"}, "AAAA-MM-JJ"),
        ({"jusqua": "2026-02-30"}, "AAAA-MM-JJ"),
        ({"depuis": "2026-11-20", "jusqua": "2026-11-01"}, "postérieure"),
        ({"page": "0"}, "page"),
        ({"page": "deux"}, "page"),
        ({"taille": "5000"}, "taille"),
        ({"acheteur": "<script>"}, "SIRET"),
        ({"acheteur": "1" * 100}, "SIRET"),
        ({"buyer": "x"}, "inconnu"),
    ],
)
def test_bad_parameters_get_a_clear_400(client, db, query, words):
    response = client.get(URL, query)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_parameter" and words in body["detail"]


def test_bad_parameters_are_explained_in_english_on_request(client, db):
    response = client.get(URL, {"depuis": "hier"}, headers={"accept-language": "en"})
    assert response.status_code == 400 and "YYYY-MM-DD" in response.json()["detail"]


def test_a_page_takes_a_bounded_number_of_queries(client, published, buyer):
    with time_machine.travel(NOW, tick=False):
        for number in range(5, 15):
            decp.publish_initial(builders.contract(buyer, CompanyFactory(), number=f"2026-{number:03d}"))
    with CaptureQueriesContext(connection) as small:
        client.get(URL, {"taille": 2})
    with CaptureQueriesContext(connection) as large:
        response = client.get(URL, {"taille": 100})
    assert len(ids(response)) == 13
    assert len(large.captured_queries) == len(small.captured_queries) <= 4


def test_a_practice_consultation_never_appears(client, published):
    with scopes_disabled():
        contract = Contract.objects.get(number="2026-002")
        contract.consultation.is_practice = True
        contract.consultation.save(update_fields=["is_practice"])
    assert "2026-002" not in ids(client.get(URL))


def test_the_endpoint_is_documented_in_the_openapi_schema(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/decp"]["get"]
    assert {"200", "400"} <= set(operation["responses"]) and "acheteur" in operation["description"]
