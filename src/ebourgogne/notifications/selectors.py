"""Reads of the mail outbox. The outbox is platform-wide (no tenant): only operators' views call these."""

from __future__ import annotations

from django.db.models import QuerySet

from ebourgogne.notifications.models import OutboxMessage


def outbox_messages(*, recipient: str = "", status: str = "") -> QuerySet[OutboxMessage]:
    """Messages newest first, optionally those sent to an address containing `recipient`, or in `status`."""
    messages = OutboxMessage.objects.defer("text_body", "html_body", "headers")
    if recipient:
        messages = messages.filter(recipients__contains=recipient.strip().lower())
    if status:
        messages = messages.filter(status=status)
    return messages.order_by("-created_at", "-id")


def outbox_message(*, pk: int) -> OutboxMessage | None:
    return OutboxMessage.objects.filter(pk=pk).first()
