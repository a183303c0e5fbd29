"""State-changing operations of the notifications app, for the authorisation matrix
(core/tests/test_authorisation_matrix.py; plain dicts, see `ebourgogne.testing.authorisation.operation_from_mapping`).

Both are platform-operator actions (`operator_only`): anonymous visitors are sent to the login page,
signed-in people who are not operators get 404, and in both cases nothing changes; an operator's call
changes the outbox or queues a mail.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse


def _failed_message() -> dict[str, Any]:
    from ebourgogne.notifications.models import OutboxMessage

    message = OutboxMessage.objects.create(
        status=OutboxMessage.Status.FAILED,
        from_email="ne-pas-repondre@e-bourgogne.test",
        to=["camille@exemple.test"],
        recipients="camille@exemple.test",
        subject="Invitation",
        text_body="Bonjour",
        error="SMTPRecipientsRefused: 550",
        attempts=5,
    )
    return {"message": message}


def _mail_state(context: dict[str, Any]) -> tuple:
    from django_tasks_db.models import DBTaskResult

    from ebourgogne.notifications.models import OutboxMessage
    from ebourgogne.notifications.tasks import send_mail

    return (
        tuple(OutboxMessage.objects.order_by("pk").values_list("pk", "status", "resent_at")),
        DBTaskResult.objects.filter(task_path=send_mail.module_path).count(),
    )


OPERATIONS: list[dict[str, Any]] = [
    {
        "name": "notifications:outbox_resend",
        "policy": "operator",
        "method": "post",
        "setup": _failed_message,
        "url": lambda context: reverse("notifications:outbox_resend", args=[context["message"].pk]),
        "data": {},
        "snapshot": _mail_state,
    },
    {
        "name": "notifications:send_test",
        "policy": "operator",
        "method": "post",
        "setup": lambda: {},
        "url": lambda context: reverse("notifications:send_test"),
        "data": {"to": "essai@exemple.test", "language": "fr"},
        "snapshot": _mail_state,
    },
]
