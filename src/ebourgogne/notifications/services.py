"""Sending e-mails, and the operators' actions on the outbox."""

from __future__ import annotations

import html as html_lib
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from ebourgogne.audit.services import log_event
from ebourgogne.core import clock
from ebourgogne.core.access import is_operator
from ebourgogne.core.errors import DomainError, PermissionRefused
from ebourgogne.core.tasks import enqueue_on_commit
from ebourgogne.notifications.backends import message_bodies
from ebourgogne.notifications.models import OutboxMessage
from ebourgogne.notifications.tasks import send_mail

# Headers on every automatic mail: the language of its content, and "do not auto-reply" (RFC 3834).
AUTOMATIC_HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}


def render_templated_mail(*, template: str, context: dict[str, Any], language: str) -> dict[str, str]:
    """Subject, text and HTML of `template` in `language`. Either body may be missing (not both): the text
    version is then made from the HTML, the HTML version from the text, in the shared mail layout."""
    with translation.override(language):
        full_context = {
            "LANGUAGE_CODE": language,
            "PLATFORM_NAME": "e-bourgogne",
            "BASE_URL": settings.BASE_URL,
            **context,
        }
        subject = " ".join(render_to_string(f"{template}_subject.txt", full_context).split())
        full_context["subject"] = subject
        try:
            text = render_to_string(f"{template}.txt", full_context)
        except TemplateDoesNotExist:
            text = None
        try:
            html = render_to_string(f"{template}.html", full_context)
        except TemplateDoesNotExist:
            if text is None:
                raise
            html = render_to_string("notifications/email/from_text.html", {**full_context, "text": text})
        if text is None:
            text = html_lib.unescape(strip_tags(html))
    return {"subject": subject, "text": text.strip() + "\n", "html": html}


def send_templated_mail(
    *,
    template: str,
    to: list[str],
    context: dict[str, Any],
    language: str | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Render `<template>_subject.txt`, `<template>.txt` and `<template>.html` in `language` (the
    recipient's; French by default) and send them after the current transaction commits, through the
    task queue ("mail" queue, retried when the SMTP server fails).

    The context is used now, inside the caller's transaction: it may hold model instances. Only the
    rendered strings travel through the queue. `headers` are added to the message (List-Unsubscribe and
    List-Unsubscribe-Post of RFC 8058, for instance).
    """
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        raise ValueError("send_templated_mail needs at least one recipient")
    for address in recipients:
        try:
            validate_email(address)
        except ValidationError as error:
            raise ValueError(f"Invalid recipient address: {address!r}") from error
    language = language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    rendered = render_templated_mail(template=template, context=context, language=language)
    enqueue_on_commit(
        send_mail,
        to=recipients,
        subject=rendered["subject"],
        text=rendered["text"],
        html=rendered["html"],
        headers={
            "Content-Language": language,
            **AUTOMATIC_HEADERS,
            **{str(k): str(v) for k, v in (headers or {}).items()},
        },
    )


def queue_email(message: EmailMessage) -> None:
    """Send a message built elsewhere (allauth's mails, for instance) through the mail queue, after the
    current transaction commits, like `send_templated_mail`. Attachments are not supported."""
    if message.attachments:
        raise ValueError("queue_email does not carry attachments")
    text, html = message_bodies(message)
    enqueue_on_commit(
        send_mail,
        to=list(message.to),
        cc=list(message.cc),
        bcc=list(message.bcc),
        reply_to=list(message.reply_to),
        subject=str(message.subject),
        text=text,
        html=html,
        headers={**AUTOMATIC_HEADERS, **{str(k): str(v) for k, v in message.extra_headers.items()}},
        from_email=message.from_email,
    )


def outbox_resend(*, message: OutboxMessage, acting_user: Any, request: Any = None) -> OutboxMessage:
    """Send again a message the SMTP server refused for good (after the problem is fixed)."""
    if not is_operator(acting_user):
        raise PermissionRefused(_("Seuls les exploitants de la plateforme peuvent renvoyer un courriel."))
    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if locked.status != OutboxMessage.Status.FAILED:
            raise DomainError(_("Seul un courriel en échec d'envoi peut être renvoyé, et une seule fois."))
        locked.status = OutboxMessage.Status.RESENT
        locked.resent_at = clock.now()
        locked.save(update_fields=["status", "resent_at"])
        headers = {
            k: v
            for k, v in locked.headers.items()
            if k.lower() not in {"from", "to", "cc", "subject", "date", "message-id", "reply-to"}
        }
        enqueue_on_commit(
            send_mail,
            to=locked.to,
            cc=locked.cc,
            bcc=locked.bcc,
            reply_to=locked.reply_to,
            subject=locked.subject,
            text=locked.text_body,
            html=locked.html_body,
            headers=headers,
            from_email=locked.from_email,
        )
        log_event(
            action="notifications.mail.resent",
            actor=acting_user,
            obj=locked,
            data={"to": locked.to, "subject": locked.subject},
            request=request,
        )
    return locked


def send_test_mail(*, to: str, language: str, acting_user: Any, request: Any = None) -> None:
    """Send the test message to `to`: operators check that mail delivery works end to end."""
    if not is_operator(acting_user):
        raise PermissionRefused(_("Seuls les exploitants de la plateforme peuvent envoyer un courriel d'essai."))
    with transaction.atomic():
        send_templated_mail(
            template="notifications/email/test_message",
            to=[to],
            context={"requested_by": getattr(acting_user, "email", "") or str(acting_user)},
            language=language,
        )
        log_event(
            action="notifications.mail.test_sent",
            actor=acting_user,
            data={"to": to, "language": language},
            request=request,
        )
