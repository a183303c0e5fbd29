"""Questions and answers in the API.

Public, under /api/v1/consultations:

- GET /{id}/questions    the published answers and the buyer's information, without the askers' identity.

Buyers (`questions.answer`), under /api/v1/buyers:

- GET  /{org_slug}/consultations/{id}/questions                  every question, answered or not
- POST /{org_slug}/consultations/{id}/questions/{number}/answer  answer one (published to everyone)
- POST /{org_slug}/consultations/{id}/information                publish an information of the buyer
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django_scopes import scopes_disabled
from ninja import Router

from ebourgogne.apitokens.auth import api_auth
from ebourgogne.consultations.api import ErrorOut, QuestionOut, paris, public_consultation
from ebourgogne.core.access import public
from ebourgogne.questions.models import Question

router = Router(tags=["questions"])
buyer_router = Router(tags=["questions (buyers)"], auth=api_auth)


def _public_question(question: Question) -> dict[str, Any]:
    return {
        "number": question.number,
        "kind": question.kind,
        "question": question.text,
        "answer": question.answer,
        "published_at": paris(question.published_at),
        "updated_at": paris(getattr(question, "updated_at", None)),
    }


def public_questions_of(consultation: Any) -> list[dict[str, Any]]:
    """Published answers and information, in order; never the asker, never an unanswered question."""
    rows = Question.objects.filter(consultation=consultation, published_at__isnull=False).order_by("number")
    return [_public_question(question) for question in rows]


@router.get(
    "/{int:consultation_id}/questions",
    response={200: list[QuestionOut], 404: ErrorOut},
    summary="Published questions, answers and information of a consultation",
    auth=None,
)
@public(reason="answers are published to everyone, without the asker's identity")
def consultation_questions(request: HttpRequest, consultation_id: int) -> list[dict[str, Any]]:
    consultation = public_consultation(consultation_id)
    with scopes_disabled():
        return public_questions_of(consultation)
