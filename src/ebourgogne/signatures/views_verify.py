"""The public signature check, /verifier-une-signature/ (issue 7): anyone, signed in or not, uploads a
signed PDF, a signed XML, or a file with its detached signature (.p7s), and reads the report of
`signatures.verify.verify`. Nothing is stored: the files are read in the request and forgotten.

Checks are limited per client address (VERIFY_LIMIT per VERIFY_WINDOW), like the other public forms:
validation is work for the server, not for a robot."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from ebourgogne.core.access import public
from ebourgogne.core.errors import DomainError
from ebourgogne.signatures import verify as verification

VERIFY_LIMIT = 30
VERIFY_WINDOW = 10 * 60
MAX_MB = verification.MAX_SIZE // (1024 * 1024)


def throttled(request: HttpRequest) -> bool:
    """One more check from this client address; True when over the limit of the window."""
    from django.core.cache import cache

    from ebourgogne.audit.services import client_ip  # the proxy-aware address, as the event log records it

    key = f"signatures:verify:{client_ip(request)}"
    cache.add(key, 0, VERIFY_WINDOW)
    try:
        return cache.incr(key) > VERIFY_LIMIT
    except ValueError:  # expired between add and incr
        cache.set(key, 1, VERIFY_WINDOW)
        return False


def _size_checked(uploaded):  # noqa: ANN001, ANN202
    if uploaded is not None and uploaded.size > verification.MAX_SIZE:
        raise forms.ValidationError(
            _("Ce fichier dépasse la taille maximale de %(max)d Mo.") % {"max": MAX_MB}, code="too_large"
        )
    if uploaded is not None and uploaded.size == 0:
        raise forms.ValidationError(_("Ce fichier est vide."), code="empty")
    return uploaded


class VerifyForm(forms.Form):
    document = forms.FileField(
        label=gettext_lazy("Document signé"),
        help_text=lazy(
            lambda: (
                _(
                    "Un PDF signé, un XML signé (XAdES), une signature enveloppante (.p7m), ou le fichier d'origine "
                    "d'une signature détachée. %(max)d Mo au plus."
                )
                % {"max": MAX_MB}
            ),
            str,
        )(),
        error_messages={"required": gettext_lazy("Choisissez le fichier à vérifier.")},
    )
    signature = forms.FileField(
        label=gettext_lazy("Signature détachée (facultatif)"),
        required=False,
        help_text=gettext_lazy(
            "Le fichier de signature CAdES (.p7s) qui accompagne le document, quand la signature est à part."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".p7s,.p7m,.p7b,.pem,.sig,application/pkcs7-signature"}),
    )

    def clean_document(self):  # noqa: ANN201
        return _size_checked(self.cleaned_data.get("document"))

    def clean_signature(self):  # noqa: ANN201
        return _size_checked(self.cleaned_data.get("signature"))


def run(document, signature) -> verification.Report:  # noqa: ANN001
    """The report for uploaded files (the signature file first when there is one)."""
    if signature is not None:
        return verification.verify(signature.read(), filename=signature.name or "", detached=document.read())
    return verification.verify(document.read(), filename=document.name or "")


@public(reason="issue 7: anyone checks a signed document; nothing is stored, checks limited per address")
@require_http_methods(["GET", "POST"])
def verify_page(request: HttpRequest) -> HttpResponse:
    report, status = None, 200
    if request.method == "POST":
        if throttled(request):
            return render(request, "429.html", status=429)
        form = VerifyForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                report = run(form.cleaned_data["document"], form.cleaned_data.get("signature"))
            except DomainError as error:
                form.add_error("document", str(error.message))
                status = 400
        else:
            status = 400
    else:
        form = VerifyForm()
    return render(
        request,
        "signatures/verify.html",
        {"form": form, "report": report, "max_mb": MAX_MB},
        status=status,
    )
