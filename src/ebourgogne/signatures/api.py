"""The signatures API:

- GET /api/v1/signatures/certificates, the caller's own signing certificates (what is public in a
  certificate only: never the sealed key material). Uploading and signing stay in the browser, where the
  password or passphrase is typed.
- POST /api/v1/signatures/verify (multipart: `file`, and `signature` for a detached CAdES signature),
  public: the report of `signatures.verify.verify` (issue 7). Nothing is stored; calls are limited per
  client address like the public page."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Router, Schema, UploadedFile
from ninja.errors import Throttled

from ebourgogne.apitokens.auth import api_auth
from ebourgogne.apitokens.schemas import ErrorOut
from ebourgogne.core.access import authenticated, public
from ebourgogne.signatures import selectors

router = Router(tags=["signatures"], auth=api_auth)


class CertificateOut(Schema):
    id: int
    origin: str = Field(description='"uploaded" (the person\'s PKCS#12) or "platform" (issued by the platform CA)')
    label: str
    subject: str
    issuer: str
    serial: str = Field(description="serial number, hexadecimal")
    not_before: dt.datetime
    not_after: dt.datetime
    fingerprint: str = Field(description="SHA-256 of the certificate (DER), hexadecimal")
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


@router.get("/certificates", response={200: list[CertificateOut], 401: ErrorOut}, summary="My signing certificates")
@authenticated
def my_certificates(request: HttpRequest):
    return [
        CertificateOut(**{name: getattr(certificate, name) for name in CertificateOut.model_fields})
        for certificate in selectors.certificates_of(request.user)
    ]


class CertificateInfoOut(Schema):
    subject: str
    issuer: str
    serial: str = Field(description="serial number, hexadecimal")
    not_before: dt.datetime
    not_after: dt.datetime
    fingerprint: str = Field(description="SHA-256 of the certificate (DER), hexadecimal")


class SignatureResultOut(Schema):
    kind: str = Field(description='"signature" or "document_timestamp" (PAdES)')
    field_name: str
    signer_name: str
    certificate: CertificateInfoOut | None
    claimed_signing_time: dt.datetime | None = Field(description="the time written by the signer's software")
    timestamp_time: dt.datetime | None = Field(description="the time of a signature timestamp, if any")
    timestamp_ok: bool
    signing_time: dt.datetime | None = Field(description="the time the certificate status is judged at")
    signing_time_source: str = Field(description='"timestamp", "claimed" or "" (unknown)')
    integrity_ok: bool
    certificate_status_at_signing: str = Field(description="valid, expired, not_yet_valid, revoked or unknown")
    status_label: str
    trusted: bool = Field(description="the chain reaches a root the platform trusts")
    trust_anchor: str
    qualified: bool = Field(description="the certificate declares the eIDAS QcCompliance statement")
    qualified_label: str
    content_is_zip: bool = Field(description="the signed content is a ZIP: its files are not signed one by one")
    messages: list[str]
    ok: bool


class ReportOut(Schema):
    format: str = Field(description='"PAdES", "CAdES", "XAdES" or "" when no signature format was recognised')
    filename: str
    signatures: list[SignatureResultOut]
    errors: list[str] = Field(description="why the file could not be (fully) checked, in the caller's language")
    checked_at: dt.datetime
    ok: bool = Field(description="at least one signature, all intact, valid at signing time and trusted")


@router.post(
    "/verify",
    response={200: ReportOut, 400: ErrorOut, 413: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Verify a signed document (PAdES, CAdES, XAdES)",
    description="Multipart: `file` (a signed PDF, a signed XML, a .p7m, or the file a detached signature is "
    "about) and, for a detached CAdES signature, `signature` (the .p7s). 50 MB per file at most. Nothing is "
    "stored. A file that is not a signature gets a report with `errors`, not an error status.",
    auth=None,
)
@public(reason="issue 7: anyone checks a signed document; nothing is stored, checks limited per address")
def verify_signature(
    request: HttpRequest,
    file: UploadedFile = File(...),  # noqa: B008 - django-ninja's way of declaring a multipart file
    signature: UploadedFile | None = File(None),  # noqa: B008
):
    from ebourgogne.signatures import views_verify

    if views_verify.throttled(request):
        raise Throttled(views_verify.VERIFY_WINDOW)
    for uploaded in (file, signature):
        if uploaded is not None and uploaded.size > views_verify.verification.MAX_SIZE:
            from ebourgogne.core.errors import DomainError

            raise DomainError(
                _("Ce fichier dépasse la taille maximale de %(max)d Mo.") % {"max": views_verify.MAX_MB},
                code="too_large",
            )
    return views_verify.run(file, signature).as_dict()
