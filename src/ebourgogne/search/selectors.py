"""Reads of the portal's search: public consultations only (the index holds nothing else).

`search(criteria, page=)` runs one SQL query for the page (one row more than the page, to know whether
another follows) and one capped count: the count stops at COUNT_CAP + 1 rows ("more than 200
results"), because an exact count over a million consultations costs more than the page itself.
Pages are offsets with a cap (MAX_PAGES): an ordering always ends with the consultation id, so paging
never skips nor repeats a consultation while the index does not change.

Keywords that match a great many consultations (more than WINDOW) are searched among the WINDOW most
recently indexed matches (highest ids) when that is enough to fill the capped count: ranking every
match of a common word ("travaux") over a million consultations costs time proportional to the number
of matches, the window keeps it bounded. When the window gives COUNT_CAP results or fewer, the search
runs again over every match, so a selective filter never misses an older consultation.
How each backend finds the window: search.backends (SQLite: FTS5 walks backwards the full-text tables of
the two newest blocks of ids, where bm25 counts each word's rows in one block, not in the whole index;
PostgreSQL asks its GIN index block of ids by block, then reads the window's rows by primary key).
On SQLite, the window then holds the most recent matches among the newest 16,384 to 32,768 consultation
ids, and "every match" (when fewer than WINDOW) means every match only when those reach the first id.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.db import connection
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from ebourgogne.consultations.models import ContractType, Procedure, State, cpv_prefix
from ebourgogne.core import clock, prepared
from ebourgogne.core.clock import PARIS
from ebourgogne.search import text
from ebourgogne.search.backends import T_ENTRY, backend
from ebourgogne.search.models import SearchEntry

PER_PAGE = 20
MAX_PAGES = 50  # 1,000 results: beyond, refine the search
COUNT_CAP = PER_PAGE * 10  # exact count up to 200 results
WINDOW = 2000  # most recent keyword matches searched first (see above)
WALK_BUDGET = 8000  # rows read in order to count a CPV search (PostgreSQL, see _count_walking)


class StateFilter:
    OPEN = "open"
    PAST = "past"
    ALL = "all"
    CHOICES = (
        (OPEN, _("En cours (date limite à venir)")),
        (PAST, _("Passées (clôturées, attribuées, annulées…)")),
        (ALL, _("Toutes")),
    )


class Sort:
    RELEVANCE = "relevance"
    DEADLINE = "deadline"
    PUBLISHED = "published"
    VALUE = "value"
    CHOICES = (
        (RELEVANCE, _("Pertinence")),
        (DEADLINE, _("Date limite la plus proche")),
        (PUBLISHED, _("Publication la plus récente")),
        (VALUE, _("Valeur estimée la plus élevée")),
    )


@dataclass(frozen=True)
class Criteria:
    q: str = ""
    cpv: str = ""  # a CPV code (8 digits): the consultation or one of its lots has a code of its subtree
    department: str = ""
    buyer: str = ""  # buyer's slug
    procedure: str = ""
    contract_type: str = ""
    deadline_from: dt.date | None = None  # bids deadline on or after this day (Europe/Paris)
    deadline_to: dt.date | None = None  # ... on or before this day
    value_min: Decimal | None = None
    value_max: Decimal | None = None
    closing_within: int | None = None  # days from now
    state: str = StateFilter.OPEN
    sort: str = ""  # "" = relevance with keywords, else deadline (open) or publication (past, all)

    def effective_sort(self) -> str:
        if self.sort == Sort.RELEVANCE and not text.query_words(self.q):
            return Sort.DEADLINE if self.state == StateFilter.OPEN else Sort.PUBLISHED
        if self.sort:
            return self.sort
        if text.query_words(self.q):
            return Sort.RELEVANCE
        return Sort.DEADLINE if self.state == StateFilter.OPEN else Sort.PUBLISHED


@dataclass
class Result:
    """One line of results, read from the index."""

    id: int
    reference: str
    title: str
    buyer_name: str
    buyer_slug: str
    procedure: str
    contract_type: str
    department: str
    commune: str
    estimated_value: Decimal | None
    state: str
    published_at: dt.datetime
    bids_deadline: dt.datetime
    url: str = ""

    @property
    def procedure_label(self) -> str:
        return _label(Procedure, self.procedure)

    @property
    def contract_type_label(self) -> str:
        return _label(ContractType, self.contract_type)

    @property
    def is_open(self) -> bool:
        return self.state == State.PUBLISHED and self.bids_deadline > clock.now()

    @property
    def state_label(self) -> str:
        if self.state == State.PUBLISHED and not self.is_open:
            return str(_("Date limite passée"))
        return _label(State, self.state)


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


@dataclass
class Page:
    results: list[Result]
    number: int
    count: int  # exact up to COUNT_CAP, then COUNT_CAP + 1
    per_page: int = PER_PAGE
    sort: str = ""
    words: list[str] = field(default_factory=list)
    more: bool = False  # another result follows this page

    @property
    def count_capped(self) -> bool:
        return self.count > COUNT_CAP

    @property
    def count_cap(self) -> int:
        return COUNT_CAP

    @property
    def pages(self) -> int | None:
        """The number of pages, or None when the count is capped."""
        if self.count_capped:
            return None
        return max(1, min(MAX_PAGES, math.ceil(self.count / self.per_page)))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.more and self.number < MAX_PAGES

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def out_of_range(self) -> bool:
        return self.number > 1 and not self.results

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.results else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.results)


def consultation_url_template() -> str:
    """The public page of a consultation, with `{pk}` in place of its id."""
    marker = 987654321
    try:
        return reverse("consultations_public:detail", kwargs={"pk": marker}).replace(str(marker), "{pk}")
    except NoReverseMatch:  # the page's URL is not declared (yet): its place in the root URLconf
        return "/consultations/{pk}/"


def _paris_midnight_utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=PARIS).astimezone(dt.UTC)


def _sql(
    criteria: Criteria, now: dt.datetime, *, ranked: bool, window: int | None = None, by_index_order: bool = False
):
    """FROM ... WHERE ... of a search, with its parameters (joins first, then conditions)."""
    adapt = connection.ops.adapt_datetimefield_value
    source = f"{T_ENTRY} e"
    source_params: list = []
    where: list[str] = []
    params: list = []
    rank = ""
    complete = False
    count_source = ""
    words = text.query_words(criteria.q)
    if words:
        match = backend().match(words, window=window, ranked=ranked)
        complete = match.complete
        source = match.source
        count_source = match.count_source
        source_params += match.params_source
        if match.where:
            where.append(match.where)
            params += match.params_where
        rank = match.rank if ranked else ""

    # Sorted by publication or value, SQLite (which keeps no statistics) would pick an index on the
    # deadline or on equality filters and sort every row they give; a unary + on those columns keeps it
    # on the index of the sort order.
    plus = "+" if by_index_order and connection.vendor == "sqlite" else ""
    if criteria.state == StateFilter.OPEN:
        where.append(f"e.state = %s AND {plus}e.bids_deadline > %s")
        params += [State.PUBLISHED, adapt(now)]
    elif criteria.state == StateFilter.PAST:
        where.append("(e.state <> %s OR e.bids_deadline <= %s)")
        params += [State.PUBLISHED, adapt(now)]
    for column in ("department", "procedure", "contract_type"):
        value = getattr(criteria, column)
        if value:
            where.append(f"{plus}e.{column} = %s")
            params.append(value)
    if criteria.buyer:
        where.append("e.buyer_slug = %s")
        params.append(criteria.buyer)
    if criteria.cpv:
        condition, values = backend().cpv_condition(cpv_prefix(criteria.cpv))
        where.append(condition)
        params += values
    if criteria.deadline_from:
        where.append("e.bids_deadline >= %s")
        params.append(adapt(_paris_midnight_utc(criteria.deadline_from)))
    if criteria.deadline_to:
        where.append("e.bids_deadline < %s")
        params.append(adapt(_paris_midnight_utc(criteria.deadline_to + dt.timedelta(days=1))))
    if criteria.closing_within is not None:
        where.append("e.bids_deadline > %s AND e.bids_deadline <= %s")
        params += [adapt(now), adapt(now + dt.timedelta(days=criteria.closing_within))]
    decimal = connection.vendor == "postgresql"
    if criteria.value_min is not None:
        where.append("e.estimated_value >= %s")
        params.append(criteria.value_min if decimal else float(criteria.value_min))
    if criteria.value_max is not None:
        where.append("e.estimated_value <= %s")
        params.append(criteria.value_max if decimal else float(criteria.value_max))

    conditions = " WHERE " + " AND ".join(f"({condition})" for condition in where) if where else ""
    return From(
        f"FROM {source}{conditions}",
        f"FROM {count_source or source}{conditions}",
        [*source_params, *params],
        rank,
        words,
        complete,
    )


@dataclass(frozen=True)
class From:
    """FROM ... WHERE ... of a search: `sql` for the page, `count_sql` for its count (the same rows
    without the relevance, when the backend can leave it out), and their parameters."""

    sql: str
    count_sql: str
    params: list
    rank: str
    words: list[str]
    complete: bool


_ORDER = {
    Sort.DEADLINE: "e.bids_deadline ASC, e.consultation_id ASC",
    Sort.PUBLISHED: "e.published_at DESC, e.consultation_id DESC",
}
# Highest value first, consultations without a value last (SQLite sorts NULL lowest, PostgreSQL highest).
_ORDER_VALUE = {
    "postgresql": "e.estimated_value DESC NULLS LAST, e.consultation_id DESC",
    "sqlite": "e.estimated_value DESC, e.consultation_id DESC",
}
_FIELDS = (
    "consultation",
    "reference",
    "title",
    "buyer_name",
    "buyer_slug",
    "procedure",
    "contract_type",
    "department",
    "commune",
    "estimated_value",
    "state",
    "published_at",
    "bids_deadline",
)
_COLUMNS = ", ".join(f"e.{SearchEntry._meta.get_field(name).column}" for name in _FIELDS)


def _rows(sql: str, params: list) -> list[list]:
    """The rows of a search's page, each value converted as Django converts the model's fields (the same
    converters as `SearchEntry.objects.raw()`, without building a model instance per row)."""
    compiler = SearchEntry.objects.all().query.get_compiler(connection=connection)
    table = SearchEntry._meta.db_table
    converters = compiler.get_converters([SearchEntry._meta.get_field(name).get_col(table) for name in _FIELDS])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    return list(compiler.apply_converters(found, converters)) if converters else [list(row) for row in found]


def _page_rows(from_where: str, params: list, order: str, limit: int, offset: int) -> list[list]:
    """The rows of a page. SQLite finds the page's ids first, on the search indexes that carry every
    filter (search.backends), then reads those rows only: ordering the window of a keyword search (2,000
    matches) with every column of every row would read 2,000 table rows for 21."""
    if not backend().page_ids_first:
        return _rows(f"SELECT {_COLUMNS} {from_where} ORDER BY {order} LIMIT %s OFFSET %s", [*params, limit, offset])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.consultation_id {from_where} ORDER BY {order} LIMIT %s OFFSET %s", [*params, limit, offset]
        )
        ids = [row[0] for row in cursor.fetchall()]
    if not ids:
        return []
    found = _rows(
        f"SELECT {_COLUMNS} FROM {T_ENTRY} e WHERE e.consultation_id IN ({', '.join(['%s'] * len(ids))})",  # noqa: S608
        ids,
    )
    position = {pk: index for index, pk in enumerate(ids)}
    return sorted(found, key=lambda row: position[row[0]])


def _count(from_where: str, params: list) -> int:
    """The number of results, up to COUNT_CAP + 1."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT 1 {from_where} LIMIT %s) AS capped",  # noqa: S608
            [*params, COUNT_CAP + 1],
        )
        return cursor.fetchone()[0]


