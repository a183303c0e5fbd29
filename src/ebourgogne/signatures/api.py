"""The signatures API: GET /api/v1/signatures/certificates, the caller's own signing certificates (what
is public in a certificate only: never the sealed key material). Uploading and signing stay in the
browser, where the password or passphrase is typed."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Router, Schema

from ebourgogne.apitokens.auth import api_auth
from ebourgogne.consultations.api import ErrorOut
from ebourgogne.core.access import authenticated
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
