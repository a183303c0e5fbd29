"""The retention purge and the tender files (DCE): deleted with the bids, 5 years after the end of a
procedure without contract (or after the signature); the public page then lists them as deleted, and
their downloads (file, ZIP, the buyer's copy) answer 410 Gone with the reason, never a server error."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.consultations.models import Consultation
from ebourgogne.contracts import retention
from ebourgogne.dce.models import DceFile, DceVersion
from ebourgogne.testing.awards import opened_consultation
from ebourgogne.testing.factories import make_member, sign_in

pytestmark = pytest.mark.django_db

MADE = dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.UTC)


def _at(day: dt.date):
    return time_machine.travel(dt.datetime(day.year, day.month, day.day, 12, 0, tzinfo=dt.UTC), tick=False)


def _published_dce(consultation) -> tuple[DceFile, DceVersion]:
    body = b"%PDF-1.7 reglement de la consultation"
    with scopes_disabled():
        version = DceVersion.objects.create(consultation=consultation, number=1, published_at=MADE)
        zipped = default_storage.save(f"dce/{consultation.pk}/v1.zip", ContentFile(b"PK zip"))
        DceVersion.objects.filter(pk=version.pk).update(
            archive_name=zipped, archive_size=6, archive_sha256="0" * 64, archive_ready_at=MADE
        )
        name = default_storage.save(f"dce/{consultation.pk}/rc.pdf", ContentFile(body))
        dce_file = DceFile.objects.create(
            consultation=consultation,
            name="RC.pdf",
            size=len(body),
            content_type="application/pdf",
            sha256=hashlib.sha256(body).hexdigest(),
            storage_name=name,
            added_in=version,
        )
        version.refresh_from_db()
    return dce_file, version


def test_the_dce_of_an_unsuccessful_consultation_goes_five_years_after_its_end(client, buyer, company):
    from ebourgogne.organisations.roles import Role

    with time_machine.travel(MADE, tick=False):
        opened = opened_consultation(buyer, companies=[company])
        consultation = opened.consultation
        with scopes_disabled():
            Consultation.objects.filter(pk=consultation.pk).update(state="unsuccessful", ended_at=MADE)
        dce_file, version = _published_dce(consultation)
    file_url = reverse("dce_public:file", args=[consultation.pk, dce_file.pk])
    zip_url = reverse("dce_public:archive", args=[consultation.pk])
    page_url = reverse("consultations_public:detail", args=[consultation.pk])

    with _at(dt.date(2031, 6, 15)):  # the last day: kept
        assert retention.purge().consultations == []
    assert client.get(file_url).status_code == 200
    assert file_url in client.get(page_url).content.decode()  # the page (and its kept copy) links the file

    with _at(dt.date(2031, 6, 16)):
        report = retention.purge(dry_run=True)
        assert [item.dce_files for item in report.consultations] == [2]  # the file and the ZIP
        assert default_storage.exists(dce_file.storage_name)  # a dry run deletes nothing
        report = retention.purge()
    assert [item.dce_files for item in report.consultations] == [2]
    assert report.as_dict()["dce_files"] == 2
    assert not default_storage.exists(dce_file.storage_name)
    assert not default_storage.exists(version.archive_name)
    with scopes_disabled():
        assert DceFile.objects.get(pk=dce_file.pk).storage_name == ""  # the row stays
        assert DceVersion.objects.get(pk=version.pk).archive_name == ""

    for url in (file_url, zip_url):
        response = client.get(url)
        assert response.status_code == 410
        assert "supprimé au terme de sa durée de conservation" in response.content.decode()
    page = client.get(page_url).content.decode()
    assert "RC.pdf" in page and "supprimé (durée de conservation écoulée)" in page
    assert file_url not in page and zip_url not in page

    agent = make_member(buyer, Role.BUYER_AGENT)
    sign_in(client, agent)
    buyer_copy = client.get(reverse("dce_buyer:file", args=[buyer.slug, consultation.pk, dce_file.pk]))
    assert buyer_copy.status_code == 410

    with _at(dt.date(2031, 6, 17)):
        assert retention.purge().consultations == []  # idempotent


def test_a_running_consultation_keeps_its_dce(buyer, company):
    with time_machine.travel(MADE, tick=False):
        opened = opened_consultation(buyer, companies=[company])  # still "opened": no date
        dce_file, _version = _published_dce(opened.consultation)
    with _at(dt.date(2099, 1, 1)):
        assert retention.purge().consultations == []
    assert default_storage.exists(dce_file.storage_name)
