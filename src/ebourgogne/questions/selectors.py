"""Reads of questions and answers.

Public reads (published answers and information of a public consultation) cross tenants on purpose and
say so with `scopes_disabled()`; they never return the asker's identity. A company's members see their
own company's questions, answered or not; never another company's unanswered ones.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django_scopes import scopes_disabled

from ebourgogne.consultations.models import PUBLIC_STATES, Consultation
from ebourgogne.organisations.models import Membership, Organisation
from ebourgogne.organisations.roles import PERMISSIONS, OrganisationKind
from ebourgogne.questions.models import Kind, Question

# What a public page may read of an entry: nothing about the asker.
PUBLIC_FIELDS = ("id", "consultation_id", "kind", "number", "text", "answer", "published_at", "updated_at")


def public_consultation(pk: int) -> Consultation | None:
    """The consultation `pk` if it is public (never a draft)."""
    with scopes_disabled():
        return Consultation.objects.select_related("organisation").filter(pk=pk, state__in=PUBLIC_STATES).first()


def published_entries(consultation: Consultation) -> list[Question]:
    """The published answers and information of a public consultation, by number, without the askers."""
    with scopes_disabled():
        return list(
            Question.objects.filter(
                consultation_id=consultation.pk,
                consultation__state__in=PUBLIC_STATES,
                published_at__isnull=False,
            )
            .only(*PUBLIC_FIELDS)
            .order_by("number")
        )


def asking_companies(user: Any) -> list[Organisation]:
    """The active companies in which `user` may ask questions, by name."""
    if not getattr(user, "is_authenticated", False):
        return []
    with scopes_disabled():
        ids = Membership.objects.filter(
            user=user,
            organisation__kind=OrganisationKind.COMPANY,
            organisation__is_active=True,
            role__in=PERMISSIONS["questions.ask"],
        ).values("organisation_id")
        return list(Organisation.objects.filter(pk__in=ids).order_by("name"))


def company_questions(consultation: Consultation, user: Any) -> list[Question]:
    """The questions asked on `consultation` by the companies `user` belongs to, answered or not."""
    if not getattr(user, "is_authenticated", False):
        return []
    with scopes_disabled():
        companies = Membership.objects.filter(
            user=user, organisation__kind=OrganisationKind.COMPANY, organisation__is_active=True
        ).values("organisation_id")
        return list(
            Question.objects.filter(
                consultation_id=consultation.pk,
                kind=Kind.QUESTION,
                asker_organisation_id__in=companies,
            )
            .select_related("asker_organisation", "asked_by")
            .order_by("number")
        )


def buyer_consultation(*, organisation: Organisation, pk: int) -> Consultation | None:
    """One consultation of the buyer (inside the organisation's scope), drafts included."""
    return Consultation.objects.filter(organisation=organisation, pk=pk).first()


def buyer_entries(consultation: Consultation) -> QuerySet[Question]:
    """Every entry of the buyer's consultation, unanswered questions first, then by number."""
    return (
        Question.objects.filter(consultation=consultation)
        .select_related("asker_organisation", "asked_by", "answered_by")
        .annotate(revision_count=Count("revisions"))
        .order_by(F("published_at").asc(nulls_first=True), "number")
    )


def buyer_entry(*, consultation: Consultation, pk: int) -> Question | None:
    return (
        Question.objects.filter(consultation=consultation, pk=pk)
        .select_related("asker_organisation", "asked_by", "answered_by")
        .prefetch_related("revisions__replaced_by")
        .first()
    )


def buyer_counts(consultation: Consultation) -> dict[str, int]:
    """Questions of the consultation: total, unanswered, and published entries."""
    return Question.objects.filter(consultation=consultation).aggregate(
        questions=Count("pk", filter=Q(kind=Kind.QUESTION)),
        unanswered=Count("pk", filter=Q(kind=Kind.QUESTION, published_at__isnull=True)),
        published=Count("pk", filter=Q(published_at__isnull=False)),
    )
