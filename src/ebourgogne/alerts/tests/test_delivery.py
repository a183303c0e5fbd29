"""Mails of alerts: immediate, digests (idempotent, with a crash in the middle), RFC 8058 headers."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django_tasks_db.models import DBTaskResult

from ebourgogne.alerts import services, tasks
from ebourgogne.alerts.models import AlertDelivery, AlertMatch, Delivery
from ebourgogne.alerts.tests.conftest import new_alert
from ebourgogne.consultations.signals import consultation_changed, consultation_published
from ebourgogne.core.clock import PARIS
from ebourgogne.search.tests.conftest import published

pytestmark = pytest.mark.django_db

MAIL_TASK = "ebourgogne.notifications.tasks.send_mail"


def queued_mails() -> list[dict]:
    return [
        row.args_kwargs["kwargs"]
        for row in DBTaskResult.objects.filter(task_path=MAIL_TASK).order_by("enqueued_at", "id")
    ]


def test_publication_queues_percolation_after_commit(subscriber, django_capture_on_commit_callbacks):
    consultation = published(title="Voirie")
    with django_capture_on_commit_callbacks(execute=True):
        consultation_published.send(sender=None, consultation=consultation)
        consultation_changed.send(sender=None, consultation=consultation, changes={"title": ("a", "b")})
    queued = DBTaskResult.objects.filter(task_path="ebourgogne.alerts.tasks.percolate_consultation")
    assert [row.args_kwargs["args"] for row in queued] == [[consultation.pk], [consultation.pk]]


def test_immediate_alert_mails_once_with_unsubscribe_headers(subscriber, django_capture_on_commit_callbacks):
    alert = new_alert(subscriber, name="Voirie 21", q="voirie", departments=["21"], delivery=Delivery.IMMEDIATE)
    daily = new_alert(subscriber, name="Voirie quotidien", q="voirie", delivery=Delivery.DAILY)
    consultation = published(title="Réfection de la voirie communale", department="21")
    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.percolate_consultation.call(consultation.pk)
    assert result == {"matched": 2, "new": 2, "mailed": 1}
    mails = queued_mails()
    assert len(mails) == 1
    mail = mails[0]
    assert mail["to"] == [subscriber.email]
    assert "Voirie 21" in mail["subject"] and "Réfection de la voirie communale" in mail["text"]
    url = services.unsubscribe_url(alert).split("/alertes/desabonnement/")[0]
    unsubscribe = mail["headers"]["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{url}/alertes/desabonnement/") and unsubscribe.endswith(">")
    assert "mailto:" not in unsubscribe  # no address processes unsubscribe mails unless one is configured
    assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert AlertMatch.objects.filter(alert=daily, delivery__isnull=True).count() == 1  # for the digest

    # Changed again (a new deadline...): the alert already told of it, nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        again = tasks.percolate_consultation.call(consultation.pk)
    assert again == {"matched": 2, "new": 0, "mailed": 0}
    assert len(queued_mails()) == 1


def test_immediate_mail_in_the_owner_language(subscriber, django_capture_on_commit_callbacks):
    subscriber.language = "en"
    subscriber.save(update_fields=["language"])
    new_alert(subscriber, name="Roads", q="voirie")
    consultation = published(title="Voirie")
    with django_capture_on_commit_callbacks(execute=True):
        tasks.percolate_consultation.call(consultation.pk)
    (mail,) = queued_mails()
    assert mail["headers"]["Content-Language"] == "en"
    assert "Bonjour" not in mail["text"]


def _digest_setup(owners, kind=Delivery.DAILY, count=5):
    alerts = []
    with time_machine.travel(dt.datetime(2026, 11, 27, 10, 0, tzinfo=PARIS), tick=False):
        consultation = published(title="Entretien de la voirie", department="21")
        for i in range(count):
            alerts.append(new_alert(owners[i % len(owners)], name=f"Alerte {i}", q="voirie", delivery=kind))
        services.record_matches(consultation.pk, [alert.pk for alert in alerts])
    return alerts, consultation


def test_daily_digest_survives_a_crash_mid_batch(subscriber, monkeypatch, django_capture_on_commit_callbacks):
    alerts, _consultation = _digest_setup([subscriber])
    real_send = services._send
    calls = {"n": 0}

    def crashing_send(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # the first alert of the second batch
            raise RuntimeError("worker killed")
        return real_send(*args, **kwargs)

    run_at = dt.datetime(2026, 11, 28, 5, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(services, "_send", crashing_send)
    with time_machine.travel(run_at, tick=False), django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError):
            services.build_digests(Delivery.DAILY, batch=2)
    assert len(queued_mails()) == 2  # the first batch committed, the second rolled back with its mails
    assert AlertDelivery.objects.count() == 2

    monkeypatch.setattr(services, "_send", real_send)
    with (
        time_machine.travel(run_at + dt.timedelta(minutes=3), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.build_digests(Delivery.DAILY, batch=2) == 3
        assert services.build_digests(Delivery.DAILY, batch=2) == 0  # a second restart: nothing
    mails = queued_mails()
    assert sorted(mail["subject"].split("»")[0] for mail in mails) == sorted(f"Alerte « Alerte {i} " for i in range(5))
    assert set(AlertDelivery.objects.values_list("period", flat=True)) == {"d2026-11-27"}
    assert not AlertMatch.objects.filter(delivery__isnull=True).exists()
    assert all(mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" for mail in mails)


def test_digest_takes_only_matches_before_the_period_end(subscriber, django_capture_on_commit_callbacks):
    alerts, _ = _digest_setup([subscriber], count=1)
    with time_machine.travel(dt.datetime(2026, 11, 28, 8, 0, tzinfo=PARIS), tick=False):
        later = published(title="Voirie rurale")
        services.record_matches(later.pk, [alerts[0].pk])
    with time_machine.travel(dt.datetime(2026, 11, 28, 9, 0, tzinfo=PARIS), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert services.build_digests(Delivery.DAILY) == 1
    (mail,) = queued_mails()
    assert "Entretien de la voirie" in mail["text"] and "Voirie rurale" not in mail["text"]
    assert AlertMatch.objects.filter(consultation=later, delivery__isnull=True).count() == 1


def test_weekly_digest_period_and_paused_alerts(subscriber, django_capture_on_commit_callbacks):
    alerts, _ = _digest_setup([subscriber], kind=Delivery.WEEKLY, count=2)
    services.set_active(alert=alerts[1], acting_user=subscriber, active=False)
    monday = dt.datetime(2026, 11, 30, 5, 0, tzinfo=dt.UTC)
    assert services.digest_period(Delivery.WEEKLY, monday)[0] == "w2026-W48"
    with time_machine.travel(monday, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert services.build_digests(Delivery.WEEKLY) == 1
        assert services.build_digests(Delivery.DAILY) == 0
    assert [mail["subject"] for mail in queued_mails()] == [
        "Alerte « Alerte 0 » : 1 nouvelle consultation (résumé hebdomadaire)"
    ]


def test_periodic_jobs_are_registered():
    from ebourgogne.core.scheduler import registered_jobs

    jobs = registered_jobs()
    daily, weekly = jobs["alerts.daily_digests"], jobs["alerts.weekly_digests"]
    start = weekly.slot_start(weekly.slot_at(dt.datetime(2026, 12, 2, tzinfo=dt.UTC)))
    assert start.weekday() == 0 and start.hour == 5  # Mondays, 05:00 UTC
    assert daily.slot_start(daily.slot_at(dt.datetime(2026, 12, 2, 12, tzinfo=dt.UTC))).hour == 5


def test_the_mailto_unsubscribe_is_offered_only_when_an_address_processes_it(settings):
    from ebourgogne.alerts.services import list_unsubscribe_headers

    assert list_unsubscribe_headers("https://e-bourgogne.example/alertes/desabonnement/x/") == {
        "List-Unsubscribe": "<https://e-bourgogne.example/alertes/desabonnement/x/>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    settings.ALERTS_UNSUBSCRIBE_MAILTO = "desabonnement@e-bourgogne.example"
    headers = list_unsubscribe_headers("https://e-bourgogne.example/alertes/desabonnement/x/", "x")
    assert headers["List-Unsubscribe"] == (
        "<https://e-bourgogne.example/alertes/desabonnement/x/>, "
        "<mailto:desabonnement@e-bourgogne.example?subject=unsubscribe%20x>"
    )
