"""The daily DECP files record their byte size and SHA-256 when built; the public page shows the sizes (human
readable) and GET /api/v1/decp/fichiers lists the files with their URL, size and SHA-256."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from ebourgogne.contracts import decp, tasks_decp
from ebourgogne.contracts.models import DecpDailyFile
from ebourgogne.core import clock
from ebourgogne.testing import contracts as builders

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def read(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


@pytest.fixture
def built(buyer, company):
    decp.publish_initial(builders.contract(buyer, company, number="2026-001"))
    today = clock.today_local()
    return tasks_decp.build_daily_file(today, now=clock.now() + dt.timedelta(days=1))


def test_the_size_and_digest_of_each_file_are_recorded(built):
    json_bytes, xml_bytes = read(built.json_storage_name), read(built.xml_storage_name)
    assert built.json_size == len(json_bytes) > 0 and built.xml_size == len(xml_bytes) > built.json_size
    assert built.json_sha256 == hashlib.sha256(json_bytes).hexdigest()
    assert built.xml_sha256 == hashlib.sha256(xml_bytes).hexdigest()


def test_the_page_shows_the_recorded_sizes(client, built):
    # The recorded size is shown (not the storage's): a made-up size proves where it is read from.
    DecpDailyFile.objects.filter(pk=built.pk).update(json_size=2_500_000, xml_size=1234)
    page = client.get(reverse("decp:index")).content.decode()
    assert "(2,4\xa0Mio)" in page and "(1,2\xa0Kio)" in page
    assert built.json_sha256 in page


def test_the_api_lists_the_files_with_size_and_digest(client, built):
    response = client.get("/api/v1/decp/fichiers")
    assert response.status_code == 200
    [item] = response.json()["fichiers"]
    assert item["jour"] == built.day.isoformat() and item["publications"] == 1
    assert item["json"]["taille"] == built.json_size and item["json"]["sha256"] == built.json_sha256
    assert item["xml"]["taille"] == built.xml_size and item["xml"]["sha256"] == built.xml_sha256
    download = client.get(item["json"]["url"])
    assert download.status_code == 200 and hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == (
        built.json_sha256
    )
    refused = client.get("/api/v1/decp/fichiers?jour=2026")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_parameter"
    assert client.get("/api/v1/decp/fichiers?page=0").status_code == 400
