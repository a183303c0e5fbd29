"""The contracts API, under /api/v1/contracts (personal API tokens or the browser session):

- GET /notices/{consultation_id}   (public) the award notice of a published consultation: per lot, the
  holder's name and SIRET, the amount, the dates of signature and notification (notified contracts only).
- GET /{org_slug}/contracts        (buyers, `contracts.view`) the buyer's contracts (filter `state`, `q`).
- GET /{org_slug}/held             (companies, `contracts.holder`) the contracts the company holds.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from ebourgogne.apitokens.auth import api_auth
from ebourgogne.contracts import selectors
from ebourgogne.core.access import organisation_api, public
from ebourgogne.core.errors import DomainError

router = Router(tags=["contracts"], auth=api_auth)


class NoticeOut(Schema):
    lot: int | None
    lot_title: str
    number: str
    holder: str
    siret: str
    amount: str
    signed_at: str | None
    notified_at: str | None


class ContractOut(Schema):
    id: int
    uid: str
    number: str
    title: str
    buyer: str
    holder: str
    holder_siret: str
    consultation: int
    lot: int | None
    amount: str
    duration_months: int
    state: str
    created_at: str
    signed_at: str | None
    notified_at: str | None
    starts_on: str | None
    ends_on: str | None


class ContractFilters(Schema):
    state: str = Field("", max_length=16)
    q: str = Field("", max_length=100)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def _contract(contract: Any) -> dict[str, Any]:
    return {
        "id": contract.pk,
        "uid": str(contract.uid),
        "number": contract.number,
        "title": contract.title,
        "buyer": contract.organisation.name,
        "holder": contract.holder.name,
        "holder_siret": contract.holder.siret or contract.holder.siren,
        "consultation": contract.consultation_id,
        "lot": contract.lot.number if contract.lot_id else None,
        "amount": str(contract.amount),
        "duration_months": contract.duration_months,
        "state": contract.state,
        "created_at": contract.created_at.isoformat(),
        "signed_at": _iso(contract.signed_at),
        "notified_at": _iso(contract.notified_at),
        "starts_on": _iso(contract.starts_on),
        "ends_on": _iso(contract.ends_on),
    }


@router.get(
    "/notices/{int:consultation_id}",
    response=list[NoticeOut],
    summary="Award notice of a published consultation (notified contracts)",
    auth=None,
)
@public(reason="the award notice of a published consultation is public (R2183-1)")
def award_notice(request: HttpRequest, consultation_id: int) -> list[dict[str, Any]]:
    from ebourgogne.consultations.api_common import public_consultation

    try:
        consultation = public_consultation(consultation_id)
    except DomainError:
        raise HttpError(404, "Consultation introuvable.") from None
    return [
        {
            "lot": notice.lot_number,
            "lot_title": notice.lot_title,
            "number": notice.number,
            "holder": notice.holder,
            "siret": notice.siret,
            "amount": str(notice.amount),
            "signed_at": _iso(notice.signed_at),
            "notified_at": _iso(notice.notified_at),
        }
        for notice in selectors.award_notices(consultation)
    ]


@router.get("/{org_slug}/contracts", response=list[ContractOut], summary="The buyer's contracts")
@organisation_api("contracts.view")
def buyer_contracts(request: HttpRequest, organisation: Any, filters: Query[ContractFilters]) -> list[dict[str, Any]]:
    if not organisation.is_buyer:
        raise HttpError(404, "Organisation introuvable.")
    return [
        _contract(contract)
        for contract in selectors.contracts_of(organisation=organisation, state=filters.state, search=filters.q)
    ]


@router.get("/{org_slug}/held", response=list[ContractOut], summary="The contracts the company holds")
@organisation_api("contracts.holder")
def held_contracts(request: HttpRequest, organisation: Any) -> list[dict[str, Any]]:
    if not organisation.is_company:
        raise HttpError(404, "Organisation introuvable.")
    return [_contract(contract) for contract in selectors.held_contracts(company=organisation)]
