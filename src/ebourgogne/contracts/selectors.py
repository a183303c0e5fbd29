"""Reads about contracts, always scoped to the caller's organisation.

- The buyer's side reads through `Contract.objects` (scoped by the buyer organisation: the views run
  inside `scope(organisation=...)`, and every function filters on the organisation as well).
- The holder's side: a contract is scoped by its buyer, so the holder's reads disable the scopes here,
  and only here, with an explicit `holder=company` filter.
- The award notice (avis d'attribution) of a consultation is public: for each notified contract, the
  holder's name and SIRET, the amount, and the dates of signature and notification.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django_scopes import scopes_disabled

from ebourgogne.contracts.models import Contract, ContractDocument, ContractState, DocumentKind

SEARCH_MAX = 100


def _related(queryset: Any) -> Any:
    return queryset.select_related("organisation", "holder", "consultation", "lot", "award")


def contracts_of(*, organisation: Any, state: str = "", search: str = "") -> list[Contract]:
    """The buyer's contracts, newest first; `state` one of ContractState, `search` in the number or title."""
    with scopes_disabled():
        queryset = _related(Contract.objects.filter(organisation=organisation))
        if state in ContractState.values:
            queryset = queryset.filter(state=state)
        text = (search or "").strip()[:SEARCH_MAX]
        if text:
            queryset = queryset.filter(Q(number__icontains=text) | Q(title__icontains=text))
        return list(queryset.order_by("-created_at", "-id"))


def contract_of(*, organisation: Any, pk: Any) -> Contract | None:
    """One contract of the buyer (None: no such contract, or another buyer's)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    with scopes_disabled():
        return _related(Contract.objects.filter(organisation=organisation, pk=pk)).first()


def held_contracts(*, company: Any, state: str = "") -> list[Contract]:
    """The contracts `company` holds, every buyer's, newest first."""
    with scopes_disabled():
        queryset = _related(Contract.objects.filter(holder=company))
        if state in ContractState.values:
            queryset = queryset.filter(state=state)
        return list(queryset.order_by("-created_at", "-id"))


def held_contract(*, company: Any, pk: Any) -> Contract | None:
    """One contract held by `company` (None: no such contract, or held by another company)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    with scopes_disabled():
        return _related(Contract.objects.filter(holder=company, pk=pk)).first()


def documents_of(contract: Contract) -> list[ContractDocument]:
    with scopes_disabled():
        return list(
            ContractDocument.objects.filter(contract=contract)
            .select_related("buyer_signed_by", "holder_signed_by", "letter")
            .order_by("created_at", "id")
        )


def document_of(contract: Contract, pk: Any) -> ContractDocument | None:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    with scopes_disabled():
        return ContractDocument.objects.filter(contract=contract, pk=pk).first()


def contract_document(contract: Contract) -> ContractDocument | None:
    """The acte d'engagement."""
    with scopes_disabled():
        return ContractDocument.objects.filter(contract=contract, kind=DocumentKind.CONTRACT).order_by("id").first()


def awards_to_contract(*, organisation: Any) -> list[Any]:
    """The buyer's awarded decisions whose letters are sent and that have no contract yet."""
    from ebourgogne.awards.models import Award, Outcome

    with scopes_disabled():
        return list(
            Award.objects.filter(
                evaluation__consultation__organisation=organisation,
                outcome=Outcome.AWARDED,
                letters_sent_at__isnull=False,
                contract__isnull=True,
            )
            .select_related("evaluation__consultation", "evaluation__lot", "winner__bid__company")
            .order_by("-decided_at", "-id")
        )


def award_of(*, organisation: Any, pk: Any) -> Any:
    """One awarded decision of the buyer (None otherwise)."""
    from ebourgogne.awards.models import Award, Outcome

    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    with scopes_disabled():
        return (
            Award.objects.filter(evaluation__consultation__organisation=organisation, pk=pk, outcome=Outcome.AWARDED)
            .select_related("evaluation__consultation", "evaluation__lot", "winner__bid__company")
            .first()
        )


def contract_of_award(award: Any) -> Contract | None:
    with scopes_disabled():
        return Contract.objects.filter(award=award).first()


# --- The public award notice ----------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    lot_number: int | None
    lot_title: str
    number: str
    holder: str
    siret: str
    amount: Any
    signed_at: dt.datetime | None
    notified_at: dt.datetime | None


def award_notices(consultation: Any) -> list[Notice]:
    """The award notice (avis d'attribution) of a published consultation: one row per notified contract
    (or one that went on to its end), by lot. Nothing before the notification."""
    if consultation is None or getattr(consultation, "is_practice", False):
        return []
    with scopes_disabled():
        rows = (
            Contract.objects.filter(
                consultation=consultation,
                notified_at__isnull=False,
                state__in=[ContractState.NOTIFIED, ContractState.ENDED, ContractState.TERMINATED],
            )
            .select_related("holder", "lot")
            .order_by("lot__number", "id")
        )
        return [
            Notice(
                lot_number=row.lot.number if row.lot else None,
                lot_title=row.lot.title if row.lot else "",
                number=row.number,
                holder=row.holder.name,
                siret=row.holder.siret or row.holder.siren,
                amount=row.amount,
                signed_at=row.signed_at,
                notified_at=row.notified_at,
            )
            for row in rows
        ]
