"""Display helpers of the contract pages, and the two hooks other apps' pages include:

- `{% award_notice consultation %}` on the public consultation page (consultations' `_public_article`):
  the award notice (avis d'attribution) of its notified contracts;
- `{% contract_link organisation award %}` on the buyer's award page (awards' `evaluation.html`): prepare
  the contract of an awarded decision, or open it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils import formats

from ebourgogne.core import clock

register = template.Library()


@register.filter
def euros(value: Decimal | None) -> str:
    """An amount in French notation, "120 000,00 € HT"."""
    if value in (None, ""):
        return "—"
    return formats.number_format(Decimal(value), decimal_pos=2, use_l10n=True, force_grouping=True) + " € HT"


@register.inclusion_tag("contracts/_award_notice.html")
def award_notice(consultation: Any) -> dict:
    from ebourgogne.contracts.selectors import award_notices

    return {"notices": award_notices(consultation)}


@register.inclusion_tag("contracts/_award_link.html", takes_context=True)
def contract_link(context: Any, organisation: Any, award: Any) -> dict:
    from ebourgogne.contracts.selectors import contract_of_award
    from ebourgogne.organisations.roles import roles_grant

    request = context.get("request")
    roles = getattr(request, "organisation_roles", set()) if request is not None else set()
    contract = contract_of_award(award) if award is not None and getattr(award, "pk", None) else None
    ready = (
        award is not None
        and award.outcome == "awarded"
        and award.letters_sent_at is not None
        and (award.standstill_ends_at is None or award.standstill_ends_at <= clock.now())
    )
    return {
        "organisation": organisation,
        "award": award,
        "contract": contract,
        "ready": ready,
        "awarded": award is not None and award.outcome == "awarded",
        "can_view": roles_grant(roles, "contracts.view"),
        "can_manage": roles_grant(roles, "contracts.manage"),
    }
