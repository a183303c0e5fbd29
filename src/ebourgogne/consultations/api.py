"""Consultations in the API.

Public (no authentication), under /api/v1/consultations — published consultations only, drafts never:

- GET  /                         list, filtered, cursor-paginated (see `cursor` below)
- GET  /{id}                     one consultation: lots, CPV codes, dates, documents, questions and answers
- GET  /{id}/ocds                its OCDS 1.1 release package (tender, award and contract stages)
- GET  /ocds                     OCDS release packages of every published consultation, cursor-paginated

Buyers (a personal API token or the browser session; `consultations.manage`), under /api/v1/buyers:

- GET   /{org_slug}/consultations                 the buyer's consultations, drafts included
- POST  /{org_slug}/consultations                 create a draft
- GET   /{org_slug}/consultations/{id}            one of them
- PATCH /{org_slug}/consultations/{id}            change fields, CPV codes, lots
- POST  /{org_slug}/consultations/{id}/publish    publish the draft
- POST  /{org_slug}/consultations/{id}/postpone   move the bid deadline later, with a reason
- POST  /{org_slug}/consultations/{id}/cancel     cancel, with a reason

Pagination: items come in a fixed order on their id, which never changes, so a record that exists from
the first page to the last is returned exactly once even when records are created, edited or deleted
meanwhile (a record edited stays where it was; one created appears at the end, in ascending order).
`next_cursor` is opaque and signed: pass it back as `cursor` with the same filters.
Dates are ISO 8601 with the Europe/Paris offset (2027-01-15T12:00:00+01:00).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django_scopes import scopes_disabled
from ninja import Field, Query, Router, Schema, Status

from ebourgogne.apitokens.auth import api_auth
from ebourgogne.apitokens.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, page_by_id
from ebourgogne.apitokens.schemas import ErrorOut, absolute, money, paris
from ebourgogne.consultations.api_common import (
    DocumentsOut,
    QuestionOut,
    own_consultation,
    public_consultation,
    public_consultations,
)
from ebourgogne.consultations.models import (
    Consultation,
    ConsultationCpv,
    ContractType,
    Lot,
    Procedure,
    State,
)
from ebourgogne.consultations.ocds_awards import outcome_changed_since
from ebourgogne.core import clock
from ebourgogne.core.access import organisation_api, public

router = Router(tags=["consultations"])
buyer_router = Router(tags=["consultations (buyers)"], auth=api_auth)

# --- Output schemas ---------------------------------------------------------------------------------


class BuyerOut(Schema):
    slug: str
    name: str
    siret: str
    department: str
    city: str


class CpvOut(Schema):
    code: str = Field(description="8 digits, without the check digit: 45210000")
    full_code: str = Field(description="As published, with the check digit: 45210000-2")
    label: str
    is_main: bool = False


class LotOut(Schema):
    number: int
    title: str
    description: str
    estimated_value: float | None
    cpv_codes: list[CpvOut]


class ContactOut(Schema):
    name: str
    email: str
    phone: str


class ConsultationSummaryOut(Schema):
    id: int
    reference: str
    title: str
    state: str = Field(description="published, closed, opened, awarded, unsuccessful, abandoned, cancelled")
    state_label: str
    procedure: str
    procedure_label: str
    contract_type: str = Field(description="works, supplies or services")
    buyer: BuyerOut
    main_cpv: CpvOut | None
    department: str
    commune: str
    estimated_value: float | None = Field(description="Euros excluding VAT")
    published_at: dt.datetime | None
    questions_deadline: dt.datetime | None
    bids_deadline: dt.datetime | None
    updated_at: dt.datetime
    url: str = Field(description="The consultation's public page")
    api_url: str


class ConsultationOut(ConsultationSummaryOut):
    object: str
    duration_months: int | None
    variants_allowed: bool
    urgency: bool
    required_documents: list[str]
    contact: ContactOut
    planned_opening_at: dt.datetime | None
    closed_at: dt.datetime | None
    opened_at: dt.datetime | None
    ended_at: dt.datetime | None
    end_reason: str = Field(description="Reason of a cancellation or of the outcome")
    cpv_codes: list[CpvOut]
    lots: list[LotOut]
    documents: DocumentsOut
    questions: list[QuestionOut]


class ConsultationPageOut(Schema):
    items: list[ConsultationSummaryOut]
    next_cursor: str | None = Field(description="Pass it back as `cursor` for the next page; null on the last")


class BuyerConsultationOut(ConsultationOut):
    """A buyer's own view: drafts too."""

    created_at: dt.datetime


