"""Reads of the vault, always scoped to the caller's organisation.

Company side: `documents_of`, `document_of`, `version_of`, `grants_of_company`, `grantable_consultations`.
Buyer side (R2143-13): `active_grants_for_buyer`, `grant_for_buyer`, `granted_documents`: only grants of
that buyer, not revoked, and only current versions of documents not deleted. Anything else is None / empty:
the views answer 404, never telling "exists but not yours" from "does not exist".
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django_scopes import scopes_disabled

from ebourgogne.core import clock
from ebourgogne.vault.models import VaultDocument, VaultDocumentVersion, VaultGrant, status_of


def documents_of(*, company: Any) -> list[VaultDocument]:
    with scopes_disabled():
        return list(
            VaultDocument.objects.filter(company=company, deleted_at__isnull=True, current_version__isnull=False)
            .select_related("current_version")
            .order_by("doc_type", "title", "pk")
        )


def document_rows(*, company: Any) -> list[dict[str, Any]]:
    today = clock.today_local()
    return [{"document": d, "status": status_of(d.valid_until, today)} for d in documents_of(company=company)]


def document_of(*, company: Any, pk: int) -> VaultDocument | None:
    with scopes_disabled():
        return (
            VaultDocument.objects.filter(company=company, pk=pk, deleted_at__isnull=True)
            .select_related("current_version", "company")
            .first()
        )


def versions_of(document: VaultDocument) -> list[VaultDocumentVersion]:
    with scopes_disabled():
        return list(document.versions.select_related("uploaded_by").order_by("-number"))


def version_of(*, document: VaultDocument, number: int) -> VaultDocumentVersion | None:
    with scopes_disabled():
        return document.versions.filter(number=number).select_related("document__company").first()


def grants_of_company(*, company: Any) -> list[VaultGrant]:
    with scopes_disabled():
        return list(
            VaultGrant.objects.filter(company=company)
            .select_related("buyer", "consultation")
            .prefetch_related("documents")
            .order_by("revoked_at", "-granted_at", "-pk")
        )


def grant_of_company(*, company: Any, pk: int) -> VaultGrant | None:
    with scopes_disabled():
        return VaultGrant.objects.filter(company=company, pk=pk).select_related("buyer", "consultation").first()


def grantable_consultations(*, company: Any) -> list[Any]:
    """Consultations the company takes part in (it has a bid, draft or deposited), practice excluded."""
    from ebourgogne.consultations.models import Consultation

    with scopes_disabled():
        return list(
            Consultation.objects.filter(bids__company=company, is_practice=False)
            .select_related("organisation")
            .distinct()
            .order_by("-bids_deadline", "pk")
        )


def grantable_consultation(*, company: Any, consultation_id: int | None) -> Any:
    if not consultation_id:
        return None
    for consultation in grantable_consultations(company=company):
        if consultation.pk == consultation_id:
            return consultation
    return None


# --- Buyer side ---------------------------------------------------------------------------------------


def active_grants_for_buyer(*, buyer: Any, consultation_id: int | None = None) -> list[VaultGrant]:
    with scopes_disabled():
        grants = VaultGrant.objects.filter(buyer=buyer, revoked_at__isnull=True, company__is_active=True)
        if consultation_id is not None:
            grants = grants.filter(consultation_id=consultation_id)
        return list(grants.select_related("company", "consultation").order_by("-granted_at", "-pk"))


def grant_for_buyer(*, buyer: Any, pk: int) -> VaultGrant | None:
    with scopes_disabled():
        return (
            VaultGrant.objects.filter(buyer=buyer, pk=pk, revoked_at__isnull=True, company__is_active=True)
            .select_related("company", "consultation")
            .first()
        )


def granted_documents(grant: VaultGrant) -> list[VaultDocument]:
    """The documents a grant shows: current versions of documents still in the vault."""
    with scopes_disabled():
        documents = VaultDocument.objects.filter(
            company_id=grant.company_id, deleted_at__isnull=True, current_version__isnull=False
        )
        if not grant.all_documents:
            documents = documents.filter(Q(pk__in=grant.documents.values("pk")))
        return list(documents.select_related("current_version").order_by("doc_type", "title", "pk"))


def granted_document(grant: VaultGrant, pk: int) -> VaultDocument | None:
    for document in granted_documents(grant):
        if document.pk == pk:
            return document
    return None
