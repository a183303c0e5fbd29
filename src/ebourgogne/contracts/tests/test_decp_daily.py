"""The daily DECP file (complete, valid, idempotent), its public page and downloads, the status shown to the
buyer and the list of a buyer's contracts past the deadline."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django_scopes import scopes_disabled

from ebourgogne.contracts import decp, tasks_decp
from ebourgogne.contracts.decp_selectors import decp_overdue
from ebourgogne.contracts.models import ChangeState, Contract, DecpDailyFile, Modification
from ebourgogne.core import clock
from ebourgogne.core.scheduler import registered_jobs
from ebourgogne.testing import contracts as builders
from ebourgogne.testing.factories import CompanyFactory

DAY = dt.date(2026, 11, 19)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def at(day: dt.date, hour: int = 10, minute: int = 0):
    """A moment of `day` in Paris time."""
    moment = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=clock.PARIS)
    return time_machine.travel(moment.astimezone(dt.UTC), tick=False)


@pytest.fixture
def published(buyer, other_buyer, company):
    """First (published the 18th, modified the 19th), second (published the 19th at 23:30 Paris),
    third (published the 20th at 00:30 Paris), small (below the threshold)."""
    made = {}
    with at(DAY - dt.timedelta(days=1)):
        made["first"] = builders.contract(buyer, company, number="2026-001")
        decp.publish_initial(made["first"])
    with at(DAY), scopes_disabled():
        change = Modification.objects.create(
            contract=made["first"],
            number=1,
            legal_ground="R2194-2",
            object="Avenant",
            amount_change=Decimal("3000"),
            effective_on=DAY,
            state=ChangeState.NOTIFIED,
            created_at=dt.datetime(2026, 11, 18, tzinfo=dt.UTC),
            notified_at=dt.datetime(2026, 11, 19, 8, tzinfo=dt.UTC),
        )
        decp.publish_modification(change)
    with at(DAY, 23, 30):
        made["second"] = builders.contract(other_buyer, CompanyFactory(), number="A-1")
        decp.publish_initial(made["second"])
        made["small"] = builders.contract(buyer, company, number="2026-002", amount=Decimal("39999.99"))
        decp.publish_initial(made["small"])
    with at(DAY + dt.timedelta(days=1), 0, 30):
        made["third"] = builders.contract(buyer, CompanyFactory(), number="2026-003")
        decp.publish_initial(made["third"])
    return made


def read(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def test_the_daily_file_holds_every_contract_touched_that_day_as_it_stood_at_its_end(published):
    with at(DAY + dt.timedelta(days=1), 3):
        built = tasks_decp.build_daily_file(DAY)
    assert built.day == DAY and built.records == 2
    document = json.loads(read(built.json_storage_name))
    assert decp.json_errors(document) == []
    items = {item["id"]: item for item in document["marches"]["marche"]}
    assert set(items) == {"2026-001", "A-1"}  # not the one of the 20th (Paris), nor the small one
    assert [entry["modification"]["montant"] for entry in items["2026-001"]["modifications"]] == [123000]
    xml = read(built.xml_storage_name)
    assert decp.xml_errors(xml) == []
    assert built.json_sha256 == hashlib.sha256(read(built.json_storage_name)).hexdigest()
    assert built.xml_sha256 == hashlib.sha256(xml).hexdigest()


def test_the_daily_file_is_built_once(published, tmp_path):
    with at(DAY + dt.timedelta(days=1), 3):
        first = tasks_decp.build_daily_file(DAY)
    with at(DAY + dt.timedelta(days=1), 4):
        decp.publish_initial(builders.contract(published["first"].organisation, CompanyFactory(), number="LATE"))
        again = tasks_decp.build_daily_file(DAY)
    assert again.pk == first.pk and again.json_sha256 == first.json_sha256
    assert DecpDailyFile.objects.count() == 1
    files = sorted(path.name for path in (tmp_path / "decp" / "quotidien" / "2026").iterdir())
    assert files == ["decp-2026-11-19.json", "decp-2026-11-19.xml"]


def test_the_job_builds_the_missing_days_from_the_first_publication_and_only_once(published):
    with at(DAY + dt.timedelta(days=2), 2, 30):
        result = tasks_decp.decp_daily_file.call()
        assert result["built"] == ["2026-11-18", "2026-11-19", "2026-11-20"]
        assert result["records"] == 1 + 2 + 1
        assert tasks_decp.decp_daily_file.call()["built"] == []
    assert list(DecpDailyFile.objects.order_by("day").values_list("records", flat=True)) == [1, 2, 1]
    assert "contracts.decp_daily_file" in registered_jobs()


def test_a_day_without_publication_gets_an_empty_valid_file(db):
    with at(DAY + dt.timedelta(days=1), 3):
        built = tasks_decp.build_missing()
    assert [item.day for item in built] == [DAY]
    document = json.loads(read(built[0].json_storage_name))
    assert document == {"marches": {"marche": []}} and decp.json_errors(document) == []
    assert decp.xml_errors(read(built[0].xml_storage_name)) == []


def test_the_public_page_lists_the_files_with_size_and_hash_and_serves_them(client, published):
    with at(DAY + dt.timedelta(days=1), 3):
        built = tasks_decp.build_daily_file(DAY)
    response = client.get("/donnees-essentielles/")
    assert response.status_code == 200
    page = response.content.decode()
    assert built.json_sha256 in page and built.xml_sha256 in page
    assert "/donnees-essentielles/2026-11-19.json" in page and "/api/v1/decp" in page
    download = client.get("/donnees-essentielles/2026-11-19.xml")
    assert download.status_code == 200 and download["Content-Type"].startswith("application/xml")
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == built.xml_sha256
    for missing in ("2026-11-18.json", "2026-11-19.pdf", "hier.json", "2026-13-45.json"):
        assert client.get(f"/donnees-essentielles/{missing}").status_code == 404


def test_the_public_page_says_when_there_is_no_file(client, db):
    response = client.get("/donnees-essentielles/")
    assert response.status_code == 200 and "Aucun fichier quotidien" in response.content.decode()


# --- The deadline shown to the buyer -----------------------------------------------------------------------


def status_html(contract) -> str:
    with scopes_disabled():
        return " ".join(render_to_string("contracts/_decp_status.html", {"contract": contract}).split())


def test_the_status_block_says_what_the_buyer_must_know(buyer, company):
    with at(dt.date(2026, 12, 31)):
        small = builders.contract(buyer, company, number="S", amount=Decimal("39999.99"))
        assert "Non requises" in status_html(small)
        signed = builders.contract(buyer, company, number="P", state="signed")
        assert "à la notification" in status_html(signed)
        notified = builders.contract(buyer, company, number="N", notified_days_ago=0)
        assert "À publier au plus tard le 28 février 2027" in status_html(notified)
    with at(dt.date(2027, 3, 1)):
        assert "En retard" in status_html(notified)
        decp.publish_initial(notified)
        with scopes_disabled():
            notified = Contract.objects.get(pk=notified.pk)
        html = status_html(notified)
    assert "Publiées le 1 mars 2027" in html and "Le délai expirait le 28 février 2027" in html


def test_overdue_lists_only_the_buyers_unpublished_contracts_past_two_months(buyer, other_buyer, company):
    with at(dt.date(2026, 12, 31)):
        late = builders.contract(buyer, company, number="LATE", notified_days_ago=0)
        builders.contract(buyer, company, number="SMALL", amount=Decimal("39999.99"), notified_days_ago=0)
        done = builders.contract(buyer, company, number="DONE", notified_days_ago=0)
        decp.publish_initial(done)
        builders.contract(other_buyer, company, number="OTHER", notified_days_ago=0)
    with at(dt.date(2027, 1, 1)):
        recent = builders.contract(buyer, company, number="RECENT", notified_days_ago=0)
    assert decp_overdue(buyer, today=dt.date(2027, 2, 28)) == []
    assert [c.number for c in decp_overdue(buyer, today=dt.date(2027, 3, 1))] == ["LATE"]
    assert [c.number for c in decp_overdue(buyer, today=dt.date(2027, 3, 2))] == ["LATE", "RECENT"]
    assert late.pk and recent.pk
