"""E-mail backends of the platform.

`OutboxBackend` (EBOURGOGNE_EMAIL=outbox, the demo's default) delivers nothing: it keeps every message in
the database, where platform operators read it (/exploitation/courriels/). `store_message()` is also how
a message refused for good by the SMTP server is kept (status "failed").
"""

from __future__ import annotations

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction

from ebourgogne.notifications.models import OutboxMessage

# MIME structure headers say nothing an operator needs; the rest (Message-ID, Date, Content-Language...)
# is kept.
_STRUCTURE_HEADERS = {"content-type", "mime-version", "content-transfer-encoding"}


def message_bodies(message: EmailMessage) -> tuple[str, str]:
    """(text, html) of a Django message."""
    text, html = "", ""
    if message.content_subtype == "html":
        html = message.body or ""
    else:
        text = message.body or ""
    for alternative in getattr(message, "alternatives", []) or []:
        content, mimetype = alternative[0], alternative[1]
        if mimetype == "text/html" and not html:
            html = content if isinstance(content, str) else content.decode("utf-8", "replace")
    return text, html


def _attachments(message: EmailMessage) -> list[dict]:
    described = []
    for attachment in message.attachments:
        if hasattr(attachment, "get_filename"):  # a MIME part
            payload = attachment.get_payload(decode=True) or b""
            described.append(
                {
                    "filename": attachment.get_filename() or "",
                    "mimetype": attachment.get_content_type(),
                    "size": len(payload),
                }
            )
        else:
            filename, content, mimetype = attachment
            described.append({"filename": filename or "", "mimetype": mimetype or "", "size": len(content or "")})
    return described


def store_message(
    message: EmailMessage, *, status: str = OutboxMessage.Status.KEPT, error: str = "", attempts: int = 0
) -> OutboxMessage:
    mime = message.message()
    headers = {name: str(value) for name, value in mime.items() if name.lower() not in _STRUCTURE_HEADERS}
    text, html = message_bodies(message)
    addresses = [*message.to, *message.cc, *message.bcc]
    return OutboxMessage.objects.create(
        status=status,
        from_email=str(headers.get("From", message.from_email)),
        to=list(message.to),
        cc=list(message.cc),
        bcc=list(message.bcc),
        reply_to=list(message.reply_to),
        recipients=" ".join(address.lower() for address in addresses),
        subject=str(message.subject),
        text_body=text,
        html_body=html,
        headers=headers,
        attachments=_attachments(message),
        error=error,
        attempts=attempts,
    )


class OutboxBackend(BaseEmailBackend):
    """Keeps messages in the database instead of delivering them."""

    def send_messages(self, email_messages) -> int:
        stored = 0
        for message in email_messages:
            if not message.recipients():
                continue
            with transaction.atomic():
                store_message(message)
            stored += 1
        return stored
