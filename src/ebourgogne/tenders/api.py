"""A company's bids in the API: create, resumable uploads of age-encrypted files, deposit (docs/bids-protocol.md).

Companies (`bids.submit`), under /api/v1/companies:

- GET    /{org}/bids                          the company's bids
- POST   /{org}/bids                          a new bid (a draft)
- GET    /{org}/bids/{id}                     one bid, its files and their upload state
- POST   /{org}/bids/{id}/files               announce a file (envelope, name, ciphertext size)
- POST   /{org}/bids/{id}/deposit             deposit: every file complete; answers the receipt
- HEAD   /{org}/uploads/{uuid}                the stored offset (Upload-Offset, Upload-Length)
- GET    /{org}/uploads/{uuid}                the same in JSON, with the SHA-256 once complete
- PATCH  /{org}/uploads/{uuid}                one chunk at Upload-Offset (raw body, streamed to disk)
- DELETE /{org}/uploads/{uuid}                remove a file from a draft

Buyers (`bids.register`), under /api/v1/buyers:

- GET    /{org}/consultations/{id}/bids       before the deadline the number of deposits only; after
                                              it the deposit register
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from ebourgogne.apitokens.auth import api_auth
from ebourgogne.apitokens.errors import ApiError
from ebourgogne.apitokens.schemas import ErrorOut, paris
from ebourgogne.core.access import organisation_api
from ebourgogne.core.errors import DomainError, NotFound
from ebourgogne.tenders import selectors, services
from ebourgogne.tenders.limits import CHUNK_SIZE
from ebourgogne.tenders.models import Bid, BidFile, BidState, FileState

company_router = Router(tags=["bids (companies)"], auth=api_auth)
buyer_router = Router(tags=["bids (buyers)"], auth=api_auth)

ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    422: ErrorOut,
    429: ErrorOut,
}


def transient(view):
    """A database too busy to answer in time (SQLite's write lock under a deadline rush, a PostgreSQL lock
    timeout) is not a bug of the caller's: 503 with Retry-After, and nothing half done (each change is one
    transaction; a chunk whose offset was not recorded is simply sent again)."""
    import functools

    from django.db import OperationalError

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any):
        try:
            return view(request, *args, **kwargs)
        except OperationalError:
            import logging

            logging.getLogger("ebourgogne.tenders").warning("database busy during %s %s", request.method, request.path)
            response = JsonResponse(
                {
                    "detail": _("La plateforme est très sollicitée : réessayez dans un instant, rien n'est perdu."),
                    "code": "busy",
                },
                status=503,
            )
            response["Retry-After"] = "1"
            return response

    return wrapper


def _raise(error: DomainError) -> None:
    raise ApiError(services.status_of(error), str(error.message), error.code) from None


# --- Schemas ------------------------------------------------------------------------------------------


MAX_ID = 2**63 - 1  # a database integer: larger numbers are refused here, not by the database

LotNumber = Annotated[int, Field(ge=1, le=32767)]


class BidIn(Schema):
    consultation: int = Field(ge=1, le=MAX_ID, description="The consultation's id")
    lots: list[LotNumber] = Field(
        default_factory=list, max_length=1000, description="Lot numbers; empty: the whole consultation"
    )
    kind: Literal["bid", "backup"] = Field("bid", description="bid, or backup (an electronic backup copy)")

    model_config = {"extra": "forbid"}


class FileIn(Schema):
    envelope: Literal["application", "offer"]
    name: str = Field(min_length=1, max_length=255, description="The plaintext file's name")
    size: int = Field(gt=0, le=MAX_ID, description="The ciphertext's size in bytes")

    model_config = {"extra": "forbid"}


class DepositIn(Schema):
    physical_backup: bool = Field(False, description="A backup copy on a physical medium is announced")

    model_config = {"extra": "forbid"}


class FileOut(Schema):
    upload_id: uuid.UUID
    envelope: str
    name: str
    size: int
    offset: int = Field(description="Bytes received so far")
    state: str = Field(description="uploading or complete")
    sha256: str = Field(description="SHA-256 (hex) of the whole ciphertext, once complete")
    url: str = Field(description="The upload's URL (HEAD, GET, PATCH, DELETE)")


class AnnouncedOut(FileOut):
    chunk_size: int


class ReceiptSummaryOut(Schema):
    number: str
    digest: str
    issued_at: dt.datetime


class BidOut(Schema):
    id: int
    consultation: int
    consultation_title: str
    buyer: str
    lots: list[int]
    kind: str
    state: str = Field(description="draft or deposited")
    status: str = Field(description="draft, deposited, late or superseded")
    late: bool = Field(description="Deposited late; for a draft: the deadline has passed, a deposit would be late")
    superseded: bool
    number: int | None = Field(description="The deposit's number in the consultation")
    deposited_at: dt.datetime | None
    upload_started_at: dt.datetime | None
    physical_backup: bool
    bids_deadline: dt.datetime | None
    server_time: dt.datetime
    bid_size_limit: int
    total_size: int
    chunk_size: int
    files: list[FileOut]
    receipt: ReceiptSummaryOut | None


class ReceiptOut(Schema):
    number: str
    bid: int
    payload: dict[str, Any]
    payload_canonical: str = Field(description="The signed bytes (canonical JSON), base64")
    digest: str
    timestamp_token: str | None = Field(description="RFC 3161 TimeStampToken (DER), base64")
    late: bool


class RegisterEntryOut(Schema):
    number: int
    company: str
    siret: str
    deposited_at: dt.datetime
    late: bool
    superseded_by: int | None
    backup: bool
    physical_backup: bool
    upload_started_at: dt.datetime | None
    receipt_number: str
    receipt_digest: str
    lots: list[int]
    file_count: int
    total_size: int


class RegisterOut(Schema):
    consultation: int
    bids_deadline: dt.datetime | None
    deadline_passed: bool
    count: int = Field(description="Deposits received (the only figure given before the deadline)")
    entries: list[RegisterEntryOut] = Field(description="The deposit register; empty before the deadline")


# --- Serialisation -----------------------------------------------------------------------------------


def upload_url(org_slug: str, bid_file: BidFile) -> str:
    return f"/api/v1/companies/{org_slug}/uploads/{bid_file.upload_id}"


def file_out(org_slug: str, bid_file: BidFile) -> dict[str, Any]:
    return {
        "upload_id": bid_file.upload_id,
        "envelope": bid_file.envelope,
        "name": bid_file.name,
        "size": bid_file.size,
        "offset": bid_file.received,
        "state": bid_file.state,
        "sha256": bid_file.sha256,
        "url": upload_url(org_slug, bid_file),
    }


def bid_out(org_slug: str, bid: Bid) -> dict[str, Any]:
    from ebourgogne.core import clock

    files = selectors.bid_files(bid)
    receipt = selectors.receipt_of(bid) if bid.state == BidState.DEPOSITED else None
    consultation = bid.consultation
    return {
        "id": bid.pk,
        "consultation": consultation.pk,
        "consultation_title": consultation.title,
        "buyer": consultation.organisation.name,
        "lots": selectors.lot_numbers(bid),
        "kind": bid.kind,
        "state": bid.state,
        "status": selectors.bid_status(bid),
        "late": selectors.will_be_late(bid),
        "superseded": bool(bid.superseded_by_id),
        "number": bid.number,
        "deposited_at": paris(bid.deposited_at),
        "upload_started_at": paris(bid.upload_started_at),
        "physical_backup": bid.physical_backup_declared,
        "bids_deadline": paris(consultation.bids_deadline),
        "server_time": paris(clock.now()),
        "bid_size_limit": consultation.bid_size_limit,
        "total_size": sum(f.size for f in files),
        "chunk_size": CHUNK_SIZE,
        "files": [file_out(org_slug, f) for f in files],
        "receipt": (
            {"number": receipt.number, "digest": receipt.digest, "issued_at": paris(receipt.issued_at)}
            if receipt
            else None
        ),
    }


def receipt_out(receipt: Any) -> dict[str, Any]:
    payload = bytes(receipt.payload)
    token = bytes(receipt.timestamp_token) if receipt.timestamp_token else None
    return {
        "number": receipt.number,
        "bid": receipt.bid_id,
        "payload": json.loads(payload),
        "payload_canonical": base64.b64encode(payload).decode(),
        "digest": receipt.digest,
        "timestamp_token": base64.b64encode(token).decode() if token else None,
        "late": receipt.is_late,
    }


def _bid(organisation: Any, bid_id: int) -> Bid:
    bid = selectors.company_bid(organisation, bid_id)
    if bid is None:
        raise ApiError(404, _("Pli introuvable."), "not_found")
    return bid


def _file(organisation: Any, upload_id: uuid.UUID) -> BidFile:
    bid_file = selectors.company_file(organisation, upload_id)
    if bid_file is None:
        raise ApiError(404, _("Fichier introuvable."), "not_found")
    return bid_file


# --- Bids ---------------------------------------------------------------------------------------------


@company_router.get("/{org_slug}/bids", response={200: list[BidOut], **ERRORS}, summary="The company's bids")
@organisation_api("bids.submit")
def bids_list(request: HttpRequest, organisation: Any) -> list[dict[str, Any]]:
    return [bid_out(organisation.slug, bid) for bid in selectors.company_bids(organisation)]


@company_router.post("/{org_slug}/bids", response={201: BidOut, **ERRORS}, summary="Start a bid (a draft)")
@organisation_api("bids.submit")
@transient
def bid_create(request: HttpRequest, organisation: Any, payload: BidIn):
    try:
        bid = services.bid_create(
            acting_user=request.user,
            company=organisation,
            consultation_id=payload.consultation,
            lots=payload.lots,
            kind=payload.kind,
            request=request,
        )
    except DomainError as error:
        _raise(error)
    return Status(201, bid_out(organisation.slug, _bid(organisation, bid.pk)))


@company_router.get("/{org_slug}/bids/{int:bid_id}", response={200: BidOut, **ERRORS}, summary="One bid and its files")
@organisation_api("bids.submit")
def bid_detail(request: HttpRequest, organisation: Any, bid_id: int) -> dict[str, Any]:
    return bid_out(organisation.slug, _bid(organisation, bid_id))


@company_router.post(
    "/{org_slug}/bids/{int:bid_id}/files",
    response={201: AnnouncedOut, **ERRORS},
    summary="Announce a file of the bid (its ciphertext size), before uploading it",
)
@organisation_api("bids.submit")
@transient
def file_announce(request: HttpRequest, organisation: Any, bid_id: int, payload: FileIn):
    bid = _bid(organisation, bid_id)
    try:
        bid_file = services.file_announce(
            acting_user=request.user,
            company=organisation,
            bid=bid,
            envelope=payload.envelope,
            name=payload.name,
            size=payload.size,
            request=request,
        )
    except DomainError as error:
        _raise(error)
    return Status(201, {**file_out(organisation.slug, bid_file), "chunk_size": CHUNK_SIZE})


DEPOSIT_BODY = {
    "requestBody": {
        "required": False,
        "content": {"application/json": {"schema": DepositIn.model_json_schema()}},
    }
}


def _deposit_payload(request: HttpRequest) -> DepositIn:
    """The optional JSON body of a deposit (an empty body, or one that is not JSON, is `{}`)."""
    from pydantic import ValidationError as PydanticError

    if request.content_type != "application/json":
        return DepositIn()
    raw = request.body.strip() if request.body else b""
    try:
        return DepositIn.model_validate(json.loads(raw) if raw else {})
    except (ValueError, PydanticError):
        raise ApiError(
            400, _('Corps attendu : rien, ou {"physical_backup": true|false} en JSON.'), "invalid_body"
        ) from None


@company_router.post(
    "/{org_slug}/bids/{int:bid_id}/deposit",
    response={201: ReceiptOut, **ERRORS},
    summary="Deposit the bid: every file complete; answers the receipt",
    description='Body (optional): `{"physical_backup": true}` when a backup copy on a physical medium is announced.',
    openapi_extra=DEPOSIT_BODY,
)
@organisation_api("bids.submit")
@transient
def bid_deposit(request: HttpRequest, organisation: Any, bid_id: int):
    bid = _bid(organisation, bid_id)
    payload = _deposit_payload(request)
    try:
        deposited = services.bid_deposit(
            acting_user=request.user,
            company=organisation,
            bid=bid,
            physical_backup=payload.physical_backup,
            request=request,
        )
    except DomainError as error:
        _raise(error)
    return Status(201, receipt_out(selectors.receipt_of(deposited)))


# --- Uploads ------------------------------------------------------------------------------------------


def _upload_error(error: DomainError) -> JsonResponse:
    status = services.status_of(error)
    body: dict[str, Any] = {"detail": str(error.message), "code": error.code}
    offset = getattr(error, "offset", None)
    if offset is not None:
        body["offset"] = offset
    response = JsonResponse(body, status=status)
    if offset is not None:
        response["Upload-Offset"] = str(offset)
    return response


def _offset_headers(response: HttpResponse, bid_file: BidFile) -> HttpResponse:
    response["Upload-Offset"] = str(bid_file.received)
    response["Upload-Length"] = str(bid_file.size)
    response["Cache-Control"] = "no-store"
    return response


class UploadStateOut(Schema):
    offset: int
    size: int
    state: str
    sha256: str


@company_router.api_operation(
    ["GET"],
    "/{org_slug}/uploads/{uuid:upload_id}",
    response={200: UploadStateOut, **ERRORS},
    summary="Where an upload stands (JSON: offset, size, state, SHA-256 once complete; also as headers)",
)
@organisation_api("bids.submit")
def upload_state(request: HttpRequest, organisation: Any, upload_id: uuid.UUID):
    bid_file = _file(organisation, upload_id)
    body = {"offset": bid_file.received, "size": bid_file.size, "state": bid_file.state, "sha256": bid_file.sha256}
    return _offset_headers(JsonResponse(body), bid_file)


@company_router.api_operation(
    ["HEAD"],
    "/{org_slug}/uploads/{uuid:upload_id}",
    response={204: None, **ERRORS},
    summary="Where an upload stands, as headers (Upload-Offset and Upload-Length): how a client resumes",
)
@organisation_api("bids.submit")
def upload_head(request: HttpRequest, organisation: Any, upload_id: uuid.UUID):
    return _offset_headers(HttpResponse(status=204), _file(organisation, upload_id))


CHUNK_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/offset+octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    "parameters": [
        {"name": "Upload-Offset", "in": "header", "required": True, "schema": {"type": "integer"}},
        {
            "name": "Upload-Checksum",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "sha256 <base64 of the chunk's SHA-256>",
        },
    ],
}


@company_router.patch(
    "/{org_slug}/uploads/{uuid:upload_id}",
    response={204: None, **ERRORS},
    summary="Upload one chunk at Upload-Offset (raw body, at most chunk_size bytes)",
    description="Errors: 409 offset_mismatch (resume from `offset`), 400 not_age / wrong_recipient_stanza "
    "(the upload is reset), 400 truncated_chunk, 413 chunk_too_large / beyond_size, 460 checksum_mismatch, "
    "409 bid_deposited, 409 upload_busy.",
    openapi_extra=CHUNK_BODY,
)
@organisation_api("bids.submit")
@transient
def upload_chunk(request: HttpRequest, organisation: Any, upload_id: uuid.UUID):
    bid_file = _file(organisation, upload_id)
    try:
        updated = services.upload_chunk(
            acting_user=request.user,
            company=organisation,
            bid_file=bid_file,
            # The header is the protocol; `?offset=` serves clients that cannot set headers.
            offset=request.headers.get("Upload-Offset", request.GET.get("offset")),
            stream=request,
            content_length=request.META.get("CONTENT_LENGTH"),
            checksum=request.headers.get("Upload-Checksum"),
            request=request,
        )
    except DomainError as error:
        return _upload_error(error)
    response = _offset_headers(HttpResponse(status=204), updated)
    if updated.state == FileState.COMPLETE:
        response["Upload-Complete"] = "true"
    return response


@company_router.delete(
    "/{org_slug}/uploads/{uuid:upload_id}", response={204: None, **ERRORS}, summary="Remove a file from a draft bid"
)
@organisation_api("bids.submit")
@transient
def upload_remove(request: HttpRequest, organisation: Any, upload_id: uuid.UUID):
    bid_file = _file(organisation, upload_id)
    try:
        services.file_remove(acting_user=request.user, company=organisation, bid_file=bid_file, request=request)
    except DomainError as error:
        _raise(error)
    return Status(204, None)


# --- Buyers -------------------------------------------------------------------------------------------


@buyer_router.get(
    "/{org_slug}/consultations/{int:consultation_id}/bids",
    response={200: RegisterOut, **ERRORS},
    summary="The deposit register (after the deadline); before it, the number of deposits only",
)
@organisation_api("bids.register")
def deposit_register(request: HttpRequest, organisation: Any, consultation_id: int) -> dict[str, Any]:
    from ebourgogne.consultations.api_common import own_consultation

    if not 0 < consultation_id <= MAX_ID:
        raise ApiError(404, _("Consultation introuvable."), "not_found")
    try:
        consultation = own_consultation(organisation, consultation_id)
    except NotFound as error:
        _raise(error)
    entries = selectors.deposit_register(consultation)
    return {
        "consultation": consultation.pk,
        "bids_deadline": paris(consultation.bids_deadline),
        "deadline_passed": entries is not None,
        "count": selectors.deposit_count(consultation),
        "entries": [
            {
                **entry.__dict__,
                "deposited_at": paris(entry.deposited_at),
                "upload_started_at": paris(entry.upload_started_at),
            }
            for entry in entries or []
        ],
    }
