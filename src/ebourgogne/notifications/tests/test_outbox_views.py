"""The operators' outbox pages: access, search, pagination, the sandboxed HTML version, resend, test mail."""

from __future__ import annotations

import pytest
from django.tasks import task_backends
from django.urls import reverse
from django.utils import translation
from django_tasks_db.models import DBTaskResult

from ebourgogne.core.worker import make_worker
from ebourgogne.notifications.models import OutboxMessage
from ebourgogne.notifications.tasks import send_mail
from ebourgogne.testing.factories import sign_in

OUTBOX_MAILER = {"default": {"BACKEND": "ebourgogne.notifications.backends.OutboxBackend"}}


def make_message(**fields) -> OutboxMessage:
    values = {
        "from_email": "e-bourgogne <ne-pas-repondre@e-bourgogne.test>",
        "to": ["camille@exemple.test"],
        "subject": "Invitation",
        "text_body": "Bonjour,\n\nVoici votre lien.",
        "html_body": "<p>Bonjour</p>",
        "headers": {"Content-Language": "fr", "Message-ID": "<1@e-bourgogne.test>"},
        **fields,
    }
    addresses = [*values["to"], *values.get("cc", []), *values.get("bcc", [])]
    values.setdefault("recipients", " ".join(address.lower() for address in addresses))
    return OutboxMessage.objects.create(**values)


@pytest.fixture
def operator_client(client, operator):
    return sign_in(client, operator)


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_login_and_others_see_nothing(client, company_admin):
    message = make_message()
    for name, args in (("outbox", []), ("outbox_detail", [message.pk]), ("outbox_html", [message.pk])):
        url = reverse(f"notifications:{name}", args=args)
        response = client.get(url)
        assert response.status_code == 302 and "/comptes/" in response["Location"]
    sign_in(client, company_admin)
    for name, args in (("outbox", []), ("outbox_detail", [message.pk]), ("outbox_html", [message.pk])):
        assert client.get(reverse(f"notifications:{name}", args=args)).status_code == 404


@pytest.mark.django_db
def test_list_search_by_recipient_and_status(operator_client):
    make_message(to=["Camille@Exemple.test"], subject="Pour Camille")
    make_message(to=["jordan@example.test"], cc=["camille@autre.test"], subject="Pour Jordan")
    make_message(to=["sam@exemple.test"], subject="Refusé", status=OutboxMessage.Status.FAILED)

    page = operator_client.get(reverse("notifications:outbox")).content.decode()
    assert "Pour Camille" in page and "Pour Jordan" in page and "Refusé" in page

    page = operator_client.get(reverse("notifications:outbox"), {"recipient": "camille"}).content.decode()
    assert "Pour Camille" in page and "Pour Jordan" in page and "Refusé" not in page  # Jordan's has Camille in copy

    page = operator_client.get(reverse("notifications:outbox"), {"recipient": "CAMILLE@EXEMPLE"}).content.decode()
    assert "Pour Camille" in page and "Pour Jordan" not in page

    page = operator_client.get(reverse("notifications:outbox"), {"status": "failed"}).content.decode()
    assert "Refusé" in page and "Pour Camille" not in page


@pytest.mark.django_db
def test_bad_filters_give_a_page_not_an_error(operator_client):
    response = operator_client.get(
        reverse("notifications:outbox"), {"status": "nimporte", "page": "abc", "recipient": "x" * 500}
    )
    assert response.status_code == 200
    assert (
        'aria-describedby="id_status_error"' in response.content.decode()
        or "id_status_error" in response.content.decode()
    )


@pytest.mark.django_db
def test_pagination_keeps_the_search(operator_client):
    for number in range(60):
        make_message(subject=f"Message {number:02d}")
    first = operator_client.get(reverse("notifications:outbox"), {"recipient": "camille"}).content.decode()
    assert "Message 59" in first and "Message 09" not in first
    assert "Page 1 sur 2" in first
    assert "?recipient=camille&amp;page=2" in first
    second = operator_client.get(reverse("notifications:outbox"), {"recipient": "camille", "page": 2}).content.decode()
    assert "Message 09" in second and "Message 59" not in second


