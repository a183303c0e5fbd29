"""What the consultations API shares with the APIs of the parts of a consultation (its DCE, its questions,
its bids, its opening...): finding a public consultation or one of the caller's organisation, and the
schemas of the documents and answers that the consultation's own page embeds (dce.api and questions.api
fill them). Apart from consultations.api, so that those modules depend on this one and not on each other.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django_scopes import scopes_disabled
from ninja import Field, Schema

from ebourgogne.apitokens.errors import consultation_not_found
from ebourgogne.consultations.models import PUBLIC_STATES, Consultation
from ebourgogne.core.errors import NotFound


class DocumentOut(Schema):
    name: str
    size: int = Field(description="Bytes")
    format: str = Field(description="Media type, e.g. application/pdf")
    sha256: str
    download_url: str


class RectificationOut(Schema):
    version: int
    reason: str
    published_at: dt.datetime | None


class DocumentsOut(Schema):
    version: int | None = Field(description="The published DCE version (1 = as first published); null: none yet")
    published_at: dt.datetime | None
    size_limit: int = Field(description="Announced maximum size of the DCE, bytes")
    archive_url: str | None = Field(description="The whole DCE of this version as one ZIP")
    files: list[DocumentOut]
    rectifications: list[RectificationOut]


class QuestionOut(Schema):
    number: int
    kind: str = Field(description="question (asked by a bidder, answered) or information (from the buyer)")
    question: str
    answer: str
    published_at: dt.datetime | None
    updated_at: dt.datetime | None = None


def public_consultations() -> QuerySet:
    """Published consultations (every public state), never drafts nor the practice consultation. Call inside
    `scopes_disabled()`."""
    return Consultation.objects.filter(state__in=PUBLIC_STATES, is_practice=False).select_related(
        "organisation", "main_cpv"
    )


def public_consultation(consultation_id: int) -> Consultation:
    """A published consultation, or 404 (a draft is "not found", like an id that does not exist)."""
    with scopes_disabled():
        found = public_consultations().filter(pk=consultation_id).first()
    if found is None:
        raise NotFound(consultation_not_found())
    return found


def own_consultation(organisation: Any, consultation_id: int) -> Consultation:
    """One consultation of the organisation (we are inside its scope), or 404."""
    found = (
        Consultation.objects.filter(organisation=organisation, pk=consultation_id)
        .select_related("organisation", "main_cpv")
        .first()
    )
    if found is None:
        raise NotFound(consultation_not_found())
    return found
