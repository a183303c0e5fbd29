"""Sending templated mail through the task queue to a real SMTP server (aiosmtpd), in each language."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django.tasks import TaskResultStatus, task_backends
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from ebourgogne.core import clock
from ebourgogne.core.worker import make_worker
from ebourgogne.notifications.models import OutboxMessage
from ebourgogne.notifications.services import queue_email, render_templated_mail, send_templated_mail
from ebourgogne.notifications.tasks import MAX_ATTEMPTS, send_mail

OUTBOX = {"default": {"BACKEND": "ebourgogne.notifications.backends.OutboxBackend"}}
UNREACHABLE_SMTP = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 2},
    }
}
TEST_TEMPLATE = "notifications/email/test_message"

pytestmark = pytest.mark.django_db(transaction=True)


def run_mail_queue() -> None:
    """What `ebourgogne worker` does: run every ready task of the configured backend."""
    make_worker(backend=task_backends["default"], batch=True).run()


def mail_tasks():
    return DBTaskResult.objects.filter(task_path=send_mail.module_path).order_by("enqueued_at")


def send_test_message(to: str, language: str | None) -> None:
    with transaction.atomic():
        send_templated_mail(
            template=TEST_TEMPLATE, to=[to], context={"requested_by": "paula@e-bourgogne.test"}, language=language
        )


def test_mail_in_french_and_in_english_through_smtp(smtp_server, settings):
    send_test_message("camille@exemple.test", "fr")
    send_test_message("jordan@example.test", "en")
    assert smtp_server.messages == []  # nothing is sent until the worker runs
    assert [task.queue_name for task in mail_tasks()] == ["mail", "mail"]

    run_mail_queue()

    french, english = sorted(smtp_server.wait_for(2), key=lambda message: message["To"])
    assert french["To"] == "camille@exemple.test"
    assert french["Subject"] == "Courriel d'essai de e-bourgogne"
    assert english["Subject"] == "e-bourgogne test e-mail"
    for message, language in ((french, "fr"), (english, "en")):
        assert message["From"] == settings.DEFAULT_FROM_EMAIL
        assert message["Content-Language"] == language
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["Message-ID"] and message["Date"]
        assert message.get_content_type() == "multipart/alternative"
        assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
        html = message.get_body(("html",)).get_content()
        assert f'<html lang="{language}"' in html
        assert "<title>" in html and 'role="article"' in html

    french_text = french.get_body(("plain",)).get_content()
    english_text = english.get_body(("plain",)).get_content()
    assert french_text.startswith("Bonjour,")
    assert "sait vous envoyer des courriels" in french_text
    assert "paula@e-bourgogne.test" in french_text
    assert english_text.startswith("Hello,")
    assert "can send you e-mails" in english_text
    assert "Merci de ne pas y répondre" in french.get_body(("html",)).get_content()
    assert "Please do not reply" in english.get_body(("html",)).get_content()
    assert "&lt;" not in french_text  # the text version is not HTML-escaped
    assert [envelope.rcpt_tos for envelope in sorted(smtp_server.envelopes, key=lambda e: e.rcpt_tos)] == [
        ["camille@exemple.test"],
        ["jordan@example.test"],
    ]
    assert {task.status for task in mail_tasks()} == {TaskResultStatus.SUCCESSFUL}


def test_french_is_the_default_language(smtp_server):
    send_test_message("camille@exemple.test", None)
    run_mail_queue()
    [message] = smtp_server.wait_for(1)
    assert message["Content-Language"] == "fr"
    assert message["Subject"] == "Courriel d'essai de e-bourgogne"


def test_nothing_is_sent_when_the_transaction_rolls_back(smtp_server):
    class Refused(Exception):
        pass

    with pytest.raises(Refused), transaction.atomic():
        send_templated_mail(template=TEST_TEMPLATE, to=["camille@exemple.test"], context={}, language="fr")
        raise Refused
    run_mail_queue()
    assert mail_tasks().count() == 0
    assert smtp_server.messages == []


def test_bad_recipients_are_refused_at_once():
    with pytest.raises(ValueError):
        send_templated_mail(template=TEST_TEMPLATE, to=[], context={})
    with pytest.raises(ValueError):
        send_templated_mail(template=TEST_TEMPLATE, to=["pas-une-adresse"], context={})
    assert mail_tasks().count() == 0


def test_the_outbox_backend_keeps_every_message(settings):
    settings.MAILERS = OUTBOX
    send_test_message("camille@exemple.test", "fr")
    run_mail_queue()

    stored = OutboxMessage.objects.get()
    assert stored.status == OutboxMessage.Status.KEPT
    assert stored.to == ["camille@exemple.test"]
    assert stored.subject == "Courriel d'essai de e-bourgogne"
    assert stored.text_body.startswith("Bonjour,")
    assert '<html lang="fr"' in stored.html_body
    assert stored.headers["Content-Language"] == "fr"
    assert stored.headers["Subject"] == stored.subject
    assert "Message-ID" in stored.headers and "Content-Type" not in stored.headers
    assert stored.from_email == settings.DEFAULT_FROM_EMAIL


def test_the_outbox_backend_keeps_copies_html_only_bodies_and_attachments(settings):
    settings.MAILERS = OUTBOX
    html_only = EmailMessage(subject="HTML", body="<p>Bonjour</p>", to=["a@exemple.test"], bcc=["audit@exemple.test"])
    html_only.content_subtype = "html"
    with_alternative = EmailMultiAlternatives(
        subject="Pièce jointe", body="Texte", to=["b@exemple.test"], cc=["C@Exemple.test"], reply_to=["r@exemple.test"]
    )
    with_alternative.attach_alternative("<p>Texte</p>", "text/html")
    with_alternative.attach("avis.pdf", b"%PDF-1.7 ...", "application/pdf")
    assert html_only.send() == 1 and with_alternative.send() == 1

    first, second = OutboxMessage.objects.order_by("id")
    assert (first.text_body, first.html_body, first.bcc) == ("", "<p>Bonjour</p>", ["audit@exemple.test"])
    assert second.cc == ["C@Exemple.test"] and second.reply_to == ["r@exemple.test"]
    assert second.html_body == "<p>Texte</p>"
    assert second.attachments == [{"filename": "avis.pdf", "mimetype": "application/pdf", "size": 12}]
    assert "c@exemple.test" in second.recipients  # searchable in lower case


def test_a_temporary_smtp_failure_is_retried_later(smtp_server):
    smtp_server.refuse_next(1, code=451)
    start = clock.now()
    send_test_message("camille@exemple.test", "fr")
    run_mail_queue()

    assert smtp_server.refused == 1 and smtp_server.messages == []
    first, retry = mail_tasks()
    assert first.status == TaskResultStatus.SUCCESSFUL and first.return_value["status"] == "retrying"
    assert retry.status == TaskResultStatus.READY
    assert retry.args_kwargs["kwargs"]["attempt"] == 2
    assert dt.timedelta(seconds=55) < retry.run_after - start < dt.timedelta(minutes=2)

    run_mail_queue()  # too early: the retry waits
    assert smtp_server.messages == []
    with time_machine.travel(clock.now() + dt.timedelta(minutes=2)):
        run_mail_queue()
    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == "Courriel d'essai de e-bourgogne"
    assert OutboxMessage.objects.count() == 0


def test_a_final_smtp_refusal_keeps_the_message_as_failed(smtp_server):
    smtp_server.refuse_next(1, code=550, text="5.1.1 No such user")
    send_test_message("inconnu@exemple.test", "en")
    run_mail_queue()

    [task] = mail_tasks()
    assert task.status == TaskResultStatus.FAILED
    assert "SMTPRecipientsRefused" in task.traceback or "SMTPDataError" in task.traceback
    kept = OutboxMessage.objects.get()
    assert kept.status == OutboxMessage.Status.FAILED
    assert kept.to == ["inconnu@exemple.test"]
    assert kept.subject == "e-bourgogne test e-mail"
    assert kept.text_body.startswith("Hello,") and kept.html_body
    assert "550" in kept.error and kept.attempts == 1


def test_an_unreachable_server_is_given_up_after_the_last_attempt(settings):
    settings.MAILERS = UNREACHABLE_SMTP
    rendered = render_templated_mail(template=TEST_TEMPLATE, context={}, language="fr")
    with pytest.raises(OSError):
        send_mail.call(
            to=["camille@exemple.test"],
            subject=rendered["subject"],
            text=rendered["text"],
            html=rendered["html"],
            attempt=MAX_ATTEMPTS,
        )
    kept = OutboxMessage.objects.get()
    assert kept.status == OutboxMessage.Status.FAILED
    assert kept.attempts == MAX_ATTEMPTS
    assert "ConnectionRefusedError" in kept.error


def test_with_the_immediate_backend_a_failure_is_kept_at_once(settings):
    settings.MAILERS = UNREACHABLE_SMTP
    immediate = {
        "default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "mail"]}
    }
    with override_settings(TASKS=immediate):
        send_test_message("camille@exemple.test", "fr")  # no deferred retry possible: kept as failed
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.FAILED


def test_queue_email_sends_a_prepared_message_after_commit(smtp_server):
    prepared = EmailMultiAlternatives(
        subject="Confirmez votre adresse", body="Lien : https://exemple.test/c/1", to=["x@exemple.test"]
    )
    prepared.attach_alternative("<p>Lien</p>", "text/html")
    with transaction.atomic():
        queue_email(prepared)
        assert mail_tasks().count() == 0
    run_mail_queue()
    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == "Confirmez votre adresse"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_body(("plain",)).get_content().strip() == "Lien : https://exemple.test/c/1"


def test_a_template_without_text_or_html_version_gets_one():
    from django.template import engines

    templates = {
        "t/only_html_subject.txt": "Sujet",
        "t/only_html.html": "<p>Bonjour &amp; bienvenue</p>",
        "t/only_text_subject.txt": "Sujet",
        "t/only_text.txt": "Bonjour,\n\nVoir https://exemple.test/a",
    }
    engine = engines["django"].engine
    loaders = [("django.template.loaders.locmem.Loader", templates), *engine.loaders]
    options = {**engine_options(), "loaders": loaders}
    with override_settings(
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "OPTIONS": options}]
    ):
        from_html = render_templated_mail(template="t/only_html", context={}, language="fr")
        from_text = render_templated_mail(template="t/only_text", context={}, language="en")
    assert from_html["text"] == "Bonjour & bienvenue\n"
    assert '<html lang="en"' in from_text["html"]
    assert '<a href="https://exemple.test/a"' in from_text["html"]
    assert "Please do not reply" in from_text["html"]


def engine_options() -> dict:
    from django.conf import settings

    options = dict(settings.TEMPLATES[0].get("OPTIONS", {}))
    options.pop("loaders", None)
    return options
