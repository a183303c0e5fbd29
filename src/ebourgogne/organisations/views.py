"""Organisation pages. Thin: each view checks access through `core.access`, reads through `selectors`,
changes through `services`, and turns a refusal into a message on the page with the right status."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ebourgogne.core.access import authenticated, operator_only, organisation_view, public
from ebourgogne.core.errors import DomainError
from ebourgogne.organisations import forms, selectors, services
from ebourgogne.organisations.models import Organisation
from ebourgogne.organisations.roles import PERMISSIONS, OrganisationKind, Role, roles_grant

ERROR_STATUS = {"not_found": 404, "forbidden": 403, "last_admin": 409, "already_member": 409}
INVITATION_ERROR_STATUS = {
    "invitation_unknown": 404,
    "invitation_revoked": 410,
    "invitation_used": 410,
    "invitation_expired": 410,
    "invitation_wrong_email": 403,
}


def _status(error: DomainError) -> int:
    return ERROR_STATUS.get(error.code, 400)


def _can(request: HttpRequest, permission: str) -> bool:
    return roles_grant(getattr(request, "organisation_roles", set()), permission)


def _permissions(request: HttpRequest) -> dict[str, bool]:
    """Which permissions the caller holds in the current organisation, for templates (`can.org_edit`)."""
    return {name.replace(".", "_"): _can(request, name) for name in PERMISSIONS}


def _context(request: HttpRequest, organisation: Organisation, **extra):
    admin_role = services.ADMIN_ROLE_BY_KIND[organisation.kind]
    return {
        "organisation": organisation,
        "my_roles": sorted(request.organisation_roles),  # type: ignore[attr-defined]
        "can": _permissions(request),
        "admin_role": admin_role,
        **extra,
    }


# --- Companies: registration ------------------------------------------------------------------------


@authenticated
@require_http_methods(["GET", "POST"])
def create_company(request: HttpRequest) -> HttpResponse:
    form = forms.CompanyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                organisation = services.company_register(acting_user=request.user, request=request, **form.cleaned_data)
            except DomainError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("L'entreprise %(name)s est inscrite ; vous en êtes l'administrateur.")
                    % {"name": organisation.name},
                )
                return redirect("organisations:detail", org_slug=organisation.slug)
        status = 400
    return render(request, "organisations/company_create.html", {"form": form}, status=status)


# --- One organisation -------------------------------------------------------------------------------


@organisation_view("org.view")
def detail(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    members = selectors.members_of(organisation=organisation)
    context = _context(
        request,
        organisation,
        member_count=len(members),
        admins=[member for member in members if services.ADMIN_ROLE_BY_KIND[organisation.kind] in member.roles],
        pending_invitations=(
            selectors.pending_invitations(organisation=organisation) if _can(request, "org.members.manage") else []
        ),
        services_tree=selectors.services_tree(organisation=organisation) if organisation.is_buyer else [],
        is_member=any(member.user.pk == request.user.pk for member in members),
    )
    return render(request, "organisations/detail.html", context)


@organisation_view("org.edit")
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    form = forms.OrganisationEditForm(request.POST or None, organisation=organisation)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.organisation_update(
                    acting_user=request.user, organisation=organisation, request=request, **form.cleaned_data
                )
            except DomainError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(request, _("Les informations de l'organisation sont enregistrées."))
                return redirect("organisations:detail", org_slug=organisation.slug)
        status = 400
    return render(request, "organisations/edit.html", _context(request, organisation, form=form), status=status)


# --- Members ----------------------------------------------------------------------------------------


@organisation_view("org.members.view")
def members(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    people = selectors.members_of(organisation=organisation)
    admin_role = services.ADMIN_ROLE_BY_KIND[organisation.kind]
    admin_count = sum(1 for member in people if admin_role in member.roles)
    rows = [
        {
            "member": member,
            "is_me": member.user.pk == request.user.pk,
            "is_last_admin": admin_role in member.roles and admin_count == 1,
            "form": forms.MemberRolesForm(
                organisation=organisation, initial={"roles": member.roles}, prefix=f"member-{member.user.pk}"
            ),
        }
        for member in people
    ]
    return render(
        request,
        "organisations/members.html",
        _context(request, organisation, rows=rows, role_choices=forms.role_choices(organisation)),
    )


def _member_or_404(organisation: Organisation, user_id: int):
    found = selectors.member(organisation=organisation, user_id=user_id)
    if found is None:
        raise Http404
    return found


@organisation_view("org.members.manage")
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    form = forms.InvitationForm(request.POST or None, organisation=organisation)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                invitation, _token = services.invitation_create(
                    acting_user=request.user,
                    organisation=organisation,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    request=request,
                )
            except DomainError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Invitation envoyée à %(email)s ; elle est valable 7 jours.") % {"email": invitation.email},
                )
                return redirect("organisations:invitations", org_slug=organisation.slug)
        status = 400
    return render(request, "organisations/invite.html", _context(request, organisation, form=form), status=status)


@organisation_view("org.members.manage")
@require_http_methods(["GET", "POST"])
def member_roles(request: HttpRequest, organisation: Organisation, user_id: int) -> HttpResponse:
    member = _member_or_404(organisation, user_id)
    prefix = f"member-{member.user.pk}"
    form = forms.MemberRolesForm(
        request.POST or None, organisation=organisation, initial={"roles": member.roles}, prefix=prefix
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.membership_roles_set(
                    acting_user=request.user,
                    organisation=organisation,
                    user=member.user,
                    roles=form.cleaned_data["roles"],
                    request=request,
                )
            except DomainError as error:
                forms.add_service_errors(form, error)
                status = _status(error)
            else:
                messages.success(
                    request, _("Les rôles de %(name)s sont enregistrés.") % {"name": member.user.get_full_name()}
                )
                return redirect("organisations:members", org_slug=organisation.slug)
        else:
            status = 400
    return render(
        request,
        "organisations/member_roles.html",
        _context(request, organisation, member=member, form=form),
        status=status,
    )


@organisation_view("org.members.manage")
@require_http_methods(["GET", "POST"])
def member_remove(request: HttpRequest, organisation: Organisation, user_id: int) -> HttpResponse:
    member = _member_or_404(organisation, user_id)
    error, status = None, 200
    if request.method == "POST":
        try:
            services.member_remove(
                acting_user=request.user, organisation=organisation, user=member.user, request=request
            )
        except DomainError as refused:
            error, status = refused.message, _status(refused)
        else:
            messages.success(
                request, _("%(name)s ne fait plus partie de l'organisation.") % {"name": member.user.get_full_name()}
            )
            return redirect("organisations:members", org_slug=organisation.slug)
    return render(
        request,
        "organisations/member_remove.html",
        _context(request, organisation, member=member, error=error),
        status=status,
    )


@organisation_view("org.view")
@require_http_methods(["GET", "POST"])
def leave(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    mine = selectors.member(organisation=organisation, user_id=request.user.pk)
    if mine is None:
        # Platform operators see every organisation but belong only to theirs.
        raise Http404
    error, status = None, 200
    if request.method == "POST":
        try:
            services.membership_leave(user=request.user, organisation=organisation, request=request)
        except DomainError as refused:
            error, status = refused.message, _status(refused)
        else:
            messages.success(request, _("Vous avez quitté %(name)s.") % {"name": organisation.name})
            return redirect("accounts:home")
    return render(
        request, "organisations/leave.html", _context(request, organisation, member=mine, error=error), status=status
    )


# --- Invitations ------------------------------------------------------------------------------------


@organisation_view("org.members.manage")
def invitations(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    return render(
        request,
        "organisations/invitations.html",
        _context(request, organisation, invitations=selectors.open_invitations(organisation=organisation)),
    )


@organisation_view("org.members.manage")
@require_POST
def invitation_revoke(request: HttpRequest, organisation: Organisation, pk: int) -> HttpResponse:
    invitation = selectors.invitation_of(organisation=organisation, pk=pk)
    if invitation is None:
        raise Http404
    try:
        services.invitation_revoke(acting_user=request.user, invitation=invitation, request=request)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("L'invitation de %(email)s est annulée.") % {"email": invitation.email})
    return redirect("organisations:invitations", org_slug=organisation.slug)


def _login_links(request: HttpRequest) -> dict[str, str]:
    query = urlencode({"next": request.get_full_path()})
    return {"login_url": f"{reverse('account_login')}?{query}", "signup_url": f"{reverse('account_signup')}?{query}"}


@public(
    reason="invitation link: the secret token in the URL is the credential; shows only the organisation and the role"
)
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.invitation_by_token_hash(services.token_hash(token))
    try:
        invitation = services.invitation_check(invitation)
    except DomainError as error:
        return render(
            request,
            "organisations/invitation_accept.html",
            {"error": error.message, "invitation": None},
            status=INVITATION_ERROR_STATUS.get(error.code, 400),
        )
    context = {"invitation": invitation, "error": None, **_login_links(request)}
    if request.user.is_authenticated:
        context["email_matches"] = services.email_belongs_to(request.user, invitation.email)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(context["login_url"])
        try:
            services.invitation_accept(user=request.user, token=token, request=request)
        except DomainError as error:
            context["error"] = error.message
            return render(
                request,
                "organisations/invitation_accept.html",
                context,
                status=INVITATION_ERROR_STATUS.get(error.code, _status(error)),
            )
        messages.success(
            request,
            _("Bienvenue : vous êtes maintenant %(role)s de %(name)s.")
            % {"role": Role(invitation.role).label.lower(), "name": invitation.organisation.name},
        )
        return redirect("organisations:detail", org_slug=invitation.organisation.slug)
    return render(request, "organisations/invitation_accept.html", context)


# --- Services of a buyer ----------------------------------------------------------------------------


def _buyer_only(organisation: Organisation) -> None:
    if organisation.kind != OrganisationKind.BUYER:
        raise Http404


@organisation_view("org.view")
def services_list(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    _buyer_only(organisation)
    tree = selectors.services_tree(organisation=organisation)
    form = forms.ServiceForm(parents=[node.service for node in tree])
    return render(request, "organisations/services.html", _context(request, organisation, tree=tree, form=form))


@organisation_view("org.services.manage")
@require_POST
def service_create(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    _buyer_only(organisation)
    tree = selectors.services_tree(organisation=organisation)
    form = forms.ServiceForm(request.POST, parents=[node.service for node in tree])
    status = 400
    if form.is_valid():
        parent = None
        if form.cleaned_data["parent"]:
            parent = selectors.service_of(organisation=organisation, pk=form.cleaned_data["parent"])
        try:
            service = services.buyer_service_create(
                acting_user=request.user,
                organisation=organisation,
                name=form.cleaned_data["name"],
                parent=parent,
                request=request,
            )
        except DomainError as error:
            forms.add_service_errors(form, error)
            status = _status(error)
        else:
            messages.success(request, _("Le service « %(name)s » est créé.") % {"name": service.name})
            return redirect("organisations:services", org_slug=organisation.slug)
    return render(
        request, "organisations/services.html", _context(request, organisation, tree=tree, form=form), status=status
    )


def _service_or_404(organisation: Organisation, pk: int):
    service = selectors.service_of(organisation=organisation, pk=pk)
    if service is None:
        raise Http404
    return service


@organisation_view("org.services.manage")
@require_http_methods(["GET", "POST"])
def service_rename(request: HttpRequest, organisation: Organisation, pk: int) -> HttpResponse:
    _buyer_only(organisation)
    service = _service_or_404(organisation, pk)
    form = forms.ServiceRenameForm(request.POST or None, initial={"name": service.name})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.buyer_service_rename(
                    acting_user=request.user, service=service, name=form.cleaned_data["name"], request=request
                )
            except DomainError as error:
                forms.add_service_errors(form, error)
                status = _status(error)
            else:
                messages.success(request, _("Le service est renommé « %(name)s ».") % {"name": service.name})
                return redirect("organisations:services", org_slug=organisation.slug)
    return render(
        request,
        "organisations/service_rename.html",
        _context(request, organisation, service=service, form=form),
        status=status,
    )


@organisation_view("org.services.manage")
@require_http_methods(["GET", "POST"])
def service_delete(request: HttpRequest, organisation: Organisation, pk: int) -> HttpResponse:
    _buyer_only(organisation)
    service = _service_or_404(organisation, pk)
    error, status = None, 200
    if request.method == "POST":
        try:
            services.buyer_service_delete(acting_user=request.user, service=service, request=request)
        except DomainError as refused:
            error, status = refused.message, _status(refused)
        else:
            messages.success(request, _("Le service « %(name)s » est supprimé.") % {"name": service.name})
            return redirect("organisations:services", org_slug=organisation.slug)
    children = list(service.children.order_by("name"))
    return render(
        request,
        "organisations/service_delete.html",
        _context(request, organisation, service=service, children=children, error=error),
        status=status,
    )


# --- Platform operators -----------------------------------------------------------------------------


@operator_only
def operator_list(request: HttpRequest) -> HttpResponse:
    form = forms.OperatorSearchForm(request.GET or None)
    query, kind = "", ""
    if form.is_valid():
        query, kind = form.cleaned_data["q"], form.cleaned_data["kind"]
    page = selectors.organisations_for_operator(query=query, kind=kind, page=request.GET.get("page", 1))
    params = urlencode({key: value for key, value in (("q", query), ("kind", kind)) if value})
    return render(
        request,
        "organisations/operator_list.html",
        {"form": form, "page": page, "params": params, "counts": selectors.organisation_counts()},
    )


@operator_only
@require_http_methods(["GET", "POST"])
def operator_create_buyer(request: HttpRequest) -> HttpResponse:
    form = forms.BuyerForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                organisation, invitation = services.buyer_register(
                    acting_user=request.user, request=request, **form.cleaned_data
                )
            except DomainError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("L'acheteur %(name)s est inscrit ; une invitation a été envoyée à %(email)s.")
                    % {"name": organisation.name, "email": invitation.email},
                )
                return redirect("organisations:detail", org_slug=organisation.slug)
        status = 400
    return render(request, "organisations/operator_create_buyer.html", {"form": form}, status=status)