def _count_walking(criteria: Criteria, now: dt.datetime, order: str, by_index_order: bool) -> int | None:
    """The capped count of a CPV search without keywords on PostgreSQL, by walking the page's index
    (in the page's order, through the other filters) at most WALK_BUDGET rows and testing the CPV
    lexeme on each; None when that is not enough to know the count.

    The planner would otherwise combine a bitmap of every match of the CPV lexeme (GIN) with a bitmap
    of every row of the other filters (a department: 90,000 open consultations at 1M) to count 201 of
    them, which costs far more than reading a few thousand rows in order as the page did."""
    if connection.vendor != "postgresql":
        return None
    found = _sql(replace(criteria, cpv=""), now, ranked=False, by_index_order=by_index_order)
    from_where, params = found.count_sql, found.params
    condition, values = backend().cpv_condition(cpv_prefix(criteria.cpv))
    # The walk stops at the 201st match (the outer LIMIT), or at the budget's last row (kept as a marker).
    walked = f"SELECT ({condition}) AS hit {from_where} ORDER BY {order} LIMIT %s"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FILTER (WHERE hit), COALESCE(BOOL_OR(n = %s), FALSE) FROM ("  # noqa: S608
            f"SELECT hit, n FROM (SELECT hit, row_number() OVER () AS n FROM ({walked}) AS w) AS numbered "
            "WHERE hit OR n = %s LIMIT %s) AS found",
            [WALK_BUDGET, *values, *params, WALK_BUDGET, WALK_BUDGET, COUNT_CAP + 1],
        )
        hits, budget_spent = cursor.fetchone()
    if hits > COUNT_CAP:
        return COUNT_CAP + 1
    return None if budget_spent else hits


