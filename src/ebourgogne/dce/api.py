"""The tender files (DCE) of a published consultation in the API, under /api/v1/consultations:

- GET /{id}/documents   the files of the published version (name, size, format, SHA-256, download URL),
                        the ZIP of the whole version and the rectifications with their reasons.

Only published versions are shown: a version being prepared by the buyer stays private.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django_scopes import scopes_disabled
from ninja import Router

from ebourgogne.consultations.api import DocumentsOut, ErrorOut, absolute, paris, public_consultation
from ebourgogne.core.access import public
from ebourgogne.dce.models import DceFile, DceVersion

router = Router(tags=["documents"])


def _url(names: tuple[str, ...], args: list[Any], fallback: str) -> str:
    """The first of the DCE app's public URL names that resolves (the DCE page itself otherwise)."""
    for name in names:
        try:
            return absolute(reverse(name, args=args))
        except NoReverseMatch:
            continue
    return absolute(fallback)


def file_url(consultation_id: int, dce_file: DceFile) -> str:
    return _url(
        ("dce_public:file", "dce_public:download_file"),
        [consultation_id, dce_file.pk],
        f"/consultations/{consultation_id}/dce/",
    )


def archive_url(consultation_id: int, version: DceVersion) -> str:
    return _url(
        ("dce_public:archive", "dce_public:zip", "dce_public:download_zip"),
        [consultation_id],
        f"/consultations/{consultation_id}/dce/",
    )


def published_versions(consultation: Any) -> list[DceVersion]:
    return list(DceVersion.objects.filter(consultation=consultation, published_at__isnull=False).order_by("number"))


def current_files(consultation: Any, version: DceVersion) -> list[DceFile]:
    """The files of `version`: added in it or before, not removed in it or before."""
    return list(
        DceFile.objects.filter(consultation=consultation, added_in__number__lte=version.number)
        .filter(Q(removed_in__isnull=True) | Q(removed_in__number__gt=version.number))
        .order_by("name", "pk")
    )


def documents_of(consultation: Any) -> dict[str, Any]:
    """The public DCE of a consultation: its published version's files and its rectifications."""
    versions = published_versions(consultation)
    current = versions[-1] if versions else None
    files = current_files(consultation, current) if current else []
    return {
        "version": current.number if current else None,
        "published_at": paris(current.published_at) if current else None,
        "size_limit": consultation.dce_size_limit,
        "archive_url": archive_url(consultation.pk, current) if current and files else None,
        "files": [
            {
                "name": dce_file.name,
                "size": dce_file.size,
                "format": dce_file.content_type,
                "sha256": dce_file.sha256,
                "download_url": file_url(consultation.pk, dce_file),
            }
            for dce_file in files
        ],
        "rectifications": [
            {"version": version.number, "reason": version.reason, "published_at": paris(version.published_at)}
            for version in versions
            if version.is_rectification
        ],
    }


@router.get(
    "/{int:consultation_id}/documents",
    response={200: DocumentsOut, 404: ErrorOut},
    summary="Tender files (DCE) of a published consultation",
    auth=None,
)
@public(reason="the DCE of a published consultation is free and open to everyone (R2132-2)")
def consultation_documents(request: HttpRequest, consultation_id: int) -> dict[str, Any]:
    consultation = public_consultation(consultation_id)
    with scopes_disabled():
        return documents_of(consultation)