class BuyerConsultationPageOut(Schema):
    items: list[ConsultationSummaryOut]
    next_cursor: str | None


# --- Serialisation ----------------------------------------------------------------------------------


def _cpv(row_cpv: Any, is_main: bool = False) -> dict[str, Any]:
    return {"code": row_cpv.code, "full_code": row_cpv.full_code, "label": row_cpv.label, "is_main": is_main}


def effective_state(consultation: Consultation) -> str:
    return str(getattr(consultation, "effective_state", consultation.state))


def summary(consultation: Consultation) -> dict[str, Any]:
    state = effective_state(consultation)
    buyer = consultation.organisation
    return {
        "id": consultation.pk,
        "reference": consultation.reference,
        "title": consultation.title,
        "state": state,
        "state_label": str(State(state).label),
        "procedure": consultation.procedure,
        "procedure_label": str(Procedure(consultation.procedure).label) if consultation.procedure else "",
        "contract_type": consultation.contract_type,
        "buyer": {
            "slug": buyer.slug,
            "name": buyer.name,
            "siret": buyer.siret,
            "department": buyer.department,
            "city": buyer.city,
        },
        "main_cpv": _cpv(consultation.main_cpv, True) if consultation.main_cpv_id else None,
        "department": consultation.department,
        "commune": consultation.commune,
        "estimated_value": money(consultation.estimated_value),
        "published_at": paris(consultation.published_at),
        "questions_deadline": paris(consultation.questions_deadline),
        "bids_deadline": paris(consultation.bids_deadline),
        "updated_at": paris(consultation.updated_at),
        "url": absolute(f"/consultations/{consultation.pk}/"),
        "api_url": absolute(f"/api/v1/consultations/{consultation.pk}"),
    }


def detail(consultation: Consultation) -> dict[str, Any]:
    """Everything public about one consultation (call inside `scopes_disabled()` or its buyer's scope)."""
    from ebourgogne.dce.api import documents_of
    from ebourgogne.questions.api import public_questions_of

    rows = list(
        ConsultationCpv.objects.filter(consultation=consultation).select_related("cpv").order_by("-is_main", "cpv_id")
    )
    lots = list(Lot.objects.filter(consultation=consultation).order_by("number"))
    return {
        **summary(consultation),
        "object": consultation.object,
        "duration_months": consultation.duration_months,
        "variants_allowed": consultation.variants_allowed,
        "urgency": consultation.urgency,
        "required_documents": [line.strip() for line in consultation.required_documents.splitlines() if line.strip()],
        "contact": {
            "name": consultation.contact_name,
            "email": consultation.contact_email,
            "phone": consultation.contact_phone,
        },
        "planned_opening_at": paris(consultation.planned_opening_at),
        "closed_at": paris(consultation.closed_at),
        "opened_at": paris(consultation.opened_at),
        "ended_at": paris(consultation.ended_at),
        "end_reason": consultation.end_reason,
        "cpv_codes": [_cpv(row.cpv, row.is_main) for row in rows if row.lot_id is None],
        "lots": [
            {
                "number": lot.number,
                "title": lot.title,
                "description": lot.description,
                "estimated_value": money(lot.estimated_value),
                "cpv_codes": [_cpv(row.cpv, row.is_main) for row in rows if row.lot_id == lot.pk],
            }
            for lot in lots
        ],
        "documents": documents_of(consultation),
        "questions": public_questions_of(consultation),
    }


# --- Public reads -----------------------------------------------------------------------------------


class ConsultationFilters(Schema):
    buyer: str = Field("", max_length=100, description="Buyer's slug (see `buyer.slug`)")
    state: Literal["", "published", "closed", "opened", "awarded", "unsuccessful", "abandoned", "cancelled"] = Field(
        "", description="State as shown publicly (a published consultation whose deadline has passed is closed)"
    )
    cpv: str = Field(
        "",
        max_length=10,
        pattern=r"^[0-9]{0,8}(-[0-9])?$",
        description="CPV code or prefix: 45 (division), 4521 ..., 45210000-2; matches its whole subtree",
    )
    department: str = Field("", max_length=3, description="Department of execution: 21, 2A, 971...")
    procedure: Literal["", *Procedure.values] = ""  # type: ignore[valid-type]
    contract_type: Literal["", *ContractType.values] = ""  # type: ignore[valid-type]
    updated_since: dt.datetime | None = Field(
        None,
        description="Changed at or after this instant: the consultation itself, its documents or its answers "
        "(for synchronisation; give the offset or Z)",
    )
    order: Literal["id", "-id"] = Field("id", description="id: oldest first (synchronisation); -id: newest first")
    cursor: str = Field("", max_length=200)
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or timezone.is_aware(value):
        return value
    return timezone.make_aware(value, timezone.get_default_timezone())


