"""Display filters of the award pages: points, marks and amounts in French notation."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils import formats

from ebourgogne.awards import rules

register = template.Library()


@register.filter
def points(value: Decimal | None) -> str:
    if value in (None, ""):
        return "—"
    number = Decimal(value)
    if number == number.to_integral_value():
        return str(int(number))
    return formats.number_format(number, decimal_pos=2, use_l10n=True)


@register.filter
def mark(value: Decimal | None) -> str:
    if value in (None, ""):
        return "—"
    return formats.number_format(rules.two(Decimal(value)), decimal_pos=2, use_l10n=True)


@register.filter
def money(value: Decimal | None) -> str:
    if value in (None, ""):
        return "—"
    return formats.number_format(Decimal(value), decimal_pos=2, use_l10n=True, force_grouping=True) + " €"


@register.inclusion_tag("awards/_public_outcome.html")
def award_outcomes(consultation) -> dict:
    """`{% award_outcomes consultation %}` on the public consultation page: each lot's outcome."""
    from ebourgogne.awards.selectors import public_outcomes

    return {"award_outcomes": public_outcomes(consultation)}
