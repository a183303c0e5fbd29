"""The retention purge of the letters and of the commission's minutes: the letters of the procedure (award,
rejection) and the minutes follow the bids' date (R2184-12, 5 years from the signature), the letters that
notify the contract follow the contract's (R2184-13, 5 years after the end of execution); rows kept, files
deleted, downloads answer a clear message; the dry run lists them."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled

from ebourgogne.audit.models import AuditEvent
from ebourgogne.awards import services as award_services
from ebourgogne.awards.models import Letter
from ebourgogne.commissions.models import Commission
from ebourgogne.consultations.models import Consultation
from ebourgogne.contracts import retention
from ebourgogne.core.errors import DomainError
from ebourgogne.meetings import minutes as minutes_service
from ebourgogne.meetings.models import Minutes
from ebourgogne.testing import contracts as builders
from ebourgogne.testing.factories import sign_in
from ebourgogne.testing.meetings import add_item, make_meeting

pytestmark = pytest.mark.django_db

MADE = dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.UTC)  # signed 11 days before (4 June), ended at MADE
PROCEDURE_LAST_DAY = dt.date(2031, 6, 4)  # signature + 5 years
CONTRACT_LAST_DAY = dt.date(2031, 6, 15)  # end of execution + 5 years (services)


@pytest.fixture(autouse=True)
def _french():
    with translation.override("fr"):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def at(day: dt.date):
    return time_machine.travel(dt.datetime(day.year, day.month, day.day, 12, 0, tzinfo=dt.UTC), tick=False)


def _letter(contract, kind: str, company) -> Letter:
    body = f"%PDF-1.7 courrier {kind}".encode()
    name = default_storage.save(f"awards/letters/{kind}.pdf", ContentFile(body))
    with scopes_disabled():
        return Letter.objects.create(
            award=contract.award,
            consultation=contract.consultation,
            company=company,
            kind=kind,
            subject=f"Courrier {kind}",
            storage_name=name,
            sha256=hashlib.sha256(body).hexdigest(),
            size=len(body),
            created_at=MADE,
            sent_at=MADE,
        )


@pytest.fixture
def file(buyer, company, rival):
    """An ended services contract, a rejection letter (procedure), its notification letter (contract) and
    the signed minutes of the meeting that decided on its consultation."""
    with time_machine.travel(MADE, tick=False):
        contract = builders.contract(buyer, company, number="2026-L", state="ended")
        with scopes_disabled():
            Consultation.objects.filter(pk=contract.consultation_id).update(state="awarded", ended_at=MADE)
            commission = Commission.objects.create(organisation=buyer, name="Commission d'appel d'offres")
        rejection = _letter(contract, "rejection", rival)
        notification = _letter(contract, "contract", company)
        meeting = make_meeting(commission, days=-20, title="CAO de juin")
        add_item(meeting, kind="other", consultation=contract.consultation, title="Choix du titulaire")
        body = b"%PDF-1.7 proces-verbal"
        with scopes_disabled():
            minutes = Minutes.objects.create(
                meeting=meeting,
                state="signed",
                generated_at=MADE,
                unsigned_sha256=hashlib.sha256(body).hexdigest(),
                storage_name=default_storage.save("meetings/minutes/pv.pdf", ContentFile(body)),
                sha256=hashlib.sha256(body).hexdigest(),
                signed_at=MADE,
            )
    return {"contract": contract, "rejection": rejection, "notification": notification, "minutes": minutes}


def _reload(instance):
    with scopes_disabled():
        return type(instance).objects.get(pk=instance.pk)


def test_the_dates_follow_the_rules(file):
    assert retention.letter_retain_until(file["rejection"]) == PROCEDURE_LAST_DAY
    assert retention.letter_retain_until(file["notification"]) == CONTRACT_LAST_DAY
    assert retention.minutes_retain_until_many([file["minutes"].meeting_id]) == {
        file["minutes"].meeting_id: PROCEDURE_LAST_DAY
    }


def test_each_goes_the_day_after_its_last_day_rows_kept_downloads_explain(client, file, buyer, buyer_admin):
    rejection, notification, minutes = file["rejection"], file["notification"], file["minutes"]
    with at(PROCEDURE_LAST_DAY):
        report = retention.purge()
    assert report.letters == [] and report.minutes == []
    assert default_storage.exists(rejection.storage_name) and default_storage.exists(minutes.storage_name)

    with at(PROCEDURE_LAST_DAY + dt.timedelta(days=1)):
        report = retention.purge()
    assert [item.files for item in report.letters] == [["Courrier rejection (" + rejection.company.name + ")"]]
    assert [item.kind for item in report.minutes] == ["minutes"]
    assert not default_storage.exists(rejection.storage_name) and not default_storage.exists(minutes.storage_name)
    assert default_storage.exists(notification.storage_name)  # the contract's letter: its own, later date
    after = _reload(rejection)
    assert after.storage_name == "" and after.sha256 == rejection.sha256  # the row and its digest stay
    with pytest.raises(DomainError) as gone:
        award_services.letter_content(after)
    assert gone.value.code == "purged" and "durée de conservation" in gone.value.message
    kept_minutes = _reload(minutes)
    assert kept_minutes.storage_name == "" and kept_minutes.sha256 == minutes.sha256
    with pytest.raises(DomainError) as minutes_gone:
        minutes_service.read_current(kept_minutes)
    assert minutes_gone.value.code == "purged"

    # The buyer's download answers the message, never a server error.
    sign_in(client, buyer_admin)
    response = client.get(
        reverse("awards:letter_pdf", args=[buyer.slug, file["contract"].consultation_id, rejection.pk])
    )
    assert response.status_code == 409 and "durée de conservation" in response.content.decode()

    events = [event.data for event in AuditEvent.objects.filter(action="contracts.purged")]
    assert [data["letters"] for data in events if "letters" in data] == [1]
    assert [data["minutes"] for data in events if "minutes" in data] == [1]

    with at(CONTRACT_LAST_DAY + dt.timedelta(days=1)):
        report = retention.purge()
    assert [item.files for item in report.letters] == [["Courrier contract (" + notification.company.name + ")"]]
    assert report.minutes == [] and not default_storage.exists(notification.storage_name)
    with at(CONTRACT_LAST_DAY + dt.timedelta(days=2)):
        assert retention.purge().as_dict()["letters"] == 0  # idempotent


def test_the_dry_run_lists_them_and_deletes_nothing(file):
    out = io.StringIO()
    with at(CONTRACT_LAST_DAY + dt.timedelta(days=1)):
        call_command("retention_purge", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "Courriers de la consultation" in text and "Courrier rejection" in text and "Courrier contract" in text
    assert "Procès-verbal de la séance CAO de juin" in text
    for item in (file["rejection"], file["notification"], file["minutes"]):
        assert default_storage.exists(item.storage_name) and _reload(item).storage_name == item.storage_name


def test_minutes_of_a_meeting_without_consultation_and_letters_of_a_running_contract_are_kept(buyer, company):
    with time_machine.travel(MADE, tick=False):
        running = builders.contract(buyer, company, number="2026-R", state="notified")
        with scopes_disabled():
            Consultation.objects.filter(pk=running.consultation_id).update(state="awarded", ended_at=MADE)
            commission = Commission.objects.create(organisation=buyer, name="Commission d'appel d'offres")
        letter = _letter(running, "contract", company)
        meeting = make_meeting(commission, days=-20)
        add_item(meeting, title="Questions diverses")
        with scopes_disabled():
            minutes = Minutes.objects.create(
                meeting=meeting,
                state="signed",
                generated_at=MADE,
                unsigned_sha256="0" * 64,
                storage_name=default_storage.save("meetings/minutes/other.pdf", ContentFile(b"%PDF")),
                sha256="0" * 64,
            )
    with at(dt.date(2046, 1, 1)):
        report = retention.purge()
    assert report.letters == [] and report.minutes == []
    assert default_storage.exists(letter.storage_name) and default_storage.exists(minutes.storage_name)
