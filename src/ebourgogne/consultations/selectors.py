"""Reading consultations.

Buyer reads are scoped to the buyer organisation (called inside its django-scopes scope, as views of
`organisation_view` are). Public reads go through `public_consultation` / `public_consultations`, which
lift the scope only inside this module and always filter on `PUBLIC_STATES`: a draft is never public.

States as people see them: a published consultation whose bid deadline has passed counts as closed
from that second on, before the scheduler records it (`effective_state_q`, `Consultation.effective_state`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects
from django_scopes import scopes_disabled

from ebourgogne.audit.models import AuditEvent
from ebourgogne.audit.selectors import EventPage, organisation_events, page_of
from ebourgogne.consultations.models import PUBLIC_STATES, Consultation, ConsultationCpv, CpvCode, Lot, State
from ebourgogne.core import clock
from ebourgogne.core.prepared import PreparedQuery

CPV_SEARCH_LIMIT = 50


def effective_state_q(state: str, *, now: dt.datetime | None = None) -> Q:
    """A filter on the state as people see it (published past its deadline = closed)."""
    moment = now or clock.now()
    if state == State.PUBLISHED:
        return Q(state=State.PUBLISHED, bids_deadline__gt=moment)
    if state == State.CLOSED:
        return Q(state=State.CLOSED) | Q(state=State.PUBLISHED, bids_deadline__lte=moment)
    return Q(state=state)


def _with_details(queryset: QuerySet[Consultation]) -> QuerySet[Consultation]:
    codes = ConsultationCpv.objects.select_related("cpv").order_by("-is_main", "cpv_id")
    return queryset.select_related("organisation", "service", "main_cpv").prefetch_related(
        Prefetch(
            "lots", queryset=Lot.objects.order_by("number").prefetch_related(Prefetch("cpv_codes", queryset=codes))
        ),
        Prefetch("cpv_codes", queryset=codes.filter(lot__isnull=True), to_attr="own_cpv_codes"),
    )


# --- Buyer side ------------------------------------------------------------------------------------


def buyer_consultations(*, organisation: Any, state: str = "", query: str = "") -> QuerySet[Consultation]:
    """The buyer's consultations (drafts included), newest first, optionally of one (effective) state
    and matching `query` in the reference or title."""
    queryset = Consultation.objects.filter(organisation=organisation).select_related("service")
    if state in State.values:
        queryset = queryset.filter(effective_state_q(state))
    text = " ".join(str(query or "").split())[:100]
    if text:
        queryset = queryset.filter(Q(reference__icontains=text) | Q(title__icontains=text))
    return queryset.order_by("-created_at", "-pk")


def state_counts(*, organisation: Any) -> dict[str, int]:
    """How many consultations of the buyer are in each (effective) state."""
    moment = clock.now()
    counts = dict.fromkeys(State.values, 0)
    rows = Consultation.objects.filter(organisation=organisation).values_list("state", "bids_deadline")
    for state, deadline in rows:
        if state == State.PUBLISHED and deadline is not None and deadline <= moment:
            state = State.CLOSED
        counts[state] += 1
    return counts


def buyer_consultation(*, organisation: Any, pk: int) -> Consultation | None:
    """One consultation of the buyer with its lots and codes, or None."""
    return _with_details(Consultation.objects.filter(organisation=organisation, pk=pk)).first()


def consultation_events(
    *, consultation: Consultation, before: int | None = None, after: int | None = None
) -> EventPage:
    """The event log of one consultation, newest first, by pages: its own events (lifecycle, tender files,
    rectifications) and those of its questions and answers (which name the consultation in their data)."""
    queryset = organisation_events(organisation=consultation.organisation).filter(
        Q(object_type="consultations.consultation", object_id=str(consultation.pk))
        | Q(object_type="questions.question", data__consultation=consultation.pk)
    )
    return page_of(queryset, before=before, after=after)


def recent_events(*, consultation: Consultation, limit: int = 20) -> list[AuditEvent]:
    return consultation_events(consultation=consultation).events[:limit]


# --- Public side -----------------------------------------------------------------------------------


def public_consultation(*, pk: int) -> Consultation | None:
    """A public consultation (never a draft) with its buyer, lots and codes, or None."""
    with scopes_disabled():
        return (
            _with_details(Consultation.objects.filter(pk=pk, state__in=PUBLIC_STATES))
            .filter(organisation__is_active=True)
            .first()
        )


def _row_fields(model: Any, prefix: str = "") -> list[str]:
    return [prefix + field.attname for field in model._meta.concrete_fields]


def _public_row_query(pk: int) -> QuerySet:
    """The consultation, its buyer and service, and what else its public page shows that can change
    (the tender files' latest published version and ZIP, the latest published answer, the opening key):
    those last columns make the page's stamp (`public_consultation_row`)."""
    from django.apps import apps
    from django.db.models import F, Func, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    from ebourgogne.organisations.models import BuyerService, Organisation

    # By name, not import: consultations does not depend on the apps that follow it.
    DceVersion = apps.get_model("dce", "DceVersion")
    Question = apps.get_model("questions", "Question")
    ConsultationKey = apps.get_model("sealing", "ConsultationKey")

    def latest(queryset: QuerySet, function: str, expression: Any) -> Subquery:
        # An aggregate over the consultation's rows, without GROUP BY nor a join back to the consultation
        # (what `.values().annotate(Max(...))` writes): one index scan per subquery.
        return Subquery(
            queryset.filter(consultation_id=OuterRef("pk"))
            .order_by()
            .annotate(v=Func(expression, function=function))
            .values("v")
        )

    with scopes_disabled():
        versions = DceVersion.objects.filter(published_at__isnull=False)
        answers = Question.objects.filter(published_at__isnull=False)
        return (
            Consultation.objects.filter(pk=pk, state__in=PUBLIC_STATES, organisation__is_active=True)
            .annotate(
                stamp_dce=latest(versions, "MAX", F("number")),
                stamp_zip=latest(versions, "MAX", F("archive_ready_at")),
                stamp_answers=latest(answers, "MAX", Coalesce("updated_at", "published_at")),
                stamp_answer_count=latest(answers, "COUNT", F("id")),
                stamp_key=Subquery(
                    ConsultationKey.objects.filter(consultation_id=OuterRef("pk")).order_by().values("recipient")[:1]
                ),
                # The service's name (all the page shows of it) by its primary key, not a LEFT JOIN: with the
                # join PostgreSQL's plan read the whole services table (a hash join) on each request.
                service_name=Subquery(BuyerService.objects.filter(pk=OuterRef("service_id")).order_by().values("name")),
            )
            .order_by()
            .values_list(
                *_row_fields(Consultation),
                *_row_fields(Organisation, "organisation__"),
                "service_name",
                "stamp_dce",
                "stamp_zip",
                "stamp_answers",
                "stamp_answer_count",
                "stamp_key",
            )
        )


_public_row = PreparedQuery(_public_row_query)


def public_consultation_row(*, pk: int) -> tuple[Consultation, str] | None:
    """A public consultation (never a draft) with its buyer and service (the service's name, its other fields
    deferred), without its lots and codes, and
    the stamp of its public page: one statement, compiled once (`core.prepared`). The stamp changes with
    anything the page shows (the consultation, its buyer, its tender files, its published answers, its
    opening key): the page's anonymous copy is kept under it (`consultations.views.public_detail`)."""
    from ebourgogne.organisations.models import BuyerService, Organisation

    rows = _public_row.rows(pk)
    if not rows:
        return None
    row = rows[0]
    own, buyer = len(Consultation._meta.concrete_fields), len(Organisation._meta.concrete_fields)
    consultation = Consultation.from_db(DEFAULT_DB_ALIAS, _row_fields(Consultation), row[:own])
    consultation.organisation = Organisation.from_db(
        DEFAULT_DB_ALIAS, _row_fields(Organisation), row[own : own + buyer]
    )
    if consultation.service_id is None:
        consultation.service = None
    else:
        # Its name read, its other fields deferred (loaded if ever used, as a deferred field is).
        consultation.service = BuyerService.from_db(
            DEFAULT_DB_ALIAS, ["id", "name"], (consultation.service_id, row[own + buyer])
        )
    stamp = hashlib.sha256(repr(row).encode()).hexdigest()[:32]
    return consultation, stamp


def public_codes_of(consultation: Consultation) -> Codes:
    """The codes and lots of a consultation read by `public_consultation_row` (two statements)."""
    with scopes_disabled():
        codes = ConsultationCpv.objects.select_related("cpv").order_by("-is_main", "cpv_id")
        prefetch_related_objects(
            [consultation],
            Prefetch(
                "lots",
                queryset=Lot.objects.order_by("number").prefetch_related(Prefetch("cpv_codes", queryset=codes)),
            ),
            Prefetch("cpv_codes", queryset=codes.filter(lot__isnull=True), to_attr="own_cpv_codes"),
        )
        return codes_of(consultation)


def public_consultations(*, organisation: Any = None) -> QuerySet[Consultation]:
    """Every public consultation (of one buyer when given), newest publication first. Outside a scope:
    evaluate it inside `scopes_disabled()` (as `public_consultation` does) or slice it here."""
    with scopes_disabled():
        queryset = Consultation.objects.filter(state__in=PUBLIC_STATES, organisation__is_active=True, is_practice=False)
        if organisation is not None:
            queryset = queryset.filter(organisation=organisation)
        return queryset.select_related("organisation").order_by("-published_at", "-pk")


# --- Codes of a consultation -----------------------------------------------------------------------


@dataclass
class LotCodes:
    lot: Lot
    main: CpvCode | None
    additional: list[CpvCode] = field(default_factory=list)


@dataclass
class Codes:
    main: CpvCode | None
    additional: list[CpvCode]
    lots: list[LotCodes]


def codes_of(consultation: Consultation) -> Codes:
    """The consultation's main and additional codes, and each lot's (uses the prefetches of the reads above)."""
    own = getattr(consultation, "own_cpv_codes", None)
    if own is None:
        with scopes_disabled():
            own = list(
                ConsultationCpv.objects.filter(consultation=consultation, lot__isnull=True)
                .select_related("cpv")
                .order_by("-is_main", "cpv_id")
            )
    main = next((row.cpv for row in own if row.is_main), consultation.main_cpv)
    additional = [row.cpv for row in own if not row.is_main]
    lots = []
    with scopes_disabled():
        for lot in consultation.lots.all():
            rows = list(lot.cpv_codes.all())
            lots.append(
                LotCodes(
                    lot=lot,
                    main=next((row.cpv for row in rows if row.is_main), None),
                    additional=[row.cpv for row in rows if not row.is_main],
                )
            )
    return Codes(main=main, additional=additional, lots=lots)


# --- The CPV nomenclature --------------------------------------------------------------------------


def cpv_divisions() -> list[CpvCode]:
    """The 45 divisions (top of the tree)."""
    return list(CpvCode.objects.filter(parent__isnull=True).order_by("code"))


def cpv_code(code: str) -> CpvCode | None:
    digits = str(code or "").strip().split("-")[0]
    if not digits.isdigit() or len(digits) != 8:
        return None
    return CpvCode.objects.filter(code=digits).first()


def cpv_children(code: str) -> list[CpvCode]:
    return list(CpvCode.objects.filter(parent_id=code).order_by("code"))


def cpv_ancestors(cpv: CpvCode) -> list[CpvCode]:
    """From the division down to `cpv`'s parent."""
    chain = []
    current = cpv.parent
    while current is not None:
        chain.append(current)
        current = current.parent
    return chain[::-1]


def cpv_has_children(codes: list[CpvCode]) -> set[str]:
    parents = set(CpvCode.objects.filter(parent_id__in=[cpv.code for cpv in codes]).values_list("parent_id", flat=True))
    return parents


def _fold(text: str) -> str:
    """Lower case without accents: "École" and "ecole" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@functools.lru_cache(maxsize=1)
def _cpv_index() -> tuple[tuple[str, int, str], ...]:
    """(code, level, folded French and English labels) of every code, read once per process: the
    vocabulary is fixed (CPV 2008), and searching 9,454 short labels in memory takes a few milliseconds,
    the same on SQLite and PostgreSQL, accents and case ignored."""
    rows = CpvCode.objects.order_by("level", "code").values_list("code", "level", "label_fr", "label_en")
    return tuple((code, level, _fold(f"{label_fr} | {label_en}")) for code, level, label_fr, label_en in rows)


def cpv_search(query: str, *, limit: int = CPV_SEARCH_LIMIT) -> list[CpvCode]:
    """Codes whose code starts with the digits typed, or whose French or English label contains every
    word typed (accents and case ignored). Broadest codes first."""
    text = " ".join(str(query or "").split())[:100]
    if not text:
        return []
    digits = text.replace("-", "").replace(" ", "")
    if digits.isdigit():
        return list(CpvCode.objects.filter(code__startswith=digits[:8]).order_by("level", "code")[:limit])
    words = [_fold(word) for word in text.split()[:8]]
    index = _cpv_index()
    if not index:
        _cpv_index.cache_clear()  # read before the codes were loaded (tests): read again next time
        return []
    found = [code for code, _level, labels in index if all(word in labels for word in words)][:limit]
    by_code = CpvCode.objects.in_bulk(found)
    return [by_code[code] for code in found if code in by_code]
