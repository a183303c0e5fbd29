"""`{% tenders_buyer_block consultation %}`: the bids summary on the buyer's consultation page: the number of
deposits (all the buyer may know before the deadline) and the link to the deposit register."""

from __future__ import annotations

from typing import Any

from django import template

from ebourgogne.organisations.roles import roles_grant
from ebourgogne.tenders import selectors

register = template.Library()


@register.inclusion_tag("tenders/buyer/_block.html", takes_context=True)
def tenders_buyer_block(context: template.Context, consultation: Any) -> dict[str, Any]:
    request = context.get("request")
    roles = getattr(request, "organisation_roles", set())
    allowed = roles_grant(roles, "bids.register")
    return {
        "consultation": consultation,
        "allowed": allowed,
        "count": selectors.deposit_count(consultation) if allowed else 0,
        "deadline_passed": consultation.deadline_passed,
    }
