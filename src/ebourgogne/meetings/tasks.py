"""Background work of meetings: sending each convocation e-mail with its evidence, and the evidence sweep.

`send_convocation_mail` is the convocations' own mail task ("mail" queue). Unlike the generic
`notifications.tasks.send_mail`, it records the evidence of each SMTP exchange on the convocation:
a `delivery_attempt` event before each try, then `delivered` (the SMTP server accepted the message, with
its Message-ID) or `delivery_failed` (the error, whether it is final, and when the next try is due).
A temporary failure (4xx, connection refused or dropped) is tried again after 1 min, 5 min, 15 min and
1 h; a final one (5xx) or the last try gives up, and the convocation shows "not delivered" on the
meeting's page (`convocations.delivery_state`). The message was rendered when the convocation was issued
(inside the transaction that convened the meeting): the task receives plain strings, so every retry sends
exactly what the `sent` event's digests describe.

`stamp_pending_events` (every 5 minutes): events still without their RFC 3161 token get it, for when an
external timestamp authority did not answer (see meetings/evidence.py).
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.message import MIMEPart

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.tasks import task

from ebourgogne.core import clock
from ebourgogne.core.scheduler import periodic
from ebourgogne.notifications.tasks import is_temporary

logger = logging.getLogger("ebourgogne.meetings.tasks")

RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def calendar_part(ics: str, method: str, filename: str) -> MIMEPart:
    """The .ics as an attachment whose Content-Type carries the iTIP method (RFC 6047 §2.4)."""
    part = MIMEPart()
    part.set_content(
        ics, subtype="calendar", charset="utf-8", cte="quoted-printable", disposition="attachment", filename=filename
    )
    part.set_param("method", method)
    return part


def build_message(*, to: str, subject: str, text: str, html: str, ics: str, method: str, headers: dict):
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to], headers=dict(headers)
    )
    if html:
        message.attach_alternative(html, "text/html")
    message.attach(calendar_part(ics, method, "invitation.ics" if method == "REQUEST" else "annulation.ics"))
    return message


@task(queue_name="mail")
def send_convocation_mail(
    *,
    convocation_id: int,
    to: str,
    subject: str,
    text: str,
    html: str,
    ics: str,
    method: str,
    headers: dict,
    sequence: int,
    attempt: int = 1,
) -> dict:
    from ebourgogne.meetings import evidence
    from ebourgogne.meetings.models import Convocation, ConvocationEventKind

    convocation = Convocation.objects.select_related("meeting", "user").filter(pk=convocation_id).first()
    if convocation is None:
        return {"status": "gone"}
    fields = {
        "convocation_id": convocation_id,
        "to": to,
        "subject": subject,
        "text": text,
        "html": html,
        "ics": ics,
        "method": method,
        "headers": headers,
        "sequence": sequence,
    }
    message_id = headers.get("Message-ID", "")
    base = {"attempt": attempt, "method": method, "sequence": sequence, "message_id": message_id, "to": to}
    evidence.record(convocation, ConvocationEventKind.DELIVERY_ATTEMPT, base)
    message = build_message(to=to, subject=subject, text=text, html=html, ics=ics, method=method, headers=headers)
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        temporary = is_temporary(error)
        can_defer = send_convocation_mail.get_backend().supports_defer
        retry = temporary and attempt < MAX_ATTEMPTS and can_defer
        failure = {**base, "error": f"{type(error).__name__}: {error}"[:500], "permanent": not retry}
        if retry:
            next_at = clock.now() + RETRY_DELAYS[attempt - 1]
            failure["next_attempt_at"] = evidence.iso_utc(next_at)
        evidence.record(convocation, ConvocationEventKind.DELIVERY_FAILED, failure)
        if retry:
            send_convocation_mail.using(run_after=next_at).enqueue(**fields, attempt=attempt + 1)
            logger.warning(
                "Convocation %s to %s not delivered (attempt %d: %s); retrying", convocation_id, to, attempt, error
            )
            return {"status": "retrying", "attempt": attempt, "error": str(error)}
        logger.error("Convocation %s to %s not delivered after %d attempt(s): %s", convocation_id, to, attempt, error)
        return {"status": "failed", "attempt": attempt, "error": str(error)}
    now = clock.now()
    evidence.record(convocation, ConvocationEventKind.DELIVERED, base)
    Convocation.objects.filter(pk=convocation_id).update(delivered_at=now)
    return {"status": "delivered", "attempt": attempt}


@periodic(name="meetings.stamp_pending_events", every=timedelta(minutes=5))
@task()
def stamp_pending_events() -> dict[str, int]:
    """Ask the timestamp authority for every convocation event still without its token."""
    from ebourgogne.meetings.evidence import stamp_pending

    return {"stamped": stamp_pending()}
