"""Computing the indicators: `refresh_all()` (the periodic job) and `refresh_buyer(organisation)` (on demand).

Rules (docs/guide/indicateurs.md):
- a consultation counts from its publication, in the month (Paris time) of `published_at`; drafts and
  practice consultations never count;
- bids: deposited bids of kind "bid" (backup copies are not bids), in time (late ones are not
  admissible), not superseded by a later deposit of the same company; counted only for consultations
  whose bid deadline has passed and that were not cancelled (`closed`), so that the consultations still
  open do not pull the mean down;
- DCE downloads: every download recorded in the register (a file or the whole archive);
- publication -> deadline: over every published consultation; the award figures come from
  `award_facts` (one function; the awards app provides the decisions); award -> notification runs from
  the award decision to the notification of the contract to its holder (`Contract.notified_at`: the
  notification of the contract, which starts its execution, not the award letter sent to the candidates);
- contracts and amendments (`contract_facts`): the contracts notified to their holder and their initial
  amount; the modifications (avenants) notified, whose amount changes add up (a decrease counts
  negatively); amounts in € HT, summed in cents. Their share is sum(changes) / sum(initial amounts).

A buyer's rows are computed from the raw tables, one buyer at a time (a few thousand consultations
each: the per-consultation work is done in Python with the same code on SQLite and PostgreSQL). The
department and region rows are then the sums of the buyer rows (`_roll_up`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Q
from django_scopes import scopes_disabled

from ebourgogne.audit.services import log_event
from ebourgogne.consultations.models import Consultation, State
from ebourgogne.core import clock
from ebourgogne.core.clock import PARIS
from ebourgogne.indicators.models import (
    REGION,
    Dimension,
    MonthlyBreakdown,
    MonthlyFigures,
    Refresh,
    buyer_key,
    department_key,
)
from ebourgogne.organisations.models import Organisation
from ebourgogne.organisations.roles import OrganisationKind

SUMMED = (
    "published",
    "closed",
    "bids",
    "sme_bids",
    "bids_0",
    "bids_1",
    "bids_2",
    "bids_3",
    "bids_4",
    "bids_5_9",
    "bids_10",
    "downloads",
    "answer_seconds",
    "winners",
    "sme_winners",
    "award_seconds",
    "award_count",
    "notification_seconds",
    "notification_count",
    "contracts",
    "contract_cents",
    "modifications",
    "modification_cents",
)


def month_of(instant: dt.datetime) -> dt.date:
    local = instant.astimezone(PARIS)
    return dt.date(local.year, local.month, 1)


def bucket(count: int) -> str:
    """The distribution column of a consultation with `count` bids."""
    if count <= 4:
        return f"bids_{count}"
    return "bids_5_9" if count <= 9 else "bids_10"


@dataclass
class AwardFact:
    """One awarded lot (or consultation without lots): when decided, whether the winner is an SME, and
    when its contract was notified to the holder (None: not yet, or no contract on the platform)."""

    decided_at: dt.datetime
    winner_is_sme: bool
    notified_at: dt.datetime | None = None


def awards_available() -> bool:
    """True when the awards app records award decisions (`awards.Award`)."""
    from django.apps import apps

    try:
        apps.get_model("awards", "Award")
    except LookupError:
        return False
    return True


def award_facts(organisation_id: int | None = None) -> dict[int, list[AwardFact]]:
    """The award decisions (outcome "awarded", one per lot or per consultation without lots) of the
    consultations of one buyer, or of all, by consultation id: when decided, whether the winner's company
    is an SME, and when the contract that followed was notified to the holder (its notification).
    Unsuccessful and abandoned outcomes have no winner and no award delay: they are not counted here."""
    if not awards_available():
        return {}
    from ebourgogne.awards.models import Award, Outcome

    awards = Award.objects.filter(outcome=Outcome.AWARDED, winner__isnull=False)
    if organisation_id is not None:
        awards = awards.filter(evaluation__consultation__organisation_id=organisation_id)
    facts: dict[int, list[AwardFact]] = defaultdict(list)
    for consultation_id, decided_at, is_sme, notified_at in awards.values_list(
        "evaluation__consultation_id", "decided_at", "winner__bid__company__is_sme", "contract__notified_at"
    ).iterator(chunk_size=5000):
        facts[consultation_id].append(AwardFact(decided_at, bool(is_sme), notified_at))
    return facts


@dataclass
class ContractFacts:
    """The notified contracts of one consultation and their notified modifications (amounts in cents)."""

    contracts: int = 0
    contract_cents: int = 0
    modifications: int = 0
    modification_cents: int = 0


def _cents(amount) -> int:
    return int((amount * 100).to_integral_value())


def contract_facts(organisation_id: int | None = None) -> dict[int, ContractFacts]:
    """Per consultation id: its contracts notified to their holder (notified, ended or terminated) with
    their initial amounts, and their modifications notified with their amount changes."""
    from ebourgogne.contracts.models import ChangeState, Contract, ContractState, Modification

    contracts = Contract.objects.filter(
        notified_at__isnull=False,
        state__in=(ContractState.NOTIFIED, ContractState.ENDED, ContractState.TERMINATED),
    )
    if organisation_id is not None:
        contracts = contracts.filter(organisation_id=organisation_id)
    facts: dict[int, ContractFacts] = defaultdict(ContractFacts)
    for consultation_id, amount in contracts.values_list("consultation_id", "amount").iterator(chunk_size=5000):
        fact = facts[consultation_id]
        fact.contracts += 1
        fact.contract_cents += _cents(amount)
    modifications = Modification.objects.filter(
        state=ChangeState.NOTIFIED, notified_at__isnull=False, contract__in=contracts
    ).values_list("contract__consultation_id", "amount_change")
    for consultation_id, change in modifications.iterator(chunk_size=5000):
        fact = facts[consultation_id]
        fact.modifications += 1
        fact.modification_cents += _cents(change)
    return facts


@dataclass
class _Month:
    figures: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SUMMED, 0))
    cpv: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    procedure: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _per_consultation(rows: Iterator[tuple]) -> Iterator[tuple]:
    """Yield rows (consultation id first) of a stream sorted by consultation id, with a sentinel at the end."""
    yield from rows
    yield (float("inf"),)


def _accumulate(organisation_id: int | None, now: dt.datetime) -> dict[tuple[int, dt.date], _Month]:
    """(buyer id, month) -> its sums, from the raw tables (one buyer, or all of them).

    Three streams sorted by consultation id are merged in one pass (consultations; bids counted per
    consultation; downloads counted per consultation), so that memory stays small and every query is a
    plain scan or an index range, the same on SQLite and PostgreSQL."""
    from ebourgogne.dce.models import Download
    from ebourgogne.tenders.models import Bid, BidKind, BidState

    consultations = Consultation.objects.filter(is_practice=False, published_at__isnull=False).exclude(
        state=State.DRAFT
    )
    if organisation_id is not None:
        consultations = consultations.filter(organisation_id=organisation_id)
    ids = consultations.values("pk")
    bids = (
        Bid.objects.filter(state=BidState.DEPOSITED, kind=BidKind.BID, is_late=False, superseded_by__isnull=True)
        .values("consultation_id")
        .annotate(n=Count("pk"), sme=Count("pk", filter=Q(company__is_sme=True)))
        .order_by("consultation_id")
        .values_list("consultation_id", "n", "sme")
    )
    downloads = (
        Download.objects.values("consultation_id")
        .annotate(n=Count("pk"))
        .order_by("consultation_id")
        .values_list("consultation_id", "n")
    )
    if organisation_id is not None:
        bids = bids.filter(consultation_id__in=ids)
        downloads = downloads.filter(consultation_id__in=ids)
    awards = award_facts(organisation_id)
    contracts = contract_facts(organisation_id)
    bid_stream = _per_consultation(bids.iterator(chunk_size=5000))
    download_stream = _per_consultation(downloads.iterator(chunk_size=5000))
    next_bids, next_download = next(bid_stream), next(download_stream)
    months: dict[tuple[int, dt.date], _Month] = defaultdict(_Month)
    rows = consultations.values_list(
        "pk", "organisation_id", "published_at", "bids_deadline", "procedure", "main_cpv_id", "state"
    ).order_by("pk")
    for pk, buyer, published_at, deadline, procedure, cpv, state in rows.iterator(chunk_size=5000):
        while next_bids[0] < pk:
            next_bids = next(bid_stream)
        while next_download[0] < pk:
            next_download = next(download_stream)
        month = months[(buyer, month_of(published_at))]
        figures = month.figures
        figures["published"] += 1
        month.procedure[procedure] += 1
        month.cpv[(cpv or "")[:2] or "00"] += 1
        if deadline is not None:
            figures["answer_seconds"] += int((deadline - published_at).total_seconds())
        if next_download[0] == pk:
            figures["downloads"] += next_download[1]
        if deadline is not None and deadline <= now and state != State.CANCELLED:
            count, sme = (next_bids[1], next_bids[2]) if next_bids[0] == pk else (0, 0)
            figures["closed"] += 1
            figures["bids"] += count
            figures["sme_bids"] += sme
            figures[bucket(count)] += 1
        for fact in awards.get(pk, ()):
            figures["winners"] += 1
            figures["sme_winners"] += int(fact.winner_is_sme)
            if deadline is not None:
                figures["award_seconds"] += int((fact.decided_at - deadline).total_seconds())
                figures["award_count"] += 1
            if fact.notified_at is not None:
                figures["notification_seconds"] += int((fact.notified_at - fact.decided_at).total_seconds())
                figures["notification_count"] += 1
        fact = contracts.get(pk)
        if fact is not None:
            figures["contracts"] += fact.contracts
            figures["contract_cents"] += fact.contract_cents
            figures["modifications"] += fact.modifications
            figures["modification_cents"] += fact.modification_cents
    bid_stream.close()  # the bids and downloads of consultations not counted (drafts, practice) are left unread
    download_stream.close()
    return months


def _insert(model, columns: tuple[str, ...], rows: Iterable[tuple], batch: int = 5000) -> None:
    """Plain batched INSERTs (the ORM's bulk_create costs ten times more per row here); months as ISO
    dates, which both SQLite and PostgreSQL read into a date column."""
    from django.db import connection

    table = model._meta.db_table
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
    pending: list[tuple] = []
    with connection.cursor() as cursor:
        for row in rows:
            pending.append(tuple(value.isoformat() if isinstance(value, dt.date) else value for value in row))
            if len(pending) >= batch:
                cursor.executemany(sql, pending)
                pending.clear()
        if pending:
            cursor.executemany(sql, pending)


def _write_buyers(months: dict[tuple[int, dt.date], _Month], departments: dict[int, str], now, only=None) -> None:
    """Replace the buyer rows (of `only`, or of every buyer) by `months`."""
    figures, breakdowns = MonthlyFigures.objects.all(), MonthlyBreakdown.objects.all()
    if only is None:
        figures.filter(scope_key__startswith="b:").delete()
        breakdowns.filter(scope_key__startswith="b:").delete()
    else:
        figures.filter(scope_key=buyer_key(only)).delete()
        breakdowns.filter(scope_key=buyer_key(only)).delete()
    _insert(
        MonthlyFigures,
        ("scope_key", "organisation_id", "department", "month", *SUMMED),
        (
            (buyer_key(buyer), buyer, departments.get(buyer, ""), month, *(m.figures[name] for name in SUMMED))
            for (buyer, month), m in months.items()
        ),
    )
    _insert(
        MonthlyBreakdown,
        ("scope_key", "month", "dimension", "key", "published"),
        (
            (buyer_key(buyer), month, dimension, value, count)
            for (buyer, month), m in months.items()
            for dimension, counts in ((Dimension.CPV, m.cpv), (Dimension.PROCEDURE, m.procedure))
            for value, count in counts.items()
        ),
    )
    buyers = {buyer for buyer, _month in months} | ({only} if only is not None else set())
    existing = set(
        Refresh.objects.filter(scope_key__in=[buyer_key(pk) for pk in buyers]).values_list("scope_key", flat=True)
    )
    Refresh.objects.filter(scope_key__in=existing).update(computed_at=now)
    Refresh.objects.bulk_create(
        Refresh(scope_key=buyer_key(pk), computed_at=now) for pk in buyers if buyer_key(pk) not in existing
    )


def _roll_up(now: dt.datetime | None, *, first_time: dt.datetime | None = None) -> None:
    """Department and region rows from the buyer rows. `now`: the time to record as "figures as of"
    for those scopes (a full refresh), or None to keep the recorded time (a buyer's refresh; a scope
    never computed before gets `first_time`)."""
    from django.db.models import Sum

    buyers = MonthlyFigures.objects.filter(scope_key__startswith="b:")
    MonthlyFigures.objects.exclude(scope_key__startswith="b:").delete()
    MonthlyBreakdown.objects.exclude(scope_key__startswith="b:").delete()
    sums = {name: Sum(name) for name in SUMMED}
    rows = []
    for row in buyers.values("department", "month").annotate(**sums).order_by():
        rows.append(
            MonthlyFigures(
                scope_key=department_key(row["department"]),
                department=row["department"] or "00",
                month=row["month"],
                **{name: row[name] for name in SUMMED},
            )
        )
    for row in buyers.values("month").annotate(**sums).order_by():
        rows.append(MonthlyFigures(scope_key=REGION, month=row["month"], **{name: row[name] for name in SUMMED}))
    _insert(
        MonthlyFigures,
        ("scope_key", "organisation_id", "department", "month", *SUMMED),
        ((row.scope_key, None, row.department, row.month, *(getattr(row, name) for name in SUMMED)) for row in rows),
    )
    department_of = {
        buyer_key(pk): department
        for pk, department in Organisation.objects.filter(kind=OrganisationKind.BUYER).values_list("pk", "department")
    }
    breakdown: dict[tuple, int] = defaultdict(int)
    for scope, month, dimension, value, count in MonthlyBreakdown.objects.filter(
        scope_key__startswith="b:"
    ).values_list("scope_key", "month", "dimension", "key", "published"):
        breakdown[(department_key(department_of.get(scope, "")), month, dimension, value)] += count
        breakdown[(REGION, month, dimension, value)] += count
    _insert(
        MonthlyBreakdown,
        ("scope_key", "month", "dimension", "key", "published"),
        ((scope, month, dimension, value, count) for (scope, month, dimension, value), count in breakdown.items()),
    )
    departments = {department_key(row) for row in department_of.values()}
    for key in (REGION, *departments):
        if now is not None:
            Refresh.objects.update_or_create(scope_key=key, defaults={"computed_at": now})
        elif first_time is not None:
            Refresh.objects.get_or_create(scope_key=key, defaults={"computed_at": first_time})


def _departments() -> dict[int, str]:
    return dict(Organisation.objects.filter(kind=OrganisationKind.BUYER).values_list("pk", "department"))


def refresh_all() -> dict:
    """Recompute every buyer's figures, then the department and region sums (the periodic job)."""
    started = time.perf_counter()
    now = clock.now()
    with scopes_disabled(), transaction.atomic():
        months = _accumulate(None, now)
        _write_buyers(months, _departments(), now)
        _roll_up(now)
        seconds = time.perf_counter() - started
        Refresh.objects.filter(scope_key=REGION).update(seconds=seconds)
    return {"buyers": len({buyer for buyer, _month in months}), "months": len(months), "seconds": round(seconds, 2)}


def refresh_buyer(*, organisation: Organisation, actor=None, request=None) -> dt.datetime:
    """Recompute one buyer's figures now (its "refresh" button), and the sums that include them."""
    now = clock.now()
    with scopes_disabled(), transaction.atomic():
        months = _accumulate(organisation.pk, now)
        _write_buyers(months, {organisation.pk: organisation.department or ""}, now, only=organisation.pk)
        _roll_up(None, first_time=now)
        log_event(action="indicators.refreshed", actor=actor, organisation=organisation, request=request)
    return now