def filter_consultations(queryset: QuerySet, filters: ConsultationFilters) -> QuerySet:
    from ebourgogne.dce.models import DceVersion
    from ebourgogne.questions.models import Question

    at = clock.now()
    if filters.buyer:
        queryset = queryset.filter(organisation__slug=filters.buyer)
    if filters.state == State.PUBLISHED:
        queryset = queryset.filter(state=State.PUBLISHED, bids_deadline__gt=at)
    elif filters.state == State.CLOSED:
        queryset = queryset.filter(Q(state=State.CLOSED) | Q(state=State.PUBLISHED, bids_deadline__lte=at))
    elif filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.cpv:
        digits = filters.cpv.split("-")[0]
        prefix = digits.rstrip("0") if len(digits.rstrip("0")) >= 2 else digits[:2]
        queryset = queryset.filter(
            Exists(ConsultationCpv.objects.filter(consultation=OuterRef("pk"), cpv__code__startswith=prefix))
        )
    if filters.department:
        queryset = queryset.filter(department=filters.department.upper())
    if filters.procedure:
        queryset = queryset.filter(procedure=filters.procedure)
    if filters.contract_type:
        queryset = queryset.filter(contract_type=filters.contract_type)
    since = _aware(filters.updated_since)
    if since is not None:
        queryset = queryset.filter(
            Q(updated_at__gte=since)
            | Exists(DceVersion.objects.filter(consultation=OuterRef("pk"), published_at__gte=since))
            | Exists(
                Question.objects.filter(consultation=OuterRef("pk"), published_at__isnull=False).filter(
                    Q(published_at__gte=since) | Q(updated_at__gte=since)
                )
            )
            # The award and contract stages (a contract notified, modified or ended): see ocds_awards.
            | outcome_changed_since(since)
        )
    return queryset


@router.get(
    "/",
    response={200: ConsultationPageOut, 400: ErrorOut, 422: ErrorOut},
    summary="Published consultations",
    auth=None,
)
@public(reason="published consultations are public (drafts never)")
def list_consultations(request: HttpRequest, filters: Query[ConsultationFilters]) -> dict[str, Any]:
    with scopes_disabled():
        queryset = filter_consultations(public_consultations(), filters)
        items, next_cursor = page_by_id(
            queryset, kind="consultations", cursor=filters.cursor, order=filters.order, limit=filters.limit
        )
        return {"items": [summary(item) for item in items], "next_cursor": next_cursor}


@router.get(
    "/{int:consultation_id}",
    response={200: ConsultationOut, 404: ErrorOut},
    summary="One published consultation, with lots, documents and answers",
    auth=None,
)
@public(reason="published consultations are public (drafts never)")
def get_consultation(request: HttpRequest, consultation_id: int) -> dict[str, Any]:
    consultation = public_consultation(consultation_id)
    with scopes_disabled():
        return detail(consultation)


# --- OCDS -------------------------------------------------------------------------------------------


class OcdsQuery(Schema):
    cursor: str = Field("", max_length=200)
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    updated_since: dt.datetime | None = Field(None, description="As for the list of consultations")


@router.get(
    "/{int:consultation_id}/ocds",
    response={200: dict[str, Any], 404: ErrorOut},
    summary="OCDS 1.1 release package of one published consultation (tender, award and contract stages)",
    auth=None,
)
@public(reason="open data of a published consultation")
def consultation_ocds(request: HttpRequest, consultation_id: int):
    from ebourgogne.consultations.ocds import release_package

    consultation = public_consultation(consultation_id)
    with scopes_disabled():
        package = release_package([consultation], uri=absolute(request.get_full_path()))
    return Status(200, package)


