"""Views of the DCE: public downloads and identification, the buyer's file management and register."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from ebourgogne.core.access import organisation_view, public
from ebourgogne.core.errors import DomainError
from ebourgogne.dce import forms, selectors, services
from ebourgogne.dce.models import Downloader
from ebourgogne.dce.serving import Served, serve
from ebourgogne.dce.uploads import DceUploadHandler

COOKIE_SALT = "ebourgogne.dce.downloader"
COOKIE_AGE = 60 * 60 * 24 * 365


def cookie_name(consultation_id: int) -> str:
    return f"ebourgogne_dce_{consultation_id}"


def consultation_public_url(consultation_id: int) -> str:
    return services.consultation_public_path(consultation_id)


def account_company(request: HttpRequest):
    """The first company of the signed-in person, or None (anonymous, or not a company member)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    from ebourgogne.organisations.roles import OrganisationKind
    from ebourgogne.organisations.selectors import organisations_of

    return next((org for org, _roles in organisations_of(user=user) if org.kind == OrganisationKind.COMPANY), None)


def identified_downloader_id(request: HttpRequest, consultation_id: int, *, register: bool = False) -> int | None:
    """Who downloads: the identity left with the form (signed cookie), else the signed-in person's
    registration; with `register`, a signed-in company user without one is registered by their account.
    Anonymous visitors cost no query here."""
    value = request.get_signed_cookie(cookie_name(consultation_id), default=None, salt=COOKIE_SALT)
    if value:
        try:
            return int(value)
        except ValueError:
            return None
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    from django_scopes import scopes_disabled

    with scopes_disabled():
        found = (
            Downloader.objects.filter(consultation_id=consultation_id, user=user).values_list("pk", flat=True).first()
        )
    if found is not None or not register:
        return found
    company = account_company(request)
    consultation = selectors.public_consultation(consultation_id) if company is not None else None
    if consultation is None:
        return None
    return services.register_account_downloader(consultation=consultation, user=user, company=company).pk


def _counts_as_download(request: HttpRequest, response: HttpResponse) -> bool:
    """A download is counted once: a full answer, or the first part of a ranged one (not each resumed part)."""
    if request.method != "GET":
        return False
    if response.status_code == 200:
        return True
    return response.status_code == 206 and response.headers.get("Content-Range", "").startswith("bytes 0-")


# --- Public -----------------------------------------------------------------------------------------


def _purged(request: HttpRequest, pk: int) -> HttpResponse:
    """410 Gone: the file was deleted by the retention purge (contracts.retention); its row stays."""
    return render(request, "dce/purged.html", {"consultation_url": consultation_public_url(pk)}, status=410)


@public(reason="DCE: free, direct, unrestricted download without an account (R2132-2 CCP)")
@require_http_methods(["GET", "HEAD"])
def download_file(request: HttpRequest, pk: int, file_id: int) -> HttpResponse:
    found = selectors.downloadable_file(consultation_id=pk, file_id=file_id)
    if found is None:
        raise Http404
    dce_file, version_id = found
    if not dce_file.storage_name:
        return _purged(request, pk)
    response = serve(
        request,
        Served(dce_file.storage_name, dce_file.size, dce_file.sha256, dce_file.content_type, dce_file.name),
    )
    if _counts_as_download(request, response):
        services.record_download(
            consultation_id=pk,
            version_id=version_id,
            file_id=dce_file.pk,
            downloader_id=identified_downloader_id(request, pk, register=True),
        )
    return response


@public(reason="DCE: the whole DCE of the current version as one ZIP, without an account")
@require_http_methods(["GET", "HEAD"])
def download_archive(request: HttpRequest, pk: int) -> HttpResponse:
    version = selectors.downloadable_archive(consultation_id=pk)
    if version is None:
        raise Http404
    if version.archive_ready_at is None:
        response = render(
            request, "dce/archive_pending.html", {"consultation_url": consultation_public_url(pk)}, status=503
        )
        response.headers["Retry-After"] = "30"
        return response
    if not version.archive_name:
        return _purged(request, pk)
    response = serve(
        request,
        Served(
            version.archive_name,
            version.archive_size or 0,
            version.archive_sha256,
            "application/zip",
            f"DCE-{pk}-v{version.number}.zip",
        ),
    )
    if _counts_as_download(request, response):
        services.record_download(
            consultation_id=pk,
            version_id=version.pk,
            file_id=None,
            downloader_id=identified_downloader_id(request, pk, register=True),
        )
    return response


