"""Expiry reminders: sent by the daily job to the company's admins and members through the real SMTP test
server, once per threshold (30 and 7 days by default) whatever the number of runs, again for a new version
with a new end date; never for a deleted document or another threshold setting's days."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.tasks import task_backends
from django_scopes import scopes_disabled

from ebourgogne.core.worker import make_worker
from ebourgogne.vault import services, tasks
from ebourgogne.vault.models import ReminderSent
from ebourgogne.vault.tests.conftest import pdf_bytes
from ebourgogne.vault.tests.helpers import add_version, only_document, upload

pytestmark = pytest.mark.django_db(transaction=True)


def at(day: str):
    return time_machine.travel(dt.datetime.fromisoformat(f"{day}T07:00:00+00:00"), tick=False)


def deliver():
    make_worker(backend=task_backends["default"], batch=True).run()


def run_job(day: str) -> dict[str, int]:
    with at(day):
        result = tasks.expiry_reminders_task.call()
        deliver()
        return result


def test_once_per_threshold(smtp_server, client, company, company_admin, company_member, vault_dir):
    from ebourgogne.testing.factories import sign_in

    with at("2026-05-01"):
        sign_in(client, company_admin)
        upload(
            client, company, "urssaf.pdf", pdf_bytes(), doc_type="urssaf", title="URSSAF S1", valid_until="2026-07-31"
        )
    assert run_job("2026-06-30") == {"sent": 0, "documents": 0}  # 31 days before
    assert run_job("2026-07-01") == {"sent": 2, "documents": 1}  # 30 days: the admin and the member
    messages = smtp_server.wait_for(2)
    assert sorted(m["To"] for m in messages) == sorted([company_admin.email, company_member.email])
    assert messages[0]["Subject"] == "Coffre-fort : « URSSAF S1 » expire dans 30 jours"
    text = messages[0].get_body(preferencelist=("plain",)).get_content()
    assert "n'est plus valide après le 31/07/2026" in text
    assert f"/organisations/{company.slug}/coffre-fort/" in text

    for day in ("2026-07-01", "2026-07-02", "2026-07-23"):
        assert run_job(day)["sent"] == 0  # the same threshold never again, and nothing between thresholds
    assert run_job("2026-07-24") == {"sent": 2, "documents": 1}  # 7 days
    assert smtp_server.wait_for(4)[-1]["Subject"] == "Coffre-fort : « URSSAF S1 » expire dans 7 jours"
    assert run_job("2026-07-30")["sent"] == 0
    assert run_job("2026-08-01")["sent"] == 0  # expired: the status says so, no more mail
    assert len(smtp_server.messages) == 4

    # A new version with a new end date: its own reminders.
    with at("2026-08-02"):
        sign_in(client, company_admin)  # a new session: the first one has expired
        answer = add_version(
            client, company, only_document(company), "urssaf-s2.pdf", pdf_bytes(), valid_until="2027-01-31"
        )
        assert answer.status_code == 302
    assert run_job("2027-01-01")["documents"] == 1
    with scopes_disabled():
        assert sorted(ReminderSent.objects.values_list("valid_until", "threshold_days")) == [
            (dt.date(2026, 7, 31), 7),
            (dt.date(2026, 7, 31), 30),
            (dt.date(2027, 1, 31), 30),
        ]


def test_a_document_added_late_gets_the_nearest_reminder_only(company, company_admin, client, vault_dir, smtp_server):
    from ebourgogne.testing.factories import sign_in

    with at("2026-07-26"):
        sign_in(client, company_admin)
        upload(
            client,
            company,
            "assurance.pdf",
            pdf_bytes(),
            doc_type="insurance",
            title="RC pro",
            valid_until="2026-07-31",
        )
    assert run_job("2026-07-26") == {"sent": 1, "documents": 1}
    assert smtp_server.wait_for(1)[0]["Subject"] == "Coffre-fort : « RC pro » expire dans 5 jours"
    assert run_job("2026-07-27")["sent"] == 0
    with scopes_disabled():
        assert sorted(ReminderSent.objects.values_list("threshold_days", flat=True)) == [7, 30]


def test_the_thresholds_are_a_setting_and_deleted_documents_are_left_alone(
    settings, company, company_admin, client, vault_dir
):
    from ebourgogne.testing.factories import sign_in

    settings.VAULT_REMINDER_DAYS = [15]
    with at("2026-07-01"):
        sign_in(client, company_admin)
        upload(client, company, "kbis.pdf", pdf_bytes(), title="Kbis", valid_until="2026-07-31")
        upload(client, company, "rib.pdf", pdf_bytes(), doc_type="bank", title="RIB", valid_until="2026-07-31")
        with scopes_disabled():
            from ebourgogne.vault.models import VaultDocument

            rib = VaultDocument.objects.get(title="RIB")
        client.post(f"/organisations/{company.slug}/coffre-fort/{rib.pk}/supprimer/")
    assert run_job("2026-07-01")["sent"] == 0  # 30 days is no threshold now
    with at("2026-07-16"):
        assert services.send_expiry_reminders()["documents"] == 1  # the Kbis; the deleted RIB is not reminded
