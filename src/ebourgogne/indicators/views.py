"""Dashboard pages: a buyer's own (staff only), and the public pages of the region and its departments.

Thin: access through `core.access`, figures through `selectors.dashboard` (precomputed rows only),
the on-demand refresh through `services.refresh_buyer`. The public pages show department and region
sums only: no figure there is per company or per buyer.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ebourgogne.core.access import organisation_view, public
from ebourgogne.indicators import selectors, services
from ebourgogne.indicators.csv_export import figure_csv
from ebourgogne.indicators.forms import period_from
from ebourgogne.indicators.models import REGION, buyer_key, department_key
from ebourgogne.organisations.models import Organisation
from ebourgogne.organisations.seed_data import DEPARTMENTS


def _department(code: str) -> str:
    if code not in DEPARTMENTS:
        raise Http404
    return DEPARTMENTS[code]


def _page(request: HttpRequest, template: str, scope_key: str, export: tuple, **context) -> HttpResponse:
    """The dashboard of `scope_key`; `export`: (URL name, args before the figure) of its CSV export."""
    form, period, valid = period_from(request.GET)
    board = selectors.dashboard(scope_key, period)
    name, args = export
    for figure in board.figures:
        figure.export_url = f"{reverse(name, args=[*args, figure.key])}?{period.query}"
    return render(
        request,
        template,
        {
            "form": form,
            "board": board,
            "period": period,
            "departments": [(code, DEPARTMENTS.get(code, code)) for code, _n in selectors.departments()],
            **context,
        },
        status=200 if valid else 400,
    )


def _csv(request: HttpRequest, scope_key: str, figure_key: str, scope_label: str) -> HttpResponse:
    form, period, valid = period_from(request.GET)
    if not valid:
        errors = "; ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    board = selectors.dashboard(scope_key, period)
    figure = board.figure(figure_key)
    if figure is None:
        raise Http404
    body = figure_csv(figure, scope_label=scope_label, period=period, as_of=board.as_of)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    name = f"indicateurs-{scope_key.replace(':', '-')}-{figure_key}-{period.start:%Y%m}-{period.end:%Y%m}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _buyer_only(organisation: Organisation) -> None:
    if not organisation.is_buyer:
        raise Http404


# --- A buyer's dashboard ------------------------------------------------------------------------------


@require_GET
@organisation_view("indicators.view")
def buyer_dashboard(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    _buyer_only(organisation)
    return _page(
        request,
        "indicators/buyer.html",
        buyer_key(organisation.pk),
        ("indicators_buyer:export", [organisation.slug]),
        organisation=organisation,
        department=(organisation.department, DEPARTMENTS.get(organisation.department, "")),
    )


@require_GET
@organisation_view("indicators.view")
def buyer_export(request: HttpRequest, organisation: Organisation, figure: str) -> HttpResponse:
    _buyer_only(organisation)
    return _csv(request, buyer_key(organisation.pk), figure, organisation.name)


@require_POST
@organisation_view("indicators.view")
def buyer_refresh(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    _buyer_only(organisation)
    services.refresh_buyer(organisation=organisation, actor=request.user, request=request)
    messages.success(request, _("Les indicateurs de votre organisation ont été recalculés."))
    return redirect("indicators_buyer:dashboard", org_slug=organisation.slug)


# --- Public pages: the region and its departments ----------------------------------------------------


@require_GET
@public(reason="open figures of the region: sums over every buyer, no per-company data")
def region(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        "indicators/public.html",
        REGION,
        ("indicators:region_export", []),
        scope_label=_("Région Bourgogne"),
        department=None,
    )


@require_GET
@public(reason="open figures of a department: sums over its buyers, no per-company data")
def department(request: HttpRequest, code: str) -> HttpResponse:
    name = _department(code)
    return _page(
        request,
        "indicators/public.html",
        department_key(code),
        ("indicators:department_export", [code]),
        scope_label=name,
        department=(code, name),
    )


@require_GET
@public(reason="CSV of the open figures of the region")
def region_export(request: HttpRequest, figure: str) -> HttpResponse:
    return _csv(request, REGION, figure, _("Région Bourgogne"))


@require_GET
@public(reason="CSV of the open figures of a department")
def department_export(request: HttpRequest, code: str, figure: str) -> HttpResponse:
    return _csv(request, department_key(code), figure, _department(code))
