"""The person's signing certificates, under /compte/certificats/ (a signed-in person, on their own
certificates only: anybody else's answers 404).

Thin: the forms check the input's shape, `services` apply the rules; a password or passphrase typed is
never echoed back."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ebourgogne.core import clock
from ebourgogne.core.access import authenticated
from ebourgogne.core.errors import DomainError, NotFound
from ebourgogne.signatures import forms, selectors, services
from ebourgogne.signatures.certificates import MAX_PKCS12_SIZE


def _page(request: HttpRequest, *, status: int = 200, **given) -> HttpResponse:
    context = {
        "certificates": selectors.certificates_of(request.user),
        "upload_form": given.get("upload_form") or forms.UploadForm(auto_id="upload_%s"),
        "issue_form": given.get("issue_form") or forms.IssueForm(auto_id="issue_%s"),
        "max_kb": MAX_PKCS12_SIZE // 1024,
        "now": clock.now(),
    }
    return render(request, "signatures/certificates.html", context, status=status)


@authenticated
def home(request: HttpRequest) -> HttpResponse:
    return _page(request)


def _field_of(error: DomainError, *, entry: str, file_field: str | None = None) -> str | None:
    if error.code in ("wrong_password", "weak_passphrase"):
        return entry
    if file_field and error.code in ("not_pkcs12", "incomplete", "mismatch", "key_type", "weak_key"):
        return file_field
    if error.code == "invalid_label":
        return "label"
    return None


@require_POST
@authenticated
def upload(request: HttpRequest) -> HttpResponse:
    form = forms.UploadForm(request.POST, request.FILES, auto_id="upload_%s")
    if form.is_valid():
        try:
            certificate = services.certificate_upload(
                user=request.user,
                data=form.cleaned_data["file"].read(),
                password=form.cleaned_data["password"],
                label=form.cleaned_data["label"],
                request=request,
            )
        except DomainError as error:
            form.add_error(_field_of(error, entry="password", file_field="file"), error.message)
        else:
            messages.success(
                request,
                _("Le certificat de %(subject)s est enregistré. Son mot de passe vous sera demandé à chaque signature.")
                % {"subject": certificate.subject},
            )
            return redirect("signatures:home")
    return _page(request, upload_form=form, status=400)


@require_POST
@authenticated
def issue(request: HttpRequest) -> HttpResponse:
    form = forms.IssueForm(request.POST, auto_id="issue_%s")
    if form.is_valid():
        try:
            services.certificate_issue(
                user=request.user,
                passphrase=form.cleaned_data["passphrase"],
                label=form.cleaned_data["label"],
                request=request,
            )
        except DomainError as error:
            form.add_error(_field_of(error, entry="passphrase"), error.message)
        else:
            messages.success(
                request,
                _("Votre certificat de signature est délivré. Retenez bien votre phrase secrète de signature."),
            )
            return redirect("signatures:home")
    return _page(request, issue_form=form, status=400)


@authenticated
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        certificate = services.owned(request.user, pk)
    except NotFound:
        raise Http404 from None
    form = forms.RevokeForm(request.POST or None, auto_id="revoke_%s")
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.certificate_revoke(
                    user=request.user, certificate=certificate, reason=form.cleaned_data["reason"], request=request
                )
            except DomainError as error:
                form.add_error("reason" if error.code == "invalid_reason" else None, error.message)
            else:
                messages.success(request, _("Le certificat est révoqué : il ne peut plus servir à signer."))
                return redirect("signatures:home")
        status = 400
    return render(request, "signatures/revoke.html", {"certificate": certificate, "form": form}, status=status)
