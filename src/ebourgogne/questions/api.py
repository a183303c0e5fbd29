"""Questions and answers in the API.

Public, under /api/v1/consultations:

- GET /{id}/questions    the published answers and the buyer's information, without the askers' identity.

Buyers (`questions.answer`), under /api/v1/buyers:

- GET  /{org_slug}/consultations/{id}/questions                  every question, answered or not
- POST /{org_slug}/consultations/{id}/questions/{number}/answer  answer one (published to everyone)
- POST /{org_slug}/consultations/{id}/information                publish an information of the buyer
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django_scopes import scopes_disabled
from ninja import Field, Router, Schema, Status

from ebourgogne.apitokens.auth import api_auth
from ebourgogne.apitokens.errors import question_not_found
from ebourgogne.apitokens.schemas import ErrorOut, paris
from ebourgogne.consultations.api_common import QuestionOut, public_consultation
from ebourgogne.core.access import organisation_api, public
from ebourgogne.core.errors import NotFound
from ebourgogne.questions.models import Kind, Question

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


# --- Buyers -----------------------------------------------------------------------------------------


class BuyerQuestionOut(QuestionOut):
    """The buyer's view: unanswered questions too, and whether an answer was published late (R2132-6).
    The asker's identity is never given, not even to the buyer, through the API."""

    answered: bool
    asked_at: dt.datetime | None
    published_late: bool = False


class AnswerIn(Schema):
    answer: str = Field(min_length=1, max_length=20000)
    question_text: str | None = Field(
        None,
        max_length=5000,
        description="The question as published, when rephrased to remove what identifies the asker",
    )
    confirm_late: bool = Field(
        False, description="Publish even after the R2132-6 limit (6 days before the deadline, 4 in urgency)"
    )

    model_config = {"extra": "forbid"}


class InformationIn(Schema):
    text: str = Field(min_length=1, max_length=20000)
    confirm_late: bool = False

    model_config = {"extra": "forbid"}


def _buyer_question(question: Question) -> dict[str, Any]:
    return {
        **_public_question(question),
        "answered": bool(question.published_at),
        "asked_at": paris(question.asked_at),
        "published_late": bool(getattr(question, "published_late", False)),
    }


def _entries(organisation: Any, consultation_id: int):
    from ebourgogne.consultations.api_common import own_consultation

    consultation = own_consultation(organisation, consultation_id)
    return consultation, Question.objects.filter(consultation=consultation)


BUYER_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}


@buyer_router.get(
    "/{org_slug}/consultations/{int:consultation_id}/questions",
    response={200: list[BuyerQuestionOut], **BUYER_ERRORS},
    summary="Every question of one of the buyer's consultations, answered or not",
)
@organisation_api("questions.answer")
def buyer_questions(request: HttpRequest, organisation: Any, consultation_id: int) -> list[dict[str, Any]]:
    _consultation, entries = _entries(organisation, consultation_id)
    return [_buyer_question(question) for question in entries.order_by("number")]


@buyer_router.post(
    "/{org_slug}/consultations/{int:consultation_id}/questions/{int:number}/answer",
    response={200: BuyerQuestionOut, **BUYER_ERRORS},
    summary="Answer a question (published to everyone, without the asker's identity)",
)
@organisation_api("questions.answer")
def buyer_answer(request: HttpRequest, organisation: Any, consultation_id: int, number: int, payload: AnswerIn):
    from ebourgogne.questions import services

    _consultation, entries = _entries(organisation, consultation_id)
    question = entries.filter(number=number, kind=Kind.QUESTION).first()
    if question is None:
        raise NotFound(question_not_found())
    answered = services.question_answer(
        acting_user=request.user,
        question=question,
        answer=payload.answer,
        question_text=payload.question_text,
        confirm_late=payload.confirm_late,
        request=request,
    )
    return _buyer_question(answered)


@buyer_router.post(
    "/{org_slug}/consultations/{int:consultation_id}/information",
    response={201: BuyerQuestionOut, **BUYER_ERRORS},
    summary="Publish an information of the buyer on its consultation",
)
@organisation_api("questions.answer")
def buyer_information(request: HttpRequest, organisation: Any, consultation_id: int, payload: InformationIn):
    from ebourgogne.questions import services

    consultation, _entries_qs = _entries(organisation, consultation_id)
    information = services.information_publish(
        acting_user=request.user,
        consultation=consultation,
        text=payload.text,
        confirm_late=payload.confirm_late,
        request=request,
    )
    return Status(201, _buyer_question(information))