@pytest.mark.django_db
def test_detail_shows_the_text_escaped_and_the_html_in_a_sandbox(operator_client):
    message = make_message(
        text_body="<script>alert(1)</script> Bonjour", html_body="<p>Bonjour</p><script>alert(2)</script>"
    )
    response = operator_client.get(reverse("notifications:outbox_detail", args=[message.pk]))
    page = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Bonjour" in page
    assert "alert(2)" not in page  # the HTML version is not in our page, only framed
    html_url = reverse("notifications:outbox_html", args=[message.pk])
    assert f'<iframe class="outbox-html" src="{html_url}" sandbox=""' in page
    assert "Content-Language" in page and "&lt;1@e-bourgogne.test&gt;" in page
    assert "unsafe-inline" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_the_html_version_is_served_sandboxed_and_only_framed_by_us(operator_client):
    message = make_message()
    response = operator_client.get(reverse("notifications:outbox_html", args=[message.pk]))
    assert response.status_code == 200
    assert response.content == b"<p>Bonjour</p>"
    policy = [directive.strip() for directive in response["Content-Security-Policy"].split(";")]
    assert "sandbox" in policy
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'self'" in policy
    assert "img-src data:" in policy
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert response["X-Content-Type-Options"] == "nosniff"

    without_html = make_message(html_body="")
    assert operator_client.get(reverse("notifications:outbox_html", args=[without_html.pk])).status_code == 404
    assert operator_client.get(reverse("notifications:outbox_detail", args=[999999])).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_resend_a_failed_message_once(operator_client, operator, settings):
    from ebourgogne.audit.models import AuditEvent

    settings.MAILERS = OUTBOX_MAILER
    failed = make_message(status=OutboxMessage.Status.FAILED, error="SMTPRecipientsRefused: 550", attempts=5)
    url = reverse("notifications:outbox_resend", args=[failed.pk])
    assert operator_client.get(url).status_code == 405

    response = operator_client.post(url, follow=True)
    assert "Le courriel sera renvoyé" in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == OutboxMessage.Status.RESENT and failed.resent_at is not None
    assert AuditEvent.objects.filter(action="notifications.mail.resent", actor_id=operator.pk).count() == 1

    make_worker(backend=task_backends["default"], batch=True).run()
    again = OutboxMessage.objects.exclude(pk=failed.pk).get()
    assert again.status == OutboxMessage.Status.KEPT
    assert (again.to, again.subject, again.text_body) == (failed.to, failed.subject, failed.text_body)

    response = operator_client.post(url, follow=True)
    assert "une seule fois" in response.content.decode()
    assert DBTaskResult.objects.filter(task_path=send_mail.module_path).count() == 1


@pytest.mark.django_db(transaction=True)
def test_operators_send_a_test_mail_in_the_chosen_language(operator_client, settings):
    settings.MAILERS = OUTBOX_MAILER
    response = operator_client.post(reverse("notifications:send_test"), {"to": "essai@exemple.test", "language": "en"})
    assert response.status_code == 302
    make_worker(backend=task_backends["default"], batch=True).run()
    sent = OutboxMessage.objects.get()
    assert sent.to == ["essai@exemple.test"]
    assert sent.subject == "e-bourgogne test e-mail"
    assert "paula@e-bourgogne.test" in sent.text_body


@pytest.mark.django_db
def test_a_bad_test_mail_address_is_explained_and_nothing_is_queued(operator_client):
    response = operator_client.post(reverse("notifications:send_test"), {"to": "pas une adresse", "language": "fr"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'aria-describedby="id_to_error"' in page or "id_to_error" in page
    assert "adresse" in page.lower()
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db
def test_pages_in_english(operator_client):
    make_message()
    with translation.override("en"):
        page = operator_client.get(reverse("notifications:outbox"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Sent e-mails" in page and "Send a test e-mail" in page
