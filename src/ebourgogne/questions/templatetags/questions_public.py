"""`{% questions_public_block consultation %}`: the questions and answers of a public consultation, for its
public page. Reads the request from the context: signed-in company members get the form to ask and their
own company's questions; anonymous visitors a link to sign in."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from ebourgogne.questions import selectors, services
from ebourgogne.questions.forms import AskForm

register = template.Library()


@register.inclusion_tag("questions/_public_block.html", takes_context=True)
def questions_public_block(context: template.Context, consultation: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    companies = selectors.asking_companies(user) if signed_in else []
    is_open = services.questions_open(consultation)
    ask_url = reverse("questions_public:ask", args=[consultation.pk])
    return {
        "consultation": consultation,
        "entries": selectors.published_entries(consultation),
        "deadline": services.questions_deadline(consultation),
        "is_open": is_open,
        "signed_in": signed_in,
        "companies": companies,
        "own_questions": selectors.company_questions(consultation, user) if signed_in else [],
        "form": AskForm(companies=companies) if companies and is_open else None,
        "ask_url": ask_url,
        "login_url": reverse("account_login") + "?" + urlencode({"next": ask_url}),
        "csrf_token": context.get("csrf_token"),
        "LANGUAGE_CODE": context.get("LANGUAGE_CODE"),
    }
