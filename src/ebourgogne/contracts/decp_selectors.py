"""DECP reads: the published essential data for the public bulk endpoint and the daily file, and a buyer's
contracts past their publication deadline.

The published data are public (open data): `published_page` and `records_published_on` read every buyer's
records. `decp_overdue` is a buyer's own list, scoped to its organisation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django_scopes import scope, scopes_disabled

from ebourgogne.contracts import decp
from ebourgogne.contracts.models import DECP_THRESHOLD, Contract, ContractState, DecpRecord
from ebourgogne.core import clock


def day_bounds(first: dt.date | None, last: dt.date | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[start of `first`, start of the day after `last`) in Europe/Paris, as aware datetimes."""
    start = dt.datetime.combine(first, dt.time.min, tzinfo=clock.PARIS) if first else None
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=clock.PARIS) if last else None
    return start, end


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    number: int
    size: int
    has_next: bool


def published_page(
    *,
    buyer_siret: str = "",
    buyer_slug: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
    number: int = 1,
    size: int = 500,
) -> Page:
    """One page of `marche` objects (contracts ordered by id), in two queries whatever the page size.

    `since` / `until` (included, Europe/Paris days) keep the contracts with at least one record (initial data,
    modification, subcontracting act or change) published in the range; each contract is exported as it
    stands now, with every record published so far.
    """
    with scopes_disabled():
        contracts = Contract.objects.filter(decp_published_at__isnull=False, consultation__is_practice=False)
        if buyer_siret:
            contracts = contracts.filter(organisation__siret=buyer_siret)
        if buyer_slug:
            contracts = contracts.filter(organisation__slug=buyer_slug)
        if since or until:
            start, end = day_bounds(since, until)
            published = Q()
            if start:
                published &= Q(published_at__gte=start)
            if end:
                published &= Q(published_at__lt=end)
            contracts = contracts.filter(
                Exists(DecpRecord.objects.filter(published, contract=OuterRef("pk")).values("pk"))
            )
        offset = (number - 1) * size
        ids = list(contracts.order_by("pk").values_list("pk", flat=True)[offset : offset + size + 1])
        has_next = len(ids) > size
        ids = ids[:size]
        records = (
            DecpRecord.objects.filter(contract_id__in=ids).order_by("contract_id", "published_at", "id") if ids else []
        )
        return Page(items=decp.marches(records), number=number, size=size, has_next=has_next)


def records_published_between(start: dt.datetime, end: dt.datetime) -> list[DecpRecord]:
    """Every record of the contracts that had a record published in [start, end), up to `end`: what the daily
    file of that period exports (each contract as it stood at the end of the period)."""
    with scopes_disabled():
        touched = DecpRecord.objects.filter(published_at__gte=start, published_at__lt=end).values("contract_id")
        return list(
            DecpRecord.objects.filter(
                contract_id__in=touched, published_at__lt=end, contract__consultation__is_practice=False
            ).order_by("contract_id", "published_at", "id")
        )


def decp_overdue(organisation: Any, *, today: dt.date | None = None) -> list[Contract]:
    """The buyer's notified contracts from the threshold whose essential data are not published although their
    two-month deadline has passed, oldest deadline first."""
    day = today or clock.today_local()
    # Two months are at least 59 days: the database keeps the candidates, the exact deadline decides.
    cutoff = dt.datetime.combine(day - dt.timedelta(days=59), dt.time.min, tzinfo=clock.PARIS)
    with scope(organisation=organisation):
        candidates = (
            Contract.objects.filter(
                organisation=organisation,
                amount__gte=DECP_THRESHOLD,
                notified_at__isnull=False,
                notified_at__lt=cutoff,
                decp_published_at__isnull=True,
                consultation__is_practice=False,
                state__in=[ContractState.NOTIFIED, ContractState.ENDED, ContractState.TERMINATED],
            )
            .select_related("holder", "consultation")
            .order_by("notified_at", "pk")
        )
        return [contract for contract in candidates if decp.deadline(contract) < day]


def decp_siret_missing(organisation: Any) -> list[Contract]:
    """The buyer's notified contracts whose essential data are due but cannot be published because the
    buyer has no valid SIRET (`decp.buyer_ready`); empty when its SIRET is set."""
    if decp.valid_siret(organisation.siret):
        return []
    with scope(organisation=organisation):
        return list(
            Contract.objects.filter(
                organisation=organisation,
                amount__gte=DECP_THRESHOLD,
                notified_at__isnull=False,
                decp_published_at__isnull=True,
                consultation__is_practice=False,
            ).order_by("notified_at", "pk")[:50]
        )