@router.get(
    "/ocds",
    response={200: dict[str, Any], 204: None, 400: ErrorOut, 422: ErrorOut},
    summary="OCDS 1.1 release packages of every published consultation, page by page",
    description="One release package per page; `links.next` gives the next page (absent on the last). "
    "204 No Content when no consultation matches (a package holds at least one release).",
    auth=None,
)
@public(reason="open data of published consultations")
def all_ocds(request: HttpRequest, query: Query[OcdsQuery]):
    from ebourgogne.consultations.ocds import release_package

    filters = ConsultationFilters(updated_since=query.updated_since)
    with scopes_disabled():
        queryset = filter_consultations(public_consultations(), filters)
        items, next_cursor = page_by_id(queryset, kind="ocds", cursor=query.cursor, order="id", limit=query.limit)
        next_url = None
        if next_cursor:
            params = request.GET.copy()
            params["cursor"] = next_cursor
            next_url = absolute(f"{request.path}?{params.urlencode()}")
        if not items:
            # A release package must hold at least one release (OCDS schema): nothing matches, nothing to send.
            return Status(204, None)
        package = release_package(items, uri=absolute(request.get_full_path()), next_url=next_url)
    return Status(200, package)


# --- Buyers: their own consultations (drafts included) and the lifecycle -----------------------------


class LotIn(Schema):
    id: int | None = Field(None, description="An existing lot's id (keep it); absent: a new lot")
    title: str = Field(max_length=255)
    description: str = ""
    estimated_value: Decimal | None = Field(None, ge=0, max_digits=15, decimal_places=2)
    main_cpv: str | None = Field(None, max_length=10, description="45210000 or 45210000-2")
    additional_cpv: list[str] = Field(default_factory=list, max_length=50)


class ConsultationIn(Schema):
    """Fields of a consultation. Creation: reference, title, contract_type and procedure are required. Update
    (PATCH): give only what changes; `lots` replaces the whole list (lots left out are removed)."""

    reference: str | None = Field(None, max_length=50)
    title: str | None = Field(None, max_length=255)
    object: str | None = None
    contract_type: Literal[*ContractType.values] | None = None  # type: ignore[valid-type]
    procedure: Literal[*Procedure.values] | None = None  # type: ignore[valid-type]
    main_cpv: str | None = Field(None, max_length=10, description="45210000 or 45210000-2")
    additional_cpv: list[str] | None = Field(None, max_length=50)
    department: str | None = Field(None, max_length=3)
    commune: str | None = Field(None, max_length=120)
    insee_code: str | None = Field(None, max_length=5)
    estimated_value: Decimal | None = Field(None, ge=0, max_digits=15, decimal_places=2)
    duration_months: int | None = Field(None, ge=1, le=1200)
    variants_allowed: bool | None = None
    urgency: bool | None = None
    required_documents: str | None = None
    contact_name: str | None = Field(None, max_length=150)
    contact_email: str | None = Field(None, max_length=254)
    contact_phone: str | None = Field(None, max_length=30)
    questions_deadline: dt.datetime | None = None
    bids_deadline: dt.datetime | None = None
    planned_opening_at: dt.datetime | None = None
    lots: list[LotIn] | None = Field(None, max_length=500)

    model_config = {"extra": "forbid"}


class PostponeIn(Schema):
    bids_deadline: dt.datetime = Field(description="The new bid deadline, later than the current one")
    reason: str = Field(min_length=1, max_length=2000)
    questions_deadline: dt.datetime | None = None
    planned_opening_at: dt.datetime | None = None

    model_config = {"extra": "forbid"}


class ReasonIn(Schema):
    reason: str = Field(min_length=1, max_length=2000)

    model_config = {"extra": "forbid"}


class BuyerFilters(Schema):
    state: Literal["", *State.values] = ""  # type: ignore[valid-type]
    order: Literal["id", "-id"] = "-id"
    cursor: str = Field("", max_length=200)
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


def _fields(payload: ConsultationIn) -> dict[str, Any]:
    """What the caller gave, for the services: unset fields left out."""
    # Dates go as given: the services refuse a date without its offset (which Paris time would it be, on a
    # daylight-saving night?) with a clear message on the field.
    data = payload.model_dump(exclude_unset=True)
    if data.get("lots") is not None:
        data["lots"] = [
            {key: value for key, value in lot.items() if not (key == "id" and value is None)} for lot in data["lots"]
        ]
    return data


def _buyer_detail(consultation: Consultation) -> dict[str, Any]:
    return {**detail(consultation), "created_at": paris(consultation.created_at)}


BUYER_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}