def _safe_next(request: HttpRequest, value: str, consultation_id: int) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        if value.startswith("/"):
            return value
    return consultation_public_url(consultation_id)


def _account_initial(request: HttpRequest) -> dict:
    user = request.user
    if not user.is_authenticated:
        return {}
    company = account_company(request)
    return {"name": user.full_name, "email": user.email, "company_name": company.name if company else ""}


# Registrations per client address and window: enough for a team behind one address, not for a robot
# signing strangers up (each registration may send mails).
IDENTIFY_LIMIT = 30
IDENTIFY_WINDOW = 10 * 60


def _identify_throttled(request: HttpRequest) -> bool:
    from django.core.cache import cache

    from ebourgogne.audit.services import client_ip  # the proxy-aware address, as the event log records it

    key = f"dce:identify:{client_ip(request)}"
    cache.add(key, 0, IDENTIFY_WINDOW)
    try:
        return cache.incr(key) > IDENTIFY_LIMIT
    except ValueError:  # expired between add and incr
        cache.set(key, 1, IDENTIFY_WINDOW)
        return False


@public(reason="DCE: optional identification of a downloader, to be told of changes (R2132-2 CCP)")
@require_http_methods(["GET", "POST"])
def identify(request: HttpRequest, pk: int) -> HttpResponse:
    consultation = selectors.public_consultation(pk)
    if consultation is None:
        raise Http404
    if request.method == "POST" and _identify_throttled(request):
        return render(request, "429.html", status=429)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    form = forms.IdentifyForm(request.POST or None, initial={"next": next_url, **_account_initial(request)})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            # The account is linked only when the address given is the account's own.
            user = request.user if request.user.is_authenticated else None
            if user is not None and user.email.lower() != form.cleaned_data["email"].lower():
                user = None
            company = account_company(request) if user is not None else None
            try:
                downloader = services.register_downloader(
                    consultation=consultation,
                    email=form.cleaned_data["email"],
                    name=form.cleaned_data["name"],
                    company_name=form.cleaned_data["company_name"],
                    user=user,
                    company=company,
                    language=(get_language() or "fr")[:2],
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _(
                        "Merci. Vous serez informé·e par courriel des modifications du DCE et des réponses aux questions."
                    ),
                )
                response = HttpResponseRedirect(_safe_next(request, form.cleaned_data.get("next") or "", pk))
                response.set_signed_cookie(
                    cookie_name(pk),
                    str(downloader.pk),
                    salt=COOKIE_SALT,
                    max_age=COOKIE_AGE,
                    httponly=True,
                    samesite="Lax",
                    secure=request.is_secure(),
                )
                return response
        status = 400
    return render(
        request,
        "dce/identify.html",
        {"consultation": consultation, "form": form, "consultation_url": consultation_public_url(pk)},
        status=status,
    )


