"""Reads of a contract's execution: its current terms (initial + notified modifications), its
modifications, order forms, subcontracting acts and milestones.

Always scoped to the caller's organisation: the buyer reads its own contracts (`organisation`), the
holder company the contracts it holds (`holder`). A contract that is not yours is `None` (the views
answer 404), never told apart from one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Sum
from django_scopes import scopes_disabled

from ebourgogne.contracts.models import (
    ChangeState,
    Contract,
    Milestone,
    Modification,
    OrderForm,
    Subcontract,
    SubcontractChange,
    SubcontractState,
)

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Terms:
    """A contract's terms now: the initial ones plus every notified modification."""

    amount: Decimal
    duration_months: int
    initial_amount: Decimal
    initial_duration_months: int
    modifications_amount: Decimal  # sum of the notified changes of amount
    ordered: Decimal  # sum of the order forms (framework agreements)
    subcontracted: Decimal  # sum of the subcontracts declared or accepted (their current amounts)

    @property
    def available_to_order(self) -> Decimal:
        return self.amount - self.ordered

    @property
    def change_ratio(self) -> Decimal:
        """The notified changes of amount, in % of the initial amount."""
        if not self.initial_amount:
            return ZERO
        return (self.modifications_amount * 100 / self.initial_amount).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def buyer_contract(*, organisation: Any, pk: Any) -> Contract | None:
    try:
        key = int(pk)
    except (TypeError, ValueError):
        return None
    with scopes_disabled():
        return (
            Contract.objects.select_related("organisation", "holder", "consultation")
            .filter(organisation=organisation, pk=key)
            .first()
        )


def holder_contract(*, company: Any, pk: Any) -> Contract | None:
    """A contract held by `company`, once it is signed (a contract in preparation is the buyer's)."""
    try:
        key = int(pk)
    except (TypeError, ValueError):
        return None
    with scopes_disabled():
        return (
            Contract.objects.select_related("organisation", "holder", "consultation")
            .filter(holder=company, pk=key)
            .exclude(state="preparing")
            .first()
        )


def subcontract_amounts(contract: Contract, *, exclude_subcontract: int | None = None) -> Decimal:
    """The sum of the current amounts (after their notified changes) of the subcontracts declared or
    accepted (refused ones do not count)."""
    total = ZERO
    with scopes_disabled():
        rows = Subcontract.objects.filter(
            contract=contract, state__in=[SubcontractState.DECLARED, SubcontractState.ACCEPTED]
        )
        if exclude_subcontract is not None:
            rows = rows.exclude(pk=exclude_subcontract)
        for subcontract in rows:
            total += subcontract_current(subcontract)[0]
    return total


def subcontract_current(subcontract: Subcontract) -> tuple[Decimal, int]:
    """The subcontract's amount and duration after its last notified change."""
    with scopes_disabled():
        last = (
            SubcontractChange.objects.filter(subcontract=subcontract, notified_at__isnull=False)
            .order_by("-number")
            .first()
        )
    if last is None:
        return subcontract.amount, subcontract.duration_months
    return last.new_amount, last.new_duration_months


def terms(contract: Contract) -> Terms:
    with scopes_disabled():
        notified = Modification.objects.filter(contract=contract, state=ChangeState.NOTIFIED).aggregate(
            amount=Sum("amount_change"), months=Sum("duration_change_months")
        )
        ordered = OrderForm.objects.filter(contract=contract).aggregate(total=Sum("amount"))["total"] or ZERO
    change = notified["amount"] or ZERO
    return Terms(
        amount=contract.amount + change,
        duration_months=contract.duration_months + (notified["months"] or 0),
        initial_amount=contract.amount,
        initial_duration_months=contract.duration_months,
        modifications_amount=change,
        ordered=ordered,
        subcontracted=subcontract_amounts(contract),
    )


def terms_after(before: Terms, *, amount_change: Decimal, duration_change_months: int) -> Terms:
    """The terms once a modification changing the amount by `amount_change` and the duration by
    `duration_change_months` is notified, from the terms `before` it (what its PDF prints)."""
    return Terms(
        amount=before.amount + amount_change,
        duration_months=before.duration_months + duration_change_months,
        initial_amount=before.initial_amount,
        initial_duration_months=before.initial_duration_months,
        modifications_amount=before.modifications_amount + amount_change,
        ordered=before.ordered,
        subcontracted=before.subcontracted,
    )


def modifications_of(contract: Contract) -> list[Modification]:
    with scopes_disabled():
        return list(Modification.objects.filter(contract=contract).select_related("document").order_by("number"))


def orders_of(contract: Contract) -> list[OrderForm]:
    with scopes_disabled():
        return list(OrderForm.objects.filter(contract=contract).select_related("document").order_by("number"))


def subcontracts_of(contract: Contract) -> list[Subcontract]:
    with scopes_disabled():
        rows = list(
            Subcontract.objects.filter(contract=contract)
            .select_related("document")
            .prefetch_related("changes__document")
            .order_by("number")
        )
    for row in rows:
        row.current_amount, row.current_duration = subcontract_current(row)
    return rows


def changes_of(subcontract: Subcontract) -> list[SubcontractChange]:
    with scopes_disabled():
        return list(
            SubcontractChange.objects.filter(subcontract=subcontract).select_related("document").order_by("number")
        )


def milestones_of(contract: Contract) -> list[Milestone]:
    with scopes_disabled():
        return list(Milestone.objects.filter(contract=contract).order_by("due_on", "id"))


def modification_of(contract: Contract, pk: Any) -> Modification | None:
    with scopes_disabled():
        return Modification.objects.select_related("document").filter(contract=contract, pk=_int(pk)).first()


def order_of(contract: Contract, pk: Any) -> OrderForm | None:
    with scopes_disabled():
        return OrderForm.objects.select_related("document").filter(contract=contract, pk=_int(pk)).first()


def subcontract_of(contract: Contract, pk: Any) -> Subcontract | None:
    with scopes_disabled():
        found = Subcontract.objects.select_related("document").filter(contract=contract, pk=_int(pk)).first()
    if found is not None:
        found.current_amount, found.current_duration = subcontract_current(found)
    return found


def subcontract_change_of(contract: Contract, pk: Any) -> SubcontractChange | None:
    with scopes_disabled():
        return (
            SubcontractChange.objects.select_related("document", "subcontract")
            .filter(subcontract__contract=contract, pk=_int(pk))
            .first()
        )


def milestone_of(contract: Contract, pk: Any) -> Milestone | None:
    with scopes_disabled():
        return Milestone.objects.filter(contract=contract, pk=_int(pk)).first()


def document_of(contract: Contract, pk: Any) -> Any:
    """A document of the contract that belongs to its execution (modification, order, subcontracting)."""
    from ebourgogne.contracts.models import ContractDocument, DocumentKind

    with scopes_disabled():
        return (
            ContractDocument.objects.filter(contract=contract, pk=_int(pk))
            .exclude(kind__in=[DocumentKind.CONTRACT, DocumentKind.OTHER])
            .first()
        )


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