@buyer_router.get(
    "/{org_slug}/consultations",
    response={200: BuyerConsultationPageOut, **BUYER_ERRORS},
    summary="The buyer's consultations, drafts included",
)
@organisation_api("consultations.view")
def buyer_consultations(request: HttpRequest, organisation: Any, filters: Query[BuyerFilters]) -> dict[str, Any]:
    queryset = Consultation.objects.filter(organisation=organisation).select_related("organisation", "main_cpv")
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    items, next_cursor = page_by_id(
        queryset,
        kind=f"buyer-{organisation.pk}",
        cursor=filters.cursor,
        order=filters.order,
        limit=filters.limit,
    )
    return {"items": [summary(item) for item in items], "next_cursor": next_cursor}


@buyer_router.get(
    "/{org_slug}/consultations/{int:consultation_id}",
    response={200: BuyerConsultationOut, **BUYER_ERRORS},
    summary="One of the buyer's consultations",
)
@organisation_api("consultations.view")
def buyer_consultation(request: HttpRequest, organisation: Any, consultation_id: int) -> dict[str, Any]:
    return _buyer_detail(own_consultation(organisation, consultation_id))


@buyer_router.post(
    "/{org_slug}/consultations",
    response={201: BuyerConsultationOut, **BUYER_ERRORS},
    summary="Create a draft consultation",
)
@organisation_api("consultations.manage")
def buyer_consultation_create(request: HttpRequest, organisation: Any, payload: ConsultationIn):
    from ebourgogne.consultations import services

    consultation = services.consultation_create(
        acting_user=request.user, organisation=organisation, request=request, **_fields(payload)
    )
    return Status(201, _buyer_detail(own_consultation(organisation, consultation.pk)))


@buyer_router.patch(
    "/{org_slug}/consultations/{int:consultation_id}",
    response={200: BuyerConsultationOut, **BUYER_ERRORS},
    summary="Change a consultation (drafts: everything; published: what may still change)",
)
@organisation_api("consultations.manage")
def buyer_consultation_update(request: HttpRequest, organisation: Any, consultation_id: int, payload: ConsultationIn):
    from ebourgogne.consultations import services

    consultation = own_consultation(organisation, consultation_id)
    services.consultation_update(
        acting_user=request.user, consultation=consultation, request=request, **_fields(payload)
    )
    return _buyer_detail(own_consultation(organisation, consultation_id))


@buyer_router.post(
    "/{org_slug}/consultations/{int:consultation_id}/publish",
    response={200: BuyerConsultationOut, **BUYER_ERRORS},
    summary="Publish a draft consultation",
)
@organisation_api("consultations.manage")
def buyer_consultation_publish(request: HttpRequest, organisation: Any, consultation_id: int):
    from ebourgogne.consultations import services

    consultation = own_consultation(organisation, consultation_id)
    services.consultation_publish(acting_user=request.user, consultation=consultation, request=request)
    return _buyer_detail(own_consultation(organisation, consultation_id))


@buyer_router.post(
    "/{org_slug}/consultations/{int:consultation_id}/postpone",
    response={200: BuyerConsultationOut, **BUYER_ERRORS},
    summary="Postpone the bid deadline (never bring it forward)",
)
@organisation_api("consultations.manage")
def buyer_consultation_postpone(request: HttpRequest, organisation: Any, consultation_id: int, payload: PostponeIn):
    from ebourgogne.consultations import services

    consultation = own_consultation(organisation, consultation_id)
    services.consultation_postpone_deadline(
        acting_user=request.user,
        consultation=consultation,
        bids_deadline=payload.bids_deadline,
        reason=payload.reason,
        questions_deadline=payload.questions_deadline,
        planned_opening_at=payload.planned_opening_at,
        request=request,
    )
    return _buyer_detail(own_consultation(organisation, consultation_id))


@buyer_router.post(
    "/{org_slug}/consultations/{int:consultation_id}/cancel",
    response={200: BuyerConsultationOut, **BUYER_ERRORS},
    summary="Cancel a published or closed consultation, with its reason",
)
@organisation_api("consultations.manage")
def buyer_consultation_cancel(request: HttpRequest, organisation: Any, consultation_id: int, payload: ReasonIn):
    from ebourgogne.consultations import services

    consultation = own_consultation(organisation, consultation_id)
    services.consultation_cancel(
        acting_user=request.user, consultation=consultation, reason=payload.reason, request=request
    )
    return _buyer_detail(own_consultation(organisation, consultation_id))