@public(reason="DCE: unsubscribe link sent by e-mail, proven by a signed token")
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    from django.core import signing

    try:
        downloader_pk = signing.loads(token, salt=services.UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        raise Http404 from None
    from django_scopes import scopes_disabled

    with scopes_disabled():
        downloader = (
            Downloader.objects.filter(pk=downloader_pk, consultation_id=pk).select_related("consultation").first()
        )
    if downloader is None:
        raise Http404
    done = downloader.unsubscribed_at is not None
    if request.method == "POST" and not done:
        services.unsubscribe(token=token)
        done = True
    return render(
        request,
        "dce/unsubscribe.html",
        {
            "downloader": downloader,
            "consultation": downloader.consultation,
            "done": done,
            "consultation_url": consultation_public_url(pk),
        },
    )


# --- Buyer ------------------------------------------------------------------------------------------


def _consultation_or_404(organisation, pk: int):
    consultation = selectors.buyer_consultation(organisation=organisation, pk=pk)
    if consultation is None:
        raise Http404
    return consultation


def manage_context(request: HttpRequest, organisation, consultation, **extra) -> dict:
    from ebourgogne.organisations.roles import roles_grant

    draft = services.draft_version(consultation)
    return {
        "organisation": organisation,
        "consultation": consultation,
        "files": selectors.files_being_prepared(consultation),
        "removed": selectors.removed_in_draft(consultation),
        "draft": draft,
        "has_changes": draft is not None and services.has_changes(draft),
        "versions": selectors.versions(consultation),
        "used": services.used_bytes(consultation),
        "room_left": services.room_left(consultation),
        "can_manage": roles_grant(getattr(request, "organisation_roles", set()), "dce.manage"),
        "editable": consultation.state in services.EDITABLE_STATES,
        "publish_form": extra.pop("publish_form", None) or forms.PublishForm(),
        "summary": selectors.register_summary(consultation),
        **extra,
    }


@organisation_view("consultations.view")
@require_http_methods(["GET"])
def manage(request: HttpRequest, organisation, pk: int) -> HttpResponse:
    consultation = _consultation_or_404(organisation, pk)
    return render(request, "dce/buyer/manage.html", manage_context(request, organisation, consultation))


def _manage_url(organisation, consultation) -> str:
    return reverse("dce_buyer:manage", kwargs={"org_slug": organisation.slug, "pk": consultation.pk})


@csrf_protect
def _receive_upload(request, *, organisation, consultation, handler: DceUploadHandler, replacing=None) -> HttpResponse:
    error = None
    status = 400
    try:
        uploaded = request.FILES.get("file")
    except (RequestDataTooBig, TooManyFieldsSent, SuspiciousOperation):
        uploaded = None
        error = _("La requête est trop volumineuse ou mal formée : déposez un seul fichier à la fois.")
    if error is None:
        if handler.too_large:
            error = _(
                "Le fichier dépasse la place restante dans le DCE (%(left)s sur %(limit)s) : il n'a pas été enregistré."
            ) % {
                "left": services.human_size(handler.max_bytes),
                "limit": services.human_size(consultation.dce_size_limit),
            }
            status = 413
        elif uploaded is None:
            error = _("Choisissez un fichier à déposer.")
        else:
            try:
                if replacing is not None:
                    dce_file = services.replace_file(
                        acting_user=request.user,
                        consultation=consultation,
                        dce_file=replacing,
                        uploaded=uploaded,
                        request=request,
                    )
                else:
                    dce_file = services.upload_file(
                        acting_user=request.user, consultation=consultation, uploaded=uploaded, request=request
                    )
            except DomainError as refused:
                error = refused.message
                status = 413 if refused.code == "too_large" else 400
            else:
                messages.success(
                    request,
                    _("Fichier « %(name)s » déposé (%(size)s).")
                    % {"name": dce_file.name, "size": services.human_size(dce_file.size)},
                )
                return redirect(_manage_url(organisation, consultation))
            finally:
                uploaded.close()
    context = manage_context(request, organisation, consultation, upload_error=error, replacing=replacing)
    return render(request, "dce/buyer/manage.html", context, status=status)


@csrf_exempt  # the CSRF check runs in _receive_upload, once our upload handler is in place
@organisation_view("dce.manage")
@require_POST
def upload(request: HttpRequest, organisation, pk: int) -> HttpResponse:
    consultation = _consultation_or_404(organisation, pk)
    handler = DceUploadHandler(request, max_bytes=services.room_left(consultation))
    request.upload_handlers = [handler]
    return _receive_upload(request, organisation=organisation, consultation=consultation, handler=handler)


@csrf_exempt  # the CSRF check runs in _receive_upload, once our upload handler is in place
@organisation_view("dce.manage")
@require_POST
def replace(request: HttpRequest, organisation, pk: int, file_id: int) -> HttpResponse:
    consultation = _consultation_or_404(organisation, pk)
    dce_file = selectors.buyer_file(consultation=consultation, file_id=file_id)
    if dce_file is None or dce_file.removed_in_id is not None:
        raise Http404
    handler = DceUploadHandler(request, max_bytes=services.room_left(consultation) + dce_file.size)
    request.upload_handlers = [handler]
    return _receive_upload(
        request, organisation=organisation, consultation=consultation, handler=handler, replacing=dce_file
    )


@organisation_view("dce.manage")
@require_POST
def remove(request: HttpRequest, organisation, pk: int, file_id: int) -> HttpResponse:
    consultation = _consultation_or_404(organisation, pk)
    dce_file = selectors.buyer_file(consultation=consultation, file_id=file_id)
    if dce_file is None:
        raise Http404
    try:
        services.remove_file(acting_user=request.user, consultation=consultation, dce_file=dce_file, request=request)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Fichier « %(name)s » retiré du DCE.") % {"name": dce_file.name})
    return redirect(_manage_url(organisation, consultation))


@organisation_view("dce.manage")
@require_POST
def publish(request: HttpRequest, organisation, pk: int) -> HttpResponse:
    consultation = _consultation_or_404(organisation, pk)
    form = forms.PublishForm(request.POST)
    if form.is_valid():
        try:
            version = services.publish_changes(
                acting_user=request.user, consultation=consultation, reason=form.cleaned_data["reason"], request=request
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            if version.is_rectification:
                message = _(
                    "Rectificatif n° %(number)s publié ; les entreprises identifiées en sont informées par courriel."
                ) % {"number": version.number - 1}
            else:
                message = _("DCE publié : les entreprises le téléchargent depuis la page de la consultation.")
            messages.success(request, message)
            return redirect(_manage_url(organisation, consultation))
    context = manage_context(request, organisation, consultation, publish_form=form)
    return render(request, "dce/buyer/manage.html", context, status=400)


@organisation_view("consultations.view")
@require_http_methods(["GET", "HEAD"])
def buyer_download(request: HttpRequest, organisation, pk: int, file_id: int) -> HttpResponse:
    """The buyer's own copy of any file of the consultation, drafts included (not counted in the register)."""
    consultation = _consultation_or_404(organisation, pk)
    dce_file = selectors.buyer_file(consultation=consultation, file_id=file_id)
    if dce_file is None:
        raise Http404
    if not dce_file.storage_name:
        return _purged(request, pk)
    return serve(
        request,
        Served(dce_file.storage_name, dce_file.size, dce_file.sha256, dce_file.content_type, dce_file.name),
    )


REGISTER_PAGE = 100


@organisation_view("consultations.view")
@require_http_methods(["GET"])
def register(request: HttpRequest, organisation, pk: int) -> HttpResponse:
    from django.core.paginator import Paginator

    consultation = _consultation_or_404(organisation, pk)
    page = Paginator(selectors.download_register(consultation), REGISTER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "dce/buyer/register.html",
        {
            "organisation": organisation,
            "consultation": consultation,
            "page": page,
            "summary": selectors.register_summary(consultation),
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@organisation_view("consultations.view")
@require_http_methods(["GET"])
def register_csv(request: HttpRequest, organisation, pk: int) -> HttpResponse:
    consultation = _consultation_or_404(organisation, pk)
    writer = csv.writer(_Echo(), delimiter=";")
    anonymous = _("anonyme")
    whole = _("DCE complet (ZIP)")
    register = selectors.download_register(consultation)  # built here, inside the buyer's scope

    def rows():
        yield "\ufeff" + writer.writerow(
            [
                _("Date (heure de Paris)"),
                _("Version"),
                _("Fichier"),
                _("Nom"),
                _("Entreprise"),
                _("Adresse électronique"),
            ]
        )
        for download in register.iterator(chunk_size=2000):
            who = download.downloader
            yield writer.writerow(
                [
                    timezone.localtime(download.downloaded_at).strftime("%Y-%m-%d %H:%M:%S"),
                    download.version.number,
                    download.file.name if download.file_id else whole,
                    _clean_cell(who.name) if who else anonymous,
                    _clean_cell(who.company_name) if who else "",
                    _clean_cell(who.email) if who else "",
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="registre-retraits-{consultation.pk}.csv"'
    return response


def _clean_cell(value: str) -> str:
    """No spreadsheet formula injection from what a visitor typed."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
