"""Businesses that follow a consultation are told when its deadlines move or when it is cancelled.

Followers: the identified downloaders of the DCE (not unsubscribed) and the people who asked a question,
each once, in their language. Connected in `QuestionsConfig.ready` to `consultations.signals.
consultation_changed`, which the consultations services send inside their transaction: the mails go out
on commit (`send_templated_mail` queues them then), so a change rolled back sends nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django_scopes import scopes_disabled

from ebourgogne.consultations.models import Consultation, State
from ebourgogne.notifications.services import send_templated_mail
from ebourgogne.questions.models import Kind, Question
from ebourgogne.questions.services import identified_downloaders, public_page_path


def followers(consultation: Consultation) -> dict[str, str]:
    """E-mail address (lowercase) → language of everyone following `consultation`."""
    recipients: dict[str, str] = {}

    def add(email: str, language: str | None) -> None:
        email = (email or "").strip()
        if email and email.lower() not in recipients:
            recipients[email.lower()] = language or "fr"

    with scopes_disabled():
        askers = (
            Question.objects.filter(consultation_id=consultation.pk, kind=Kind.QUESTION, asked_by__is_active=True)
            .select_related("asked_by")
            .order_by("number")
        )
        for question in askers:
            add(question.asked_by.email, getattr(question.asked_by, "language", "fr"))
    for downloader in identified_downloaders(consultation):
        add(downloader.email, getattr(downloader, "language", "fr"))
    from ebourgogne.alerts.services import muted_emails  # who stopped following (page "Mes alertes", mail link)

    for email in muted_emails(consultation.pk):
        recipients.pop(email, None)
    return recipients


def _instant(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def on_consultation_changed(
    sender: Any, consultation: Consultation, changes: dict | None = None, **kwargs: Any
) -> None:
    changes = changes or {}
    state = changes.get("state")
    if state is not None and state[1] == State.CANCELLED:
        template = "questions/email/consultation_cancelled"
        context: dict[str, Any] = {"reason": consultation.end_reason}
    elif "bids_deadline" in changes or "questions_deadline" in changes:
        template = "questions/email/deadline_postponed"
        reason = changes.get("reason")
        context = {
            "bids_changed": "bids_deadline" in changes,
            "old_deadline": _instant(changes.get("bids_deadline", (None,))[0]),
            "new_deadline": consultation.bids_deadline,
            "questions_changed": "questions_deadline" in changes,
            "old_questions_deadline": _instant(changes.get("questions_deadline", (None,))[0]),
            "questions_deadline": consultation.questions_deadline,
            "reason": reason[1] if reason else "",
        }
    else:
        return
    with scopes_disabled():
        buyer_name = Consultation.objects.select_related("organisation").get(pk=consultation.pk).organisation.name
    context.update(
        consultation=consultation, buyer_name=buyer_name, page_path=public_page_path(consultation, anchor="")
    )
    from ebourgogne.alerts.services import follow_headers  # RFC 8058 one-click unsubscribe

    for email, language in followers(consultation).items():
        send_templated_mail(
            template=template,
            to=[email],
            context=context,
            language=language,
            headers=follow_headers(consultation.pk, email),
        )
