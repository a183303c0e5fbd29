"""The vault's pages, under /organisations/<org_slug>/coffre-fort/.

Company side (company admins and members: vault.view, vault.manage; grants: vault.grant): the documents
and their statuses, upload, new version, history, delete, download, and the R2143-13 grants.
Buyer side (consultations.view of the buyer): the grants received, and the current versions they show.

Deny by default: an organisation of the wrong kind answers 404 on each side (as does another company or
another buyer, through `organisation_view`). Uploads: the CSRF check runs once our upload handler is in
place (as in the DCE), so the file is encrypted while it arrives.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from ebourgogne.core.access import organisation_view
from ebourgogne.core.errors import DomainError
from ebourgogne.organisations.roles import roles_grant
from ebourgogne.vault import forms, selectors, services, storage
from ebourgogne.vault.models import VaultDocument

ERROR_STATUS = {"not_found": 404, "forbidden": 403, "integrity": 409}


def _company_only(organisation: Any) -> None:
    if not organisation.is_company:
        raise Http404


def _buyer_only(organisation: Any) -> None:
    if not organisation.is_buyer:
        raise Http404


def _can(request: HttpRequest) -> dict[str, bool]:
    roles = getattr(request, "organisation_roles", set())
    return {name: roles_grant(roles, f"vault.{name}") for name in ("view", "manage", "grant")}


def _document(organisation: Any, pk: int) -> VaultDocument:
    document = selectors.document_of(company=organisation, pk=pk)
    if document is None or document.current_version_id is None:
        raise Http404
    return document


def _index_url(organisation: Any) -> str:
    return reverse("vault:index", args=[organisation.slug])


def _detail_url(organisation: Any, document: VaultDocument) -> str:
    return reverse("vault:detail", args=[organisation.slug, document.pk])


def _upload_refusal(handler: storage.VaultUploadHandler) -> str | None:
    if handler.too_large:
        return _("Le fichier dépasse la taille maximale de %(limit)s : il n'a pas été enregistré.") % {
            "limit": services_human_size(handler.max_bytes)
        }
    return handler.refused


def services_human_size(size: int) -> str:
    from django.template.defaultfilters import filesizeformat

    return str(filesizeformat(size))


def _file_status(error: str | None, handler: storage.VaultUploadHandler) -> int:
    return 413 if handler.too_large else 400


# --- Company: list and upload -------------------------------------------------------------------------


def _index_page(
    request: HttpRequest, organisation: Any, form: forms.DocumentForm, *, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "vault/index.html",
        {
            "organisation": organisation,
            "rows": selectors.document_rows(company=organisation),
            "form": form,
            "can": _can(request),
            "limit": storage.max_file_size(),
            "grants": [g for g in selectors.grants_of_company(company=organisation) if g.is_active],
        },
        status=status,
    )


@organisation_view("vault.view")
@require_GET
def index(request: HttpRequest, organisation: Any) -> HttpResponse:
    _company_only(organisation)
    return _index_page(request, organisation, forms.DocumentForm(auto_id="new_%s"))


def _read_upload(request: HttpRequest, handler: storage.VaultUploadHandler) -> tuple[Any, Any, str | None]:
    """(POST, FILES, refusal): the body parsed through our handler."""
    from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent

    try:
        post, files = request.POST, request.FILES
    except (RequestDataTooBig, TooManyFieldsSent, SuspiciousOperation):
        handler.upload_interrupted()
        return {}, {}, _("La requête est trop volumineuse ou mal formée : déposez un seul fichier à la fois.")
    return post, files, _upload_refusal(handler)


@csrf_protect
def _receive_document(request: HttpRequest, organisation: Any, handler: storage.VaultUploadHandler) -> HttpResponse:
    post, files, refusal = _read_upload(request, handler)
    form = forms.DocumentForm(post, files, auto_id="new_%s")
    if refusal:
        form.is_valid()
        form.add_error("file", refusal)
        status = _file_status(refusal, handler)
    elif form.is_valid():
        upload = handler.result
        try:
            document = services.document_create(
                acting_user=request.user,
                company=organisation,
                doc_type=form.cleaned_data["doc_type"],
                title=form.cleaned_data["title"],
                issue_date=form.cleaned_data["issue_date"],
                valid_until=form.cleaned_data["valid_until"],
                upload=upload,
                request=request,
            )
        except DomainError as error:
            forms.add_service_errors(form, error)
            status = ERROR_STATUS.get(error.code, 400)
        else:
            messages.success(request, _("Document « %(title)s » ajouté au coffre-fort.") % {"title": document.title})
            return redirect(_index_url(organisation))
    else:
        status = 400
    if handler.result is not None:
        handler.result.discard()
    return _index_page(request, organisation, form, status=status)


@csrf_exempt  # the CSRF check runs in _receive_document, once our upload handler is in place
@organisation_view("vault.manage")
@require_POST
def upload(request: HttpRequest, organisation: Any) -> HttpResponse:
    _company_only(organisation)
    handler = storage.VaultUploadHandler(request, company=organisation)
    request.upload_handlers = [handler]
    return _receive_document(request, organisation, handler)


# --- Company: one document ----------------------------------------------------------------------------


def _detail_page(
    request: HttpRequest, organisation: Any, document: VaultDocument, form: forms.VersionForm, *, status: int = 200
) -> HttpResponse:
    from ebourgogne.core import clock

    return render(
        request,
        "vault/detail.html",
        {
            "organisation": organisation,
            "document": document,
            "status": document.status(clock.today_local()),
            "versions": selectors.versions_of(document),
            "form": form,
            "can": _can(request),
            "limit": storage.max_file_size(),
        },
        status=status,
    )


@organisation_view("vault.view")
@require_GET
def detail(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    _company_only(organisation)
    document = _document(organisation, pk)
    form = forms.VersionForm(
        auto_id="version_%s", initial={"issue_date": document.issue_date, "valid_until": document.valid_until}
    )
    return _detail_page(request, organisation, document, form)


@csrf_protect
def _receive_version(
    request: HttpRequest, organisation: Any, document: VaultDocument, handler: storage.VaultUploadHandler
) -> HttpResponse:
    post, files, refusal = _read_upload(request, handler)
    form = forms.VersionForm(post, files, auto_id="version_%s")
    if refusal:
        form.is_valid()
        form.add_error("file", refusal)
        status = _file_status(refusal, handler)
    elif form.is_valid():
        try:
            version = services.version_add(
                acting_user=request.user,
                company=organisation,
                document=document,
                issue_date=form.cleaned_data["issue_date"],
                valid_until=form.cleaned_data["valid_until"],
                upload=handler.result,
                request=request,
            )
        except DomainError as error:
            forms.add_service_errors(form, error)
            status = ERROR_STATUS.get(error.code, 400)
        else:
            messages.success(request, _("Version %(number)d enregistrée.") % {"number": version.number})
            return redirect(_detail_url(organisation, document))
    else:
        status = 400
    if handler.result is not None:
        handler.result.discard()
    return _detail_page(request, organisation, document, form, status=status)


@csrf_exempt  # the CSRF check runs in _receive_version, once our upload handler is in place
@organisation_view("vault.manage")
@require_POST
def version_add(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    _company_only(organisation)
    document = _document(organisation, pk)
    handler = storage.VaultUploadHandler(request, company=organisation)
    request.upload_handlers = [handler]
    return _receive_version(request, organisation, document, handler)


@organisation_view("vault.manage")
@require_POST
def delete(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    _company_only(organisation)
    document = _document(organisation, pk)
    services.document_delete(acting_user=request.user, company=organisation, document=document, request=request)
    messages.success(request, _("Document « %(title)s » supprimé du coffre-fort.") % {"title": document.title})
    return redirect(_index_url(organisation))


def stream_version(request: HttpRequest, version: Any, *, organisation: Any, via_grant: Any = None) -> HttpResponse:
    """The decrypted file as an attachment, or a clear page when the stored file is damaged."""
    try:
        chunks = services.open_version(
            version, acting_user=request.user, organisation=organisation, via_grant=via_grant, request=request
        )
    except DomainError as error:
        return render(
            request,
            "vault/error.html",
            {"organisation": organisation, "message": error.message},
            status=ERROR_STATUS.get(error.code, 400),
        )
    response = StreamingHttpResponse(chunks, content_type=version.content_type)
    response["Content-Length"] = str(version.size)
    response["Content-Disposition"] = content_disposition_header(True, version.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Digest"] = f"sha-256={version.sha256}"
    return response


@organisation_view("vault.view")
@require_GET
def download(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    _company_only(organisation)
    document = _document(organisation, pk)
    return stream_version(request, document.current_version, organisation=organisation)


@organisation_view("vault.view")
@require_GET
def version_download(request: HttpRequest, organisation: Any, pk: int, number: int) -> HttpResponse:
    _company_only(organisation)
    document = _document(organisation, pk)
    version = selectors.version_of(document=document, number=number)
    if version is None:
        raise Http404
    return stream_version(request, version, organisation=organisation)


# --- Company: grants (R2143-13) -----------------------------------------------------------------------


def _grants_page(
    request: HttpRequest, organisation: Any, form: forms.GrantForm | None, *, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "vault/grants.html",
        {
            "organisation": organisation,
            "grants": selectors.grants_of_company(company=organisation),
            "form": form,
            "can": _can(request),
        },
        status=status,
    )


def _grant_form(organisation: Any, data: Any = None, initial: dict[str, Any] | None = None) -> forms.GrantForm:
    return forms.GrantForm(
        data,
        initial=initial,
        consultations=selectors.grantable_consultations(company=organisation),
        documents=selectors.documents_of(company=organisation),
        auto_id="grant_%s",
    )


@organisation_view("vault.view")
@require_GET
def grants(request: HttpRequest, organisation: Any) -> HttpResponse:
    _company_only(organisation)
    form = None
    if _can(request)["grant"]:
        # ?consultation=<id> (from a buyer's request for supporting documents) preselects a grantable one.
        raw = request.GET.get("consultation", "")
        chosen = (
            selectors.grantable_consultation(company=organisation, consultation_id=int(raw))
            if raw.isdigit() and len(raw) < 12
            else None
        )
        form = _grant_form(organisation, initial={"consultation": chosen.pk} if chosen else None)
    return _grants_page(request, organisation, form)


@organisation_view("vault.grant")
@require_POST
def grant_create(request: HttpRequest, organisation: Any) -> HttpResponse:
    _company_only(organisation)
    form = _grant_form(organisation, request.POST)
    status = 400
    if form.is_valid():
        try:
            grant = services.grant_create(
                acting_user=request.user,
                company=organisation,
                consultation_id=form.cleaned_data["consultation"],
                all_documents=form.cleaned_data["all_documents"],
                document_ids=form.cleaned_data["documents"],
                request=request,
            )
        except DomainError as error:
            forms.add_service_errors(form, error)
            status = ERROR_STATUS.get(error.code, 400)
        else:
            messages.success(
                request,
                _("Accès accordé à %(buyer)s pour la consultation %(reference)s.")
                % {"buyer": grant.buyer.name, "reference": grant.consultation.reference},
            )
            return redirect(reverse("vault:grants", args=[organisation.slug]))
    return _grants_page(request, organisation, form, status=status)


@organisation_view("vault.grant")
@require_POST
def grant_revoke(request: HttpRequest, organisation: Any, grant_pk: int) -> HttpResponse:
    _company_only(organisation)
    grant = selectors.grant_of_company(company=organisation, pk=grant_pk)
    if grant is None:
        raise Http404
    try:
        services.grant_revoke(acting_user=request.user, company=organisation, grant=grant, request=request)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("Accès révoqué : %(buyer)s ne voit plus ces documents.") % {"buyer": grant.buyer.name}
        )
    return redirect(reverse("vault:grants", args=[organisation.slug]))


# --- Buyer: grants received ---------------------------------------------------------------------------


@organisation_view("consultations.view")
@require_GET
def received(request: HttpRequest, organisation: Any) -> HttpResponse:
    _buyer_only(organisation)
    raw = request.GET.get("consultation", "")
    consultation_id = int(raw) if raw.isdigit() and len(raw) < 12 else None
    return render(
        request,
        "vault/received.html",
        {
            "organisation": organisation,
            "grants": selectors.active_grants_for_buyer(buyer=organisation, consultation_id=consultation_id),
            "filtered": consultation_id is not None,
        },
    )


def _received_grant(organisation: Any, grant_pk: int) -> Any:
    _buyer_only(organisation)
    grant = selectors.grant_for_buyer(buyer=organisation, pk=grant_pk)
    if grant is None:
        raise Http404
    return grant


@organisation_view("consultations.view")
@require_GET
def received_detail(request: HttpRequest, organisation: Any, grant_pk: int) -> HttpResponse:
    grant = _received_grant(organisation, grant_pk)
    from ebourgogne.core import clock

    today = clock.today_local()
    return render(
        request,
        "vault/received_detail.html",
        {
            "organisation": organisation,
            "grant": grant,
            "company": grant.company,
            "rows": [{"document": d, "status": d.status(today)} for d in selectors.granted_documents(grant)],
        },
    )


@organisation_view("consultations.view")
@require_GET
def received_download(request: HttpRequest, organisation: Any, grant_pk: int, pk: int) -> HttpResponse:
    grant = _received_grant(organisation, grant_pk)
    document = selectors.granted_document(grant, pk)
    if document is None:
        raise Http404
    return stream_version(request, document.current_version, organisation=organisation, via_grant=grant)
