"""`{% tenders_public_block consultation %}`: the "submit a bid" entry on a consultation's public page.

Cheap on purpose (the consultation page is measured): it reads only the consultation's own fields and
the clock, no query, the same for anonymous visitors and members; the entry page
(/consultations/<pk>/depot/) sends anonymous visitors to the login page and asks for the company."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import get_template
from django.urls import reverse

from ebourgogne.consultations.models import State

register = template.Library()


@register.simple_tag(takes_context=True)
def tenders_public_block(context: template.Context, consultation: Any) -> str:
    if getattr(consultation, "is_practice", False) or consultation.state not in (State.PUBLISHED, State.CLOSED):
        return ""
    if consultation.bids_deadline is None:
        return ""
    accepting = consultation.accepts_bids
    return get_template("tenders/public/_block.html").render(
        {
            "consultation": consultation,
            "accepting": accepting,
            "late": not accepting and consultation.effective_state == State.CLOSED,
            "entry_url": reverse("tenders_public:entry", args=[consultation.pk]),
        },
        context.get("request"),
    )