def search(criteria: Criteria, *, page: int = 1, per_page: int = PER_PAGE, count: bool = True) -> Page:
    """One page of public consultations matching `criteria`. `page` beyond the last gives no results
    (Page.out_of_range tells); pages beyond MAX_PAGES are refused by the caller (forms)."""
    now = clock.now()
    sort = criteria.effective_sort()
    ranked = sort == Sort.RELEVANCE
    words = text.query_words(criteria.q)
    total: int | None = None
    by_index_order = sort in (Sort.PUBLISHED, Sort.VALUE)
    if words:  # the window first; with 200 results or fewer in it, every match (see the module's docstring)
        found = _sql(criteria, now, ranked=ranked, window=WINDOW, by_index_order=by_index_order)
        total = _count(found.count_sql, found.params)
        if total <= COUNT_CAP and not found.complete:  # the window did not hold every match: search them all
            total = None
            found = _sql(criteria, now, ranked=ranked, by_index_order=by_index_order)
    else:
        found = _sql(criteria, now, ranked=ranked, by_index_order=by_index_order)
    # Sorted otherwise than by relevance, the page does not compute it either.
    from_where, params, rank, words = (
        found.sql if found.rank else found.count_sql,
        found.params,
        found.rank,
        found.words,
    )
    if sort == Sort.VALUE:
        order = _ORDER_VALUE[connection.vendor]
    elif rank:
        order = f"{rank}, e.bids_deadline ASC, e.consultation_id ASC"
    else:
        order = _ORDER[sort]
    offset = (page - 1) * per_page
    url = consultation_url_template()
    rows = _page_rows(from_where, params, order, per_page + 1, offset)
    more = len(rows) > per_page
    results = [Result(*row, url=url.format(pk=row[0])) for row in rows[:per_page]]
    if not count:
        total = 0
    elif total is None:
        if offset == 0 and not more:
            total = len(results)
        else:
            if criteria.cpv and not words:
                total = _count_walking(criteria, now, order, by_index_order)
            if total is None:
                total = _count(found.count_sql, params)
    return Page(results=results, number=page, count=total, per_page=per_page, sort=sort, words=words, more=more)


