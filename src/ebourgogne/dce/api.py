"""The tender files (DCE) in the API.

Public, under /api/v1/consultations:

- GET /{id}/documents   the files of the published version (name, size, format, SHA-256, download URL),
                        the ZIP of the whole version and the rectifications with their reasons.

Only published versions are shown: a version being prepared by the buyer stays private.

Buyers (`dce.manage`), under /api/v1/buyers:

- GET    /{org_slug}/consultations/{id}/documents/draft          the DCE being prepared
- POST   /{org_slug}/consultations/{id}/documents                upload one file (multipart/form-data, field
                                                                  `file`; streamed to disk, limit checked on
                                                                  the way)
- DELETE /{org_slug}/consultations/{id}/documents/{file_id}      remove a file from the DCE being prepared
- POST   /{org_slug}/consultations/{id}/documents/publish        publish the changes of a published
                                                                  consultation as a rectification, with its reason

A draft consultation's DCE is published with the consultation itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.db.models import Q
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django_scopes import scopes_disabled
from ninja import Field, Router, Schema, Status

from ebourgogne.apitokens.auth import api_auth
from ebourgogne.apitokens.errors import ApiError, file_not_found, upload_refused, upload_too_large
from ebourgogne.apitokens.schemas import ErrorOut, absolute, paris
from ebourgogne.consultations.api_common import DocumentsOut, public_consultation
from ebourgogne.core.access import organisation_api, public
from ebourgogne.core.errors import NotFound
from ebourgogne.dce.models import DceFile, DceVersion

router = Router(tags=["documents"])
buyer_router = Router(tags=["documents (buyers)"], auth=api_auth)


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


# --- Buyers -----------------------------------------------------------------------------------------


class DraftFileOut(Schema):
    id: int
    name: str
    size: int
    format: str
    sha256: str
    added_in: int = Field(description="The DCE version that added it")


class DraftOut(Schema):
    version: int | None = Field(description="The version being prepared; null: nothing being prepared")
    files: list[DraftFileOut]
    used: int = Field(description="Bytes used by the DCE being prepared")
    size_limit: int


class UploadedOut(DraftFileOut):
    version: int
    uploaded_at: dt.datetime


class ReasonIn(Schema):
    reason: str = Field(min_length=1, max_length=5000)

    model_config = {"extra": "forbid"}


BUYER_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 413: ErrorOut, 422: ErrorOut, 429: ErrorOut}
MULTIPART = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary", "description": "One file"}},
                }
            }
        },
    }
}


def _consultation(organisation: Any, consultation_id: int):
    from ebourgogne.consultations.api_common import own_consultation

    return own_consultation(organisation, consultation_id)


def _multipart_upload(request: HttpRequest, consultation: Any) -> Any:
    """The file of a multipart body, streamed to disk by the DCE's upload handler (size checked on the way)."""
    from ebourgogne.dce import services
    from ebourgogne.dce.uploads import DceUploadHandler

    handler = None
    if not hasattr(request, "_files"):  # not parsed yet (a token; a session's CSRF check parses the body first)
        handler = DceUploadHandler(request, max_bytes=services.room_left(consultation))
        request.upload_handlers = [handler]
    try:
        uploaded = request.FILES.get("file")
    except (RequestDataTooBig, TooManyFieldsSent, SuspiciousOperation):
        raise ApiError(400, upload_refused(), "upload_invalid") from None
    if handler is not None and handler.too_large:
        left, limit = services.human_size(handler.max_bytes), services.human_size(consultation.dce_size_limit)
        raise ApiError(413, upload_too_large(left, limit), "too_large")
    if uploaded is None:
        raise ApiError(400, upload_refused(), "file_required")
    return uploaded


class JsonFileIn(Schema):
    name: str = Field(min_length=1, max_length=255)
    content_base64: str = Field(min_length=1)
    format: str = Field("", max_length=150, description="Media type; guessed from the name when empty")

    model_config = {"extra": "forbid"}


