"""Sending e-mail in the background, on the "mail" queue, with retries when the SMTP server fails.

The message is rendered before it is enqueued (see services.send_templated_mail): the task receives
plain strings and sends them through Django's configured e-mail backend (SMTP, or the outbox).
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.tasks import task

from ebourgogne.core import clock

logger = logging.getLogger("ebourgogne.notifications")

# Waits before each new attempt after a temporary failure: 1 min, 5 min, 15 min, 1 h (then give up).
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def is_temporary(error: Exception) -> bool:
    """Worth trying again later: the server is unreachable or said 4xx. A 5xx answer is final."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return isinstance(error, smtplib.SMTPServerDisconnected | OSError)


def build_message(*, to, subject, text, html, headers, from_email=None, cc=None, bcc=None, reply_to=None):
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        cc=list(cc or []),
        bcc=list(bcc or []),
        reply_to=list(reply_to or []),
        headers=dict(headers or {}),
    )
    if html:
        message.attach_alternative(html, "text/html")
    return message


@task(queue_name="mail")
def send_mail(
    *,
    to: list[str],
    subject: str,
    text: str,
    html: str = "",
    headers: dict | None = None,
    from_email: str | None = None,
    cc: list[str] | None = None,
    bcc: list[str] | None = None,
    reply_to: list[str] | None = None,
    attempt: int = 1,
) -> dict:
    fields = {
        "to": to,
        "subject": subject,
        "text": text,
        "html": html,
        "headers": headers or {},
        "from_email": from_email,
        "cc": cc or [],
        "bcc": bcc or [],
        "reply_to": reply_to or [],
    }
    message = build_message(**fields)
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        can_defer = send_mail.get_backend().supports_defer
        if is_temporary(error) and attempt < MAX_ATTEMPTS and can_defer:
            delay = RETRY_DELAYS[attempt - 1]
            send_mail.using(run_after=clock.now() + delay).enqueue(**fields, attempt=attempt + 1)
            logger.warning("Mail to %s not sent (attempt %d: %s); next attempt in %s", to, attempt, error, delay)
            return {"status": "retrying", "attempt": attempt, "error": str(error)}
        # Given up: keep the whole message where operators see it, and fail the task with its traceback.
        from ebourgogne.notifications.backends import store_message
        from ebourgogne.notifications.models import OutboxMessage

        store_message(
            message, status=OutboxMessage.Status.FAILED, error=f"{type(error).__name__}: {error}", attempts=attempt
        )
        logger.error("Mail to %s not sent after %d attempt(s): %s; kept in the outbox", to, attempt, error)
        raise
    return {"status": "sent", "attempt": attempt, "recipients": len(message.recipients())}
