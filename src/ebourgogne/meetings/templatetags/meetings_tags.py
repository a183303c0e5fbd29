"""`{% commission_meetings commission %}`: the meetings block of a commission's page (commissions app),
with the meetings the signed-in person may see (meetings.selectors) and, for the buyer's staff, the link
to prepare one."""

from __future__ import annotations

from typing import Any

from django import template

from ebourgogne.meetings import selectors

register = template.Library()


@register.inclusion_tag("meetings/_commission_block.html", takes_context=True)
def commission_meetings(context: dict[str, Any], commission: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    organisation = commission.organisation
    lists = selectors.meeting_lists(user=user, organisation=organisation, commission=commission)
    return {
        "organisation": organisation,
        "commission": commission,
        "upcoming": lists.upcoming[:10],
        "past": lists.past[:5],
        "can_manage": selectors.can_manage(user, organisation),
    }