def _json_upload(request: HttpRequest) -> Any:
    """A small file sent as JSON (`name`, `content_base64`, `format`): the request body is held in memory, so
    Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB by default) bounds it; larger files go as multipart."""
    import base64
    import binascii
    import json
    import mimetypes

    from django.core.files.uploadedfile import SimpleUploadedFile
    from pydantic import ValidationError as PydanticError

    try:
        data = JsonFileIn.model_validate(json.loads(request.body))
        content = base64.b64decode(data.content_base64, validate=True)
    except (RequestDataTooBig, ValueError, PydanticError, binascii.Error):
        raise ApiError(400, upload_refused(), "upload_invalid") from None
    media_type = data.format or mimetypes.guess_type(data.name)[0] or "application/octet-stream"
    return SimpleUploadedFile(data.name, content, content_type=media_type)


def _file_out(dce_file: DceFile) -> dict[str, Any]:
    return {
        "id": dce_file.pk,
        "name": dce_file.name,
        "size": dce_file.size,
        "format": dce_file.content_type,
        "sha256": dce_file.sha256,
        "added_in": dce_file.added_in.number,
    }


@buyer_router.get(
    "/{org_slug}/consultations/{int:consultation_id}/documents/draft",
    response={200: DraftOut, **BUYER_ERRORS},
    summary="The DCE being prepared (files not yet published included)",
)
@organisation_api("consultations.view")
def buyer_documents_draft(request: HttpRequest, organisation: Any, consultation_id: int) -> dict[str, Any]:
    from ebourgogne.dce import services

    consultation = _consultation(organisation, consultation_id)
    version = services.draft_version(consultation)
    files = (
        DceFile.objects.filter(consultation=consultation, removed_in__isnull=True)
        .select_related("added_in")
        .order_by("name", "pk")
    )
    return {
        "version": version.number if version else None,
        "files": [_file_out(dce_file) for dce_file in files],
        "used": services.used_bytes(consultation),
        "size_limit": consultation.dce_size_limit,
    }


@buyer_router.post(
    "/{org_slug}/consultations/{int:consultation_id}/documents",
    response={201: UploadedOut, **BUYER_ERRORS},
    summary="Upload one file to the DCE being prepared",
    description="multipart/form-data with the file in the field `file` (streamed to disk, any size up to the "
    'room left in the DCE); or, for small files, JSON `{"name", "content_base64", "format"}` (the body is '
    "limited to 2.5 MB).",
    openapi_extra=MULTIPART,
)
@organisation_api("dce.manage")
def buyer_document_upload(request: HttpRequest, organisation: Any, consultation_id: int):
    from ebourgogne.dce import services

    consultation = _consultation(organisation, consultation_id)
    if request.content_type == "application/json":
        uploaded = _json_upload(request)
    else:
        uploaded = _multipart_upload(request, consultation)
    try:
        dce_file = services.upload_file(
            acting_user=request.user, consultation=consultation, uploaded=uploaded, request=request
        )
    finally:
        uploaded.close()
    dce_file = DceFile.objects.select_related("added_in").get(pk=dce_file.pk)
    return Status(
        201, {**_file_out(dce_file), "version": dce_file.added_in.number, "uploaded_at": paris(dce_file.uploaded_at)}
    )


@buyer_router.delete(
    "/{org_slug}/consultations/{int:consultation_id}/documents/{int:file_id}",
    response={204: None, **BUYER_ERRORS},
    summary="Remove a file from the DCE being prepared",
)
@organisation_api("dce.manage")
def buyer_document_remove(request: HttpRequest, organisation: Any, consultation_id: int, file_id: int):
    from ebourgogne.dce import services

    consultation = _consultation(organisation, consultation_id)
    dce_file = DceFile.objects.filter(consultation=consultation, pk=file_id, removed_in__isnull=True).first()
    if dce_file is None:
        raise NotFound(file_not_found())
    services.remove_file(acting_user=request.user, consultation=consultation, dce_file=dce_file, request=request)
    return Status(204, None)


@buyer_router.post(
    "/{org_slug}/consultations/{int:consultation_id}/documents/publish",
    response={200: DocumentsOut, **BUYER_ERRORS},
    summary="Publish the DCE changes of a published consultation as a rectification, with its reason",
)
@organisation_api("dce.manage")
def buyer_documents_publish(request: HttpRequest, organisation: Any, consultation_id: int, payload: ReasonIn):
    from ebourgogne.dce import services

    consultation = _consultation(organisation, consultation_id)
    services.publish_changes(
        acting_user=request.user, consultation=consultation, reason=payload.reason, request=request
    )
    return documents_of(consultation)
