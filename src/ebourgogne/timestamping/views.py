"""The timestamp authority's public certificates: anyone verifying a receipt needs them, offline."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from ebourgogne.core.access import public
from ebourgogne.timestamping.authority import EMBEDDED_POLICY, EmbeddedAuthority, fingerprint, get_authority, to_pem

_FILES = {"racine": "root", "autorite": "tsa", "chaine": "chain"}


def _certificates() -> dict[str, list]:
    authority = get_authority()
    chain = authority.chain()
    roots = authority.roots()
    others = [c for c in chain if c not in roots]
    return {"root": roots, "tsa": others[:1], "chain": chain}


@public(reason="the timestamp authority's public certificates, needed by anyone verifying a receipt")
def certificates(request: HttpRequest) -> HttpResponse:
    authority = get_authority()
    rows = [
        {
            "subject": certificate.subject.human_friendly,
            "issuer": certificate.issuer.human_friendly,
            "not_before": certificate.not_valid_before,
            "not_after": certificate.not_valid_after,
            "fingerprint": fingerprint(certificate),
            "is_root": certificate in authority.roots(),
        }
        for certificate in authority.chain()
    ]
    return render(
        request,
        "timestamping/certificates.html",
        {
            "certificates": rows,
            "embedded": isinstance(authority, EmbeddedAuthority),
            "policy": EMBEDDED_POLICY,
            "authority_name": authority.name,
        },
    )


@public(reason="the timestamp authority's public certificates (PEM), needed by anyone verifying a receipt")
def certificate_pem(request: HttpRequest, name: str) -> HttpResponse:
    key = _FILES.get(name)
    if key is None:
        raise Http404
    certificates = _certificates()[key]
    if not certificates:
        raise Http404
    response = HttpResponse("".join(to_pem(c) for c in certificates), content_type="application/x-pem-file")
    response["Content-Disposition"] = f'attachment; filename="e-bourgogne-horodatage-{name}.pem"'
    return response