def index_stamp() -> str:
    """What a page of results depends on besides its criteria, in one cheap query: the index's version
    (raised by every write, `search.indexing`) and the next bids deadline to pass among open
    consultations (the moment a result stops being open, leaves the open ones and joins the past ones).
    Two requests with the same stamp and criteria (without "closing within N days", which moves with the
    clock) get the same results."""
    # One fixed statement, prepared by PostgreSQL once per connection (`core.prepared.sql_rows`): planning
    # its two subqueries cost the database server more than running them.
    ((version, next_deadline),) = prepared.sql_rows(
        _INDEX_STAMP_SQL, [State.PUBLISHED, connection.ops.adapt_datetimefield_value(clock.now())]
    )
    return f"{version or 0}:{next_deadline}"


_INDEX_STAMP_SQL = (
    "SELECT (SELECT version FROM search_indexversion WHERE id = 1), "
    "(SELECT MIN(bids_deadline) FROM search_searchentry WHERE state = %s AND bids_deadline > %s)"
)


def buyer_for_slug(slug: str):
    """The public buyer with this slug, or None (companies and the platform have no public page)."""
    from ebourgogne.organisations.models import Organisation
    from ebourgogne.organisations.roles import OrganisationKind

    return Organisation.objects.filter(slug=slug, kind=OrganisationKind.BUYER, is_active=True).first()


def cpv_exists(code: str) -> bool:
    from ebourgogne.consultations.models import CpvCode

    return CpvCode.objects.filter(code=code).exists()


def sitemap_consultation_ids(chunk: int, size: int) -> list[tuple[int, dt.datetime]]:
    """Ids (and last change) of the indexed consultations with id in [chunk * size, (chunk + 1) * size)."""
    return list(
        SearchEntry.objects.filter(consultation_id__gte=chunk * size, consultation_id__lt=(chunk + 1) * size)
        .order_by("consultation_id")
        .values_list("consultation_id", "indexed_at")
    )


def sitemap_chunks(size: int) -> int:
    last = SearchEntry.objects.order_by("-consultation_id").values_list("consultation_id", flat=True).first()
    return 0 if last is None else last // size + 1


def sitemap_buyers() -> list[str]:
    """Slugs of the buyers with at least one public consultation."""
    return sorted(set(SearchEntry.objects.values_list("buyer_slug", flat=True).distinct()))
