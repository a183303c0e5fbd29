"""Template helpers of the execution pages: money amounts, and the summary shown by the execution panel
(`contracts/execution/_panel.html`, included in the contract's page with `contract` and `organisation`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.urls import reverse

from ebourgogne.contracts import execution_selectors as selectors
from ebourgogne.contracts.pdf_execution import money as money_text
from ebourgogne.contracts.pdf_execution import signed_money

register = template.Library()


@register.filter
def money(value: Decimal | None) -> str:
    return money_text(value)


@register.filter
def money_change(value: Decimal | None) -> str:
    return "—" if value is None else signed_money(value)


@register.filter
def months_change(value: int | None) -> str:
    if not value:
        return "0"
    return f"+{value}" if value > 0 else str(value)


@register.simple_tag
def execution_summary(contract: Any, organisation: Any) -> dict[str, Any]:
    """What the panel shows of `contract`, for `organisation` (its buyer, or its holder company)."""
    holder = organisation is not None and contract.holder_id == organisation.pk
    namespace = "contracts_holder_execution" if holder else "contracts_execution"
    return {
        "holder": holder,
        "namespace": namespace,
        "overview_url": reverse(f"{namespace}:overview", args=[organisation.slug, contract.pk]),
        "terms": selectors.terms(contract),
        "modifications": selectors.modifications_of(contract),
        "orders": selectors.orders_of(contract),
        "subcontracts": selectors.subcontracts_of(contract),
        "milestones": selectors.milestones_of(contract),
    }
