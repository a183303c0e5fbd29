"""Reads of bids, always scoped to the caller.

- A company sees its own bids only (`company_bids`, `company_bid`, `company_file`).
- The buyer sees, before the deadline, the number of deposits and nothing else (`deposit_count`); after
  it, the deposit register (`deposit_register`): numbers, companies, times, flags, receipts; never
  contents (those come with the opening).
- The opening reads `bids_to_open`: the last in-time deposit of each company (per kind and lots).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet
from django_scopes import scopes_disabled

from ebourgogne.consultations.models import Consultation
from ebourgogne.organisations.models import Organisation
from ebourgogne.organisations.roles import OrganisationKind, roles_grant
from ebourgogne.organisations.selectors import organisations_of
from ebourgogne.tenders.models import Bid, BidFile, BidKind, BidState


def submitting_companies(user: Any) -> list[Organisation]:
    """The companies in which `user` may submit bids (`bids.submit`)."""
    if user is None or not user.is_authenticated:
        return []
    return [
        organisation
        for organisation, roles in organisations_of(user=user)
        if organisation.kind == OrganisationKind.COMPANY
        and organisation.is_active
        and roles_grant(set(roles), "bids.submit")
    ]


def company_bids(company: Organisation) -> QuerySet:
    """Every bid of `company`, newest first, with its consultation and buyer."""
    with scopes_disabled():
        return (
            Bid.objects.filter(company=company)
            .select_related("consultation", "consultation__organisation", "superseded_by")
            .prefetch_related("lots")
            .annotate(file_count=Count("files"))
            .order_by("-created_at", "-pk")
        )


def company_bid(company: Organisation, pk: Any) -> Bid | None:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    if not 0 < pk < 2**63:  # not a row id (SQLite would overflow)
        return None
    with scopes_disabled():
        return (
            Bid.objects.filter(company=company, pk=pk)
            .select_related("consultation", "consultation__organisation", "superseded_by")
            .first()
        )


def company_file(company: Organisation, upload_id: Any) -> BidFile | None:
    with scopes_disabled():
        return (
            BidFile.objects.filter(bid__company=company, upload_id=upload_id)
            .select_related("bid", "bid__consultation")
            .first()
        )


def lot_numbers(bid: Bid) -> list[int]:
    """The numbers of the bid's lots (empty: the whole consultation). Lots are the buyer's rows: read them
    unscoped, for this bid only."""
    with scopes_disabled():
        return sorted(bid.lots.values_list("number", flat=True))


def bid_files(bid: Bid) -> list[BidFile]:
    return list(BidFile.objects.filter(bid=bid).order_by("envelope", "pk"))


def receipt_of(bid: Bid) -> Any:
    from ebourgogne.tenders.models import Receipt

    return Receipt.objects.filter(bid=bid).first()


def will_be_late(bid: Bid) -> bool:
    """Deposited: whether it was late. A draft: whether a deposit now would be (the deadline has passed)."""
    if bid.state == BidState.DEPOSITED:
        return bid.is_late
    return bid.consultation.deadline_passed


def bid_status(bid: Bid) -> str:
    """draft, deposited, late or superseded (what the company's list shows)."""
    if bid.state == BidState.DRAFT:
        return "draft"
    if bid.is_late:
        return "late"
    if bid.superseded_by_id:
        return "superseded"
    return "deposited"


# --- The buyer ----------------------------------------------------------------------------------------


def deposit_count(consultation: Consultation) -> int:
    """How many bids were deposited: the only thing the buyer learns before the deadline."""
    return Bid.objects.filter(consultation=consultation, state=BidState.DEPOSITED).count()


@dataclass(frozen=True)
class RegisterEntry:
    number: int
    company: str
    siret: str
    deposited_at: Any
    late: bool
    superseded_by: int | None
    backup: bool
    physical_backup: bool
    upload_started_at: Any
    receipt_number: str
    receipt_digest: str
    lots: list[int]
    file_count: int
    total_size: int


def deposit_register(consultation: Consultation) -> list[RegisterEntry] | None:
    """The deposit register (registre des dépôts), or None before the deadline (then only the count)."""
    if not consultation.deadline_passed:
        return None
    from django.db.models import Sum

    bids = (
        Bid.objects.filter(consultation=consultation, state=BidState.DEPOSITED)
        .select_related("company", "receipt", "superseded_by")
        .annotate(file_count=Count("files"), total_size=Sum("files__size"))
        .order_by("number")
    )
    return [
        RegisterEntry(
            number=bid.number,
            company=bid.company.name,
            siret=getattr(bid.company, "siret", "") or getattr(bid.company, "siren", "") or "",
            deposited_at=bid.deposited_at,
            late=bid.is_late,
            superseded_by=bid.superseded_by.number if bid.superseded_by_id else None,
            backup=bid.kind == BidKind.BACKUP,
            physical_backup=bid.physical_backup_declared,
            upload_started_at=bid.upload_started_at if bid.is_late else None,
            receipt_number=getattr(getattr(bid, "receipt", None), "number", ""),
            receipt_digest=getattr(getattr(bid, "receipt", None), "digest", ""),
            lots=lot_numbers(bid),
            file_count=bid.file_count,
            total_size=bid.total_size or 0,
        )
        for bid in bids
    ]


def bids_to_open(consultation: Consultation) -> QuerySet:
    """The bids the opening decrypts: deposited in time, not superseded, not backup copies."""
    return Bid.objects.filter(
        consultation=consultation,
        state=BidState.DEPOSITED,
        is_late=False,
        superseded_by__isnull=True,
        kind=BidKind.BID,
    ).order_by("number")


def incidents_around(consultation: Consultation) -> list[Any]:
    """The platform's incidents from a day before the deadline to a day after it: the evidence a late
    bidder may rely on (CE 23/09/2021 RATP), shown with the register."""
    import datetime as dt

    from django.db.models import Q

    from ebourgogne.tenders.models import Incident

    if consultation.bids_deadline is None:
        return []
    day = dt.timedelta(days=1)
    return list(
        Incident.objects.filter(started_at__lte=consultation.bids_deadline + day)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=consultation.bids_deadline - day))
        .order_by("started_at")
    )
