"""`{% questions_buyer_block consultation %}`: the questions summary on the buyer's consultation page
(how many wait for an answer, the R2132-6 limit, links to answer and to publish information)."""

from __future__ import annotations

from typing import Any

from django import template

from ebourgogne.organisations.roles import roles_grant
from ebourgogne.questions import selectors, services

register = template.Library()


@register.inclusion_tag("questions/_buyer_block.html", takes_context=True)
def questions_buyer_block(context: template.Context, consultation: Any) -> dict[str, Any]:
    request = context.get("request")
    roles = getattr(request, "organisation_roles", set())
    return {
        "consultation": consultation,
        "organisation_slug": consultation.organisation.slug,
        "counts": selectors.buyer_counts(consultation),
        "deadline": services.questions_deadline(consultation),
        "answer_limit": services.answer_limit(consultation),
        "is_late": services.is_late(consultation),
        "is_published": consultation.effective_state == "published",
        "can_answer": roles_grant(roles, "questions.answer"),
    }
