"""The practice consultation's pages, under /entrainement/: the explanation and the company's practice
bids (any signed-in person; their own companies only), and the mock opening of a company's own practice
bid (bids.submit in that company)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_scopes import scopes_disabled

from ebourgogne.core.access import authenticated, organisation_view
from ebourgogne.core.errors import DomainError
from ebourgogne.organisations.models import Membership
from ebourgogne.organisations.roles import OrganisationKind, roles_grant
from ebourgogne.tenders import practice

SUBMIT = "bids.submit"
ERROR_STATUS = {"not_found": 404, "forbidden": 403, "busy": 503}


def bid_page_url(consultation: Any, company: Any = None) -> str:
    """The real bid page (tenders) of the practice consultation: the company's new bid, or the public entry
    that asks for the company."""
    if company is not None:
        return reverse("tenders_company:new", kwargs={"org_slug": company.slug, "consultation_pk": consultation.pk})
    return reverse("tenders_public:entry", args=[consultation.pk])


def _companies(user: Any) -> list[Any]:
    """The companies in which the user may deposit bids."""
    with scopes_disabled():
        memberships = Membership.objects.filter(
            user=user, organisation__kind=OrganisationKind.COMPANY, organisation__is_active=True
        ).select_related("organisation")
        found: dict[int, Any] = {}
        for membership in memberships:
            if roles_grant({membership.role}, SUBMIT):
                found[membership.organisation_id] = membership.organisation
    return sorted(found.values(), key=lambda company: company.name)


@authenticated
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    consultation = practice.practice_consultation()
    companies = [
        {"company": company, "bids": practice.practice_bids(company), "bid_url": bid_page_url(consultation, company)}
        for company in _companies(request.user)
    ]
    return render(
        request,
        "tenders/practice/index.html",
        {"consultation": consultation, "bid_url": bid_page_url(consultation), "companies": companies},
    )


@organisation_view(SUBMIT)
@require_http_methods(["GET", "POST"])
def mock_opening(request: HttpRequest, organisation: Any) -> HttpResponse:
    """GET: the company's practice bids and the button; POST: the mock opening of one of them."""
    consultation = practice.practice_consultation()
    bids = practice.practice_bids(organisation)
    context: dict[str, Any] = {
        "organisation": organisation,
        "consultation": consultation,
        "bids": bids,
        "bid_url": bid_page_url(consultation, organisation),
    }
    status = 200
    if request.method == "POST":
        raw = request.POST.get("bid", "")
        try:
            context["result"] = practice.mock_opening(
                acting_user=request.user,
                company=organisation,
                bid_id=int(raw) if raw.isdigit() else None,
                request=request,
            )
        except DomainError as error:
            context["error"] = str(error)
            status = ERROR_STATUS.get(error.code, 400)
    return render(request, "tenders/practice/mock_opening.html", context, status=status)
