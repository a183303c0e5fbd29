"""Commission pages of a buyer. Thin: access through `core.access`, reads through `selectors`, changes
through `services`; a refusal becomes a message on the page with the right status."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ebourgogne.commissions import forms, selectors, services
from ebourgogne.commissions.models import Commission
from ebourgogne.core.access import organisation_view
from ebourgogne.core.errors import DomainError
from ebourgogne.organisations.models import Organisation
from ebourgogne.organisations.roles import PERMISSIONS, roles_grant

ERROR_STATUS = {"not_found": 404, "forbidden": 403}


def _status(error: DomainError) -> int:
    return ERROR_STATUS.get(error.code, 400)


def _buyer_only(organisation: Organisation) -> None:
    if not organisation.is_buyer:
        raise Http404


def _context(request: HttpRequest, organisation: Organisation, **extra):
    roles = getattr(request, "organisation_roles", set())
    return {
        "organisation": organisation,
        "can": {name.replace(".", "_"): roles_grant(roles, name) for name in PERMISSIONS},
        **extra,
    }


def _commission(organisation: Organisation, pk: int) -> Commission:
    commission = selectors.commission_of(organisation=organisation, pk=pk)
    if commission is None:
        raise Http404
    return commission


# --- List and creation ------------------------------------------------------------------------------


def _list_page(request, organisation, form, *, status=200):
    views = [
        selectors.commission_view(commission) for commission in selectors.commissions_of(organisation=organisation)
    ]
    return render(
        request, "commissions/list.html", _context(request, organisation, views=views, form=form), status=status
    )


@organisation_view("commissions.view")
def commission_list(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    _buyer_only(organisation)
    people = selectors.people_of(organisation=organisation)
    return _list_page(request, organisation, forms.CommissionForm(people=people, auto_id="new_%s"))


@organisation_view("commissions.manage")
@require_POST
def commission_create(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    _buyer_only(organisation)
    form = forms.CommissionForm(request.POST, people=selectors.people_of(organisation=organisation), auto_id="new_%s")
    status = 400
    if form.is_valid():
        try:
            commission = services.commission_create(
                acting_user=request.user, organisation=organisation, request=request, **form.service_data()
            )
        except DomainError as error:
            forms.add_service_errors(form, error)
            status = _status(error)
        else:
            messages.success(request, _("La commission « %(name)s » est créée.") % {"name": commission.name})
            return redirect("commissions:detail", org_slug=organisation.slug, pk=commission.pk)
    return _list_page(request, organisation, form, status=status)


# --- One commission ---------------------------------------------------------------------------------


def _detail_page(request, organisation, commission, *, member_form=None, status=200):
    people = selectors.people_of(organisation=organisation)
    view = selectors.commission_view(commission)
    seated = {row.member.user_id for row in view.rows}
    member_form = member_form or forms.MemberForm(people=[p for p in people if p.pk not in seated], auto_id="member_%s")
    return render(
        request,
        "commissions/detail.html",
        _context(request, organisation, view=view, commission=commission, member_form=member_form),
        status=status,
    )


@organisation_view("commissions.view")
def commission_detail(request: HttpRequest, organisation: Organisation, pk: int) -> HttpResponse:
    _buyer_only(organisation)
    return _detail_page(request, organisation, _commission(organisation, pk))


@organisation_view("commissions.manage")
@require_http_methods(["GET", "POST"])
def commission_edit(request: HttpRequest, organisation: Organisation, pk: int) -> HttpResponse:
    _buyer_only(organisation)
    commission = _commission(organisation, pk)
    people = selectors.people_of(organisation=organisation)
    status = 200
    if request.method == "POST":
        form = forms.CommissionForm(request.POST, people=people)
        status = 400
        if form.is_valid():
            try:
                commission = services.commission_update(
                    acting_user=request.user, commission=commission, request=request, **form.service_data()
                )
            except DomainError as error:
                forms.add_service_errors(form, error)
                status = _status(error)
            else:
                messages.success(request, _("La commission « %(name)s » est enregistrée.") % {"name": commission.name})
                return redirect("commissions:detail", org_slug=organisation.slug, pk=commission.pk)
    else:
        form = forms.CommissionForm(initial=services.editable_fields(commission), people=people)
    return render(
        request,
        "commissions/edit.html",
        _context(request, organisation, commission=commission, form=form),
        status=status,
    )


@organisation_view("commissions.manage")
@require_POST
def member_add(request: HttpRequest, organisation: Organisation, pk: int) -> HttpResponse:
    _buyer_only(organisation)
    commission = _commission(organisation, pk)
    form = forms.MemberForm(request.POST, people=selectors.people_of(organisation=organisation), auto_id="member_%s")
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            member = services.member_add(
                acting_user=request.user,
                commission=commission,
                user=form.people.get(data["user"]),
                voice=data["voice"],
                seat=data["seat"],
                is_president=data["is_president"],
                mandate_start=data["mandate_start"],
                mandate_end=data["mandate_end"],
                request=request,
            )
        except DomainError as error:
            forms.add_service_errors(form, error)
            status = _status(error)
        else:
            messages.success(
                request,
                _("%(name)s siège désormais dans la commission.")
                % {"name": member.user.full_name or member.user.email},
            )
            return redirect("commissions:detail", org_slug=organisation.slug, pk=commission.pk)
    return _detail_page(request, organisation, commission, member_form=form, status=status)


@organisation_view("commissions.manage")
@require_POST
def member_remove(request: HttpRequest, organisation: Organisation, pk: int, member_pk: int) -> HttpResponse:
    _buyer_only(organisation)
    commission = _commission(organisation, pk)
    try:
        services.member_remove(acting_user=request.user, commission=commission, member_id=member_pk, request=request)
    except DomainError as error:
        if error.code == "not_found":
            raise Http404 from None
        messages.error(request, error.message)
    else:
        messages.success(request, _("Le membre a quitté la commission."))
    return redirect("commissions:detail", org_slug=organisation.slug, pk=commission.pk)
