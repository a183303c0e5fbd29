"""Percolation: which alerts does a consultation match, without evaluating every alert.

The semantics are the portal search's (search.selectors.search with state "open"), criterion by
criterion; an alert holds several values per criterion (any of them), and the criteria all apply:
- open: state "published" and bids deadline after now;
- departments, buyers (slugs), procedures, contract types: the index row's value is one of the alert's;
- CPV codes: the consultation or one of its lots has a code (consultations_consultationcpv) starting with
  the significant digits (consultations.models.cpv_prefix) of one of the alert's codes: the subtree;
- keywords: every word of the query (search.text.query_words: stop words dropped, at most 12 words) is
  in the consultation's full-text document (title, object, lots, buyer, commune, main CPV label), as the
  database's full-text index spells it:
  - SQLite: the FTS5 row holds the words folded and stemmed by search.text.stem; a word matches when its
    stem is one of the row's tokens (FTS5's unicode61 tokenizer splits the stored text on spaces when it
    is ASCII; for a row or a term with other characters the verification asks FTS5 itself);
  - PostgreSQL: the alert's terms are the lexemes of `to_tsvector('ebourgogne_fr', search_fold(words))`
    (computed when the alert is saved: the same parser and dictionaries as the portal's plainto_tsquery)
    and the consultation's are those of its `document` tsvector; a query whose words are all stop words
    for PostgreSQL has no lexeme and finds nothing on the portal: such an alert matches nothing either;
- estimated value: within [min, max]; a consultation without a value never matches a range.

The inverted index (`AlertKey`): each active alert is filed under a few keys built from at most two of
its criteria (see `_anchor`: buyer, then CPV code or keyword, then department, procedure, contract
type): "c:452|d:21" for an alert on CPV 45200000 in the Côte-d'Or (one key per pair of values),
"k:ecol" for an alert on keywords only (one of its terms, the longest: every term is required, so one
is enough to find it), "*" for an alert on a value range only. A consultation computes every key it
could satisfy (each value of each criterion, the ancestors of its CPV codes, and the pairs of PAIRS)
and reads the alerts filed under those keys in one indexed query: those are the candidates, a superset
of the matches, each then verified exactly as above.

Deliberate limits: keywords are matched in Latin script (letters with or without accents, digits);
for other scripts the candidates may miss an alert filed under a keyword (verification stays exact).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django_scopes import scopes_disabled

from ebourgogne.consultations.models import ConsultationCpv, State, cpv_prefix
from ebourgogne.core import clock
from ebourgogne.search import text
from ebourgogne.search.backends import FTS_TABLE, T_ENTRY
from ebourgogne.search.models import SearchEntry

# Criteria in the order in which they anchor an alert (most selective first).
ORDER = ("b", "c", "k", "d", "p", "t")
ANY = "*"
CHUNK = 2000  # keys per query
_SYSTEM_LEXEMES = ("cpv_", "idb_")  # PostgreSQL: lexemes of the index that no user word produces


def keyword_terms(q: str) -> list[str]:
    """The alert's keywords as the database's full-text index spells them (empty: no keyword, or, on
    PostgreSQL, only words its French configuration ignores)."""
    words = text.query_words(q)
    if not words:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT tsvector_to_array(to_tsvector('ebourgogne_fr', search_fold(%s)))", [" ".join(words)])
            return sorted(cursor.fetchone()[0] or [])
    found: list[str] = []
    for word in words:
        stem = text.stem(word)
        if stem not in found:
            found.append(stem)
    return found


@dataclass(slots=True)
class Compiled:
    """An alert's criteria, ready to verify (treated as read-only once built)."""

    id: int
    departments: frozenset
    buyers: frozenset
    procedures: frozenset
    contract_types: frozenset
    cpv_prefixes: tuple
    has_words: bool
    terms: tuple
    value_min: Decimal | None
    value_max: Decimal | None
    ascii_terms: bool = field(init=False, compare=False)

    def __post_init__(self) -> None:
        self.ascii_terms = "".join(self.terms).isascii()


ALERT_FIELDS = (
    "id",
    "departments",
    "buyers",
    "procedures",
    "contract_types",
    "cpv_codes",
    "q",
    "terms",
    "value_min",
    "value_max",
)


_JSON_FIELDS = frozenset({"departments", "buyers", "procedures", "contract_types", "cpv_codes", "terms"})


def _plain(name: str, value):
    """A column read with a plain cursor: JSON is text on SQLite, already decoded on PostgreSQL."""
    if name in _JSON_FIELDS and isinstance(value, str):
        return json.loads(value)
    return value


def compile_row(row) -> Compiled:
    pk, departments, buyers, procedures, contract_types, cpv_codes, q, terms, value_min, value_max = row
    prefixes = sorted({cpv_prefix(code) for code in cpv_codes or []})
    return Compiled(
        id=pk,
        departments=frozenset(departments or ()),
        buyers=frozenset(buyers or ()),
        procedures=frozenset(procedures or ()),
        contract_types=frozenset(contract_types or ()),
        cpv_prefixes=tuple(prefixes),
        has_words=bool(terms) or bool(q and text.query_words(q)),
        terms=tuple(terms or ()),
        value_min=None if value_min is None else Decimal(str(value_min)),
        value_max=None if value_max is None else Decimal(str(value_max)),
    )


def compile_alert(alert) -> Compiled:
    return compile_row(tuple(getattr(alert, name) for name in ALERT_FIELDS))


# The precompiled criteria (`Alert.compiled`): the alert's criteria normalised once, when the alert is saved
# (services), so that percolation reads one column and builds no prefix nor term again. A row whose
# version differs (or empty: written before the column existed) is compiled from its criteria columns.
COMPILED_VERSION = 1


def precompile(alert) -> dict:
    """The value of `Alert.compiled` for the alert's current criteria (its `terms` already computed)."""
    compiled = compile_alert(alert)
    dims, keys = anchor(compiled)
    rest = residual(compiled, dims)
    return {
        "v": COMPILED_VERSION,
        **_data(compiled),
        # The anchor (criteria and keys) as filed at the same time in `AlertKey` (services.index_alert), and
        # what remains to verify on a consultation found under one of these keys (null: nothing).
        "a": list(dims),
        "keys": keys,
        "r": None if rest is None else _data(rest),
    }


def _data(compiled: Compiled) -> dict:
    return {
        "d": sorted(compiled.departments),
        "b": sorted(compiled.buyers),
        "p": sorted(compiled.procedures),
        "t": sorted(compiled.contract_types),
        "c": list(compiled.cpv_prefixes),
        "w": compiled.has_words,
        "k": list(compiled.terms),
        "lo": None if compiled.value_min is None else str(compiled.value_min),
        "hi": None if compiled.value_max is None else str(compiled.value_max),
    }


def from_precompiled(pk: int, data) -> Compiled | None:
    """The Compiled of a stored `Alert.compiled` value (text or decoded), or None when it must be compiled
    again."""
    if isinstance(data, str):
        data = json.loads(data)
    if not isinstance(data, dict) or data.get("v") != COMPILED_VERSION:
        return None
    return _from_data(pk, data)


def _from_data(pk: int, data: dict) -> Compiled:
    low, high = data["lo"], data["hi"]
    return Compiled(
        id=pk,
        departments=frozenset(data["d"]),
        buyers=frozenset(data["b"]),
        procedures=frozenset(data["p"]),
        contract_types=frozenset(data["t"]),
        cpv_prefixes=tuple(data["c"]),
        has_words=data["w"],
        terms=tuple(data["k"]),
        value_min=None if low is None else Decimal(low),
        value_max=None if high is None else Decimal(high),
    )


# Pairs of criteria a key may combine: one of them is the buyer or the department (single values on a
# consultation, and selective), so a consultation has a few hundred keys, not thousands (its CPV
# ancestors times its words would be).
PAIRS = (
    ("b", "c"),
    ("b", "d"),
    ("b", "p"),
    ("b", "t"),
    ("c", "d"),
    ("k", "d"),
    ("d", "p"),
    ("d", "t"),
)
_PAIRS = frozenset(PAIRS)


def _anchor_values(alert: Compiled) -> dict[str, list[str]]:
    values = {
        "b": sorted(alert.buyers),
        "c": list(alert.cpv_prefixes),
        # One term is enough (all are required); the longest, usually the rarest; Latin script only.
        "k": [max(alert.terms, key=lambda term: (len(term), term))] if alert.terms and alert.ascii_terms else [],
        "d": sorted(alert.departments),
        "p": sorted(alert.procedures),
        "t": sorted(alert.contract_types),
    }
    return {dim: values[dim] for dim in ORDER if values[dim]}


def _anchor(values: dict[str, list[str]]) -> list[str]:
    """The one or two criteria an alert is filed under: the buyer first; else a CPV code or a keyword (a
    keyword when the CPV codes are only divisions or groups, which hold many consultations); then the
    most selective of the single-valued criteria (department, procedure, contract type)."""
    present = list(values)
    if "c" in values and "k" in values:
        shallow = min(len(prefix) for prefix in values["c"]) < 4
        present.remove("c" if shallow else "k")
    first = present[0]
    for second in present[1:]:
        if (first, second) in _PAIRS:
            return [first, second]
    return [first]


def anchor(alert: Compiled) -> tuple[tuple[str, ...], list[str]]:
    """The criteria the alert is filed under and its keys (see the module's docstring)."""
    if alert.has_words and not alert.terms:
        return (), []  # never matches (see the module's docstring): filed under no key
    values = _anchor_values(alert)
    if not values:
        return (), [ANY]
    dims = _anchor(values)
    if len(dims) == 1:
        return (dims[0],), [f"{dims[0]}:{value}" for value in values[dims[0]]]
    first, second = dims
    return (first, second), [f"{first}:{a}|{second}:{b}" for a in values[first] for b in values[second]]


def alert_keys(alert: Compiled) -> list[str]:
    """The keys under which the alert is filed (see the module's docstring)."""
    return anchor(alert)[1]


def residual(alert: Compiled, dims: tuple[str, ...]) -> Compiled | None:
    """What remains to verify of the alert on a consultation that has one of its keys (`dims`, from
    `anchor`): such a consultation satisfies the anchored criteria (its buyer, department, procedure or
    contract type is one of the alert's; one of its CPV codes is in the subtree of one of the alert's; it
    holds the anchored keyword), so they are left out. None: nothing left, the alert matches any open
    consultation that has one of its keys."""
    if not dims:
        return alert
    terms = alert.terms
    if "k" in dims:
        anchored = max(terms, key=lambda term: (len(term), term))
        terms = tuple(term for term in terms if term != anchored)
    rest = Compiled(
        id=alert.id,
        departments=frozenset() if "d" in dims else alert.departments,
        buyers=frozenset() if "b" in dims else alert.buyers,
        procedures=frozenset() if "p" in dims else alert.procedures,
        contract_types=frozenset() if "t" in dims else alert.contract_types,
        cpv_prefixes=() if "c" in dims else alert.cpv_prefixes,
        has_words=bool(terms),
        terms=terms,
        value_min=alert.value_min,
        value_max=alert.value_max,
    )
    if not (
        rest.departments
        or rest.buyers
        or rest.procedures
        or rest.contract_types
        or rest.cpv_prefixes
        or rest.has_words
        or rest.value_min is not None
        or rest.value_max is not None
    ):
        return None
    return rest


@dataclass(frozen=True)
class Facts:
    """What the verification needs of a consultation, read from the search index."""

    id: int
    state: str
    bids_deadline: dt.datetime
    department: str
    buyer_slug: str
    procedure: str
    contract_type: str
    estimated_value: Decimal | None
    cpv_codes: tuple
    terms: frozenset
    ascii_text: bool = True

    def values(self) -> dict[str, list[str]]:
        prefixes = sorted({code[:n] for code in self.cpv_codes for n in range(2, 9)})
        return {
            "b": [self.buyer_slug] if self.buyer_slug else [],
            "c": prefixes,
            "k": sorted(self.terms),
            "d": [self.department] if self.department else [],
            "p": [self.procedure] if self.procedure else [],
            "t": [self.contract_type] if self.contract_type else [],
        }

    def keys(self) -> list[str]:
        """Every key under which an alert this consultation may match is filed."""
        values = self.values()
        keys = [ANY]
        for dim in ORDER:
            keys += [f"{dim}:{value}" for value in values[dim]]
        for first, second in PAIRS:
            keys += [f"{first}:{a}|{second}:{b}" for a in values[first] for b in values[second]]
        return keys


def load_facts(consultation_ids: Iterable[int]) -> dict[int, Facts]:
    """The facts of the indexed consultations among `consultation_ids` (those not in the index are left
    out: drafts, practice consultations, withdrawn ones). Public data: read without a tenant scope."""
    with scopes_disabled():
        return _load_facts(consultation_ids)


def _load_facts(consultation_ids: Iterable[int]) -> dict[int, Facts]:
    ids = sorted(set(consultation_ids))
    if not ids:
        return {}
    rows = {}
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        rows.update(
            (row[0], row)
            for row in SearchEntry.objects.filter(consultation_id__in=part).values_list(
                "consultation_id",
                "state",
                "bids_deadline",
                "department",
                "buyer_slug",
                "procedure",
                "contract_type",
                "estimated_value",
            )
        )
    codes: dict[int, set[str]] = {}
    terms: dict[int, frozenset] = {}
    ascii_text: dict[int, bool] = {}
    found = sorted(rows)
    for start in range(0, len(found), CHUNK):
        part = found[start : start + CHUNK]
        for consultation_id, code in ConsultationCpv.objects.filter(consultation_id__in=part).values_list(
            "consultation_id", "cpv_id"
        ):
            codes.setdefault(consultation_id, set()).add(code)
        marks = ", ".join(["%s"] * len(part))
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"SELECT consultation_id, tsvector_to_array(document) FROM {T_ENTRY} "  # noqa: S608
                    f"WHERE consultation_id IN ({marks})",
                    part,
                )
                for consultation_id, lexemes in cursor.fetchall():
                    terms[consultation_id] = frozenset(
                        lexeme for lexeme in lexemes or () if not lexeme.startswith(_SYSTEM_LEXEMES)
                    )
            else:
                cursor.execute(
                    f"SELECT rowid, title, object, other FROM {FTS_TABLE} WHERE rowid IN ({marks})",  # noqa: S608
                    part,
                )
                for consultation_id, title, obj, other in cursor.fetchall():
                    stored = f"{title or ''} {obj or ''} {other or ''}"
                    terms[consultation_id] = frozenset(stored.split())
                    ascii_text[consultation_id] = stored.isascii()
    facts = {}
    for consultation_id, row in rows.items():
        _, state, deadline, department, buyer_slug, procedure, contract_type, value = row
        facts[consultation_id] = Facts(
            id=consultation_id,
            state=state,
            bids_deadline=deadline,
            department=department or "",
            buyer_slug=buyer_slug or "",
            procedure=procedure or "",
            contract_type=contract_type or "",
            estimated_value=None if value is None else Decimal(value),
            cpv_codes=tuple(sorted(codes.get(consultation_id, ()))),
            terms=terms.get(consultation_id, frozenset()),
            ascii_text=ascii_text.get(consultation_id, True),
        )
    return facts


def _fts_match(consultation_id: int, terms: tuple) -> bool:
    """SQLite: ask FTS5 whether the row holds every term (the portal's own query), for text outside ASCII."""
    expression = " ".join(f'"{term}"' for term in terms)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND rowid = %s",  # noqa: S608
            [expression, consultation_id],
        )
        return cursor.fetchone() is not None


def verify(alert: Compiled, facts: Facts, now: dt.datetime) -> bool:
    """Exactly the portal search's answer for this alert's criteria on this consultation."""
    if facts.state != State.PUBLISHED or not facts.bids_deadline > now:
        return False
    if alert.departments and facts.department not in alert.departments:
        return False
    if alert.buyers and facts.buyer_slug not in alert.buyers:
        return False
    if alert.procedures and facts.procedure not in alert.procedures:
        return False
    if alert.contract_types and facts.contract_type not in alert.contract_types:
        return False
    if alert.value_min is not None and (facts.estimated_value is None or facts.estimated_value < alert.value_min):
        return False
    if alert.value_max is not None and (facts.estimated_value is None or facts.estimated_value > alert.value_max):
        return False
    if alert.cpv_prefixes and not any(
        code.startswith(prefix) for code in facts.cpv_codes for prefix in alert.cpv_prefixes
    ):
        return False
    if alert.has_words:
        if not alert.terms:
            return False
        if connection.vendor == "sqlite" and not (facts.ascii_text and alert.ascii_terms):
            return _fts_match(facts.id, alert.terms)
        if not all(term in facts.terms for term in alert.terms):
            return False
    return True


EXACT, CHECK, PENDING = 0, 1, 2  # the three sets of a posting (see Index)
_GONE = (None, None, False, frozenset())  # an alert paused or deleted since the index was built


class Index:
    """The inverted index of the active alerts in memory, for a batch of consultations.

    Built in one query that reads no alert: the database groups the `AlertKey` rows by key along their
    (key, alert) index and returns each key's alert ids as one text; a key's list is split when a
    consultation first has that key. The alerts met as candidates are then read in one query per
    consultation, and only what the batch needs of them (a fraction of the alerts): their current keys and
    the residual of their precompiled criteria (`Alert.compiled`: what a consultation found under one of
    these keys still has to satisfy); alerts with the same residual share one parsed value. An alert is
    a candidate of a consultation only when one of its current keys is one of the consultation's (an alert
    changed or paused during the batch is read as it is now, never on keys it no longer has). Each posting
    is split into three sets: sure (nothing to verify), to verify (`rest_holds` on the residual, or
    `verify` of the whole alert for keywords outside ASCII on SQLite), pending (not read yet). Rows without
    an up-to-date precompiled value are compiled from their criteria columns."""

    def __init__(self, lists: dict[str, str], size: int) -> None:
        self.lists = lists  # key -> ids, comma-separated, as the database grouped them
        self.count = size
        self.alerts: dict[int, Compiled] = {}  # whole criteria, read when needed (see `full`)
        self.postings: dict[str, tuple[set[int], set[int], set[int]]] = {}  # made on first use of a key
        # id -> (whole criteria or None, residual or None, verify whole, current keys)
        self.ready: dict[int, tuple[Compiled | None, Compiled | None, bool, frozenset]] = {}
        self.rests: dict[str, Compiled] = {}  # residuals by their stored text

    def _posting(self, key: str) -> tuple[set[int], set[int], set[int]] | None:
        joined = self.lists.get(key)
        if not joined:
            return None
        posting: tuple[set[int], set[int], set[int]] = (set(), set(), set())
        ready = self.ready
        for pk in map(int, joined.split(",")):
            entry = ready.get(pk)
            if entry is None:
                posting[PENDING].add(pk)
            elif key in entry[3]:
                posting[EXACT if entry[1] is None and not entry[2] else CHECK].add(pk)
        self.postings[key] = posting
        return posting

    @property
    def size(self) -> int:
        return self.count

    @classmethod
    def build(cls) -> Index:
        from ebourgogne.alerts.models import Alert, AlertKey

        keys = AlertKey._meta.db_table
        if connection.vendor == "postgresql":
            sql = f"SELECT key, string_agg(alert_id::text, ',') FROM {keys} GROUP BY key"  # noqa: S608
        else:
            sql = f"SELECT key, group_concat(alert_id) FROM {keys} GROUP BY key"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql)
            lists = dict(cursor.fetchall())
        return cls(lists, Alert.objects.filter(is_active=True).count())

    def prepare(self, pks: Iterable[int]) -> None:
        """Read the alerts `pks` not read yet (see the class): their keys, what remains to verify once one
        of them is found (None: nothing), and whether to verify the whole alert instead (`verify`):
        keywords outside ASCII on SQLite (FTS5 decides). Each then moves from its postings' pending set to
        their sure or their verified set; an alert no longer active is filed nowhere."""
        from ebourgogne.alerts.models import Alert

        todo = sorted(pk for pk in set(pks) if pk not in self.ready)
        if not todo:
            return
        alerts, version = Alert._meta.db_table, int(COMPILED_VERSION)
        if connection.vendor == "postgresql":
            fresh = (
                f"COALESCE(a.compiled->>'v' = '{version}' AND jsonb_typeof(a.compiled->'keys') = 'array' "
                "AND a.compiled->'r' IS NOT NULL, FALSE)"
            )
            columns = f"a.id, a.compiled->>'keys', a.compiled->>'r', {fresh}"
        else:
            fresh = (
                f"COALESCE(json_extract(a.compiled, '$.v') = {version} AND json_type(a.compiled, '$.keys') = 'array' "
                "AND json_type(a.compiled, '$.r') IS NOT NULL, 0)"
            )
            columns = f"a.id, json_extract(a.compiled, '$.keys'), json_extract(a.compiled, '$.r'), {fresh}"
        read: list[tuple[int, list[str], Compiled | None]] = []
        stale: list[int] = []
        rests = self.rests
        with connection.cursor() as cursor:
            for start in range(0, len(todo), CHUNK):
                part = todo[start : start + CHUNK]
                marks = ", ".join(["%s"] * len(part))
                cursor.execute(f"SELECT {columns} FROM {alerts} a WHERE a.is_active AND a.id IN ({marks})", part)  # noqa: S608
                for pk, keys, rest_text, is_fresh in cursor.fetchall():
                    if not is_fresh:
                        stale.append(pk)
                        continue
                    if rest_text is None:
                        rest = None
                    else:
                        rest = rests.get(rest_text)
                        if rest is None:
                            rest = rests[rest_text] = _from_data(0, json.loads(rest_text))
                    read.append((pk, json.loads(keys), rest))
        for start in range(0, len(stale), CHUNK):
            rows = Alert.objects.filter(pk__in=stale[start : start + CHUNK], is_active=True).values_list(*ALERT_FIELDS)
            for row in rows:
                alert = self.alerts[row[0]] = compile_row(row)
                dims, keys = anchor(alert)
                read.append((alert.id, keys, residual(alert, dims)))
        sqlite = connection.vendor == "sqlite"
        self.full([pk for pk, _keys, rest in read if rest is not None and sqlite and not rest.ascii_terms])
        ready, postings = self.ready, self.postings
        for pk in todo:
            ready[pk] = _GONE
        for pk, keys, rest in read:
            whole = rest is not None and sqlite and not rest.ascii_terms
            ready[pk] = (self.alerts.get(pk) if whole else None, rest, whole, frozenset(keys))
            exact = rest is None and not whole
            for key in keys:
                posting = postings.get(key)
                if posting is None:
                    continue  # not made yet: it will file the alert where it belongs
                posting[PENDING].discard(pk)
                posting[EXACT if exact else CHECK].add(pk)

    def full(self, pks: Iterable[int]) -> dict[int, Compiled]:
        """All the criteria of the alerts `pks` (for `verify`), read once."""
        missing = sorted(set(pks) - self.alerts.keys())
        for start in range(0, len(missing), CHUNK):
            part = missing[start : start + CHUNK]
            marks = ", ".join(["%s"] * len(part))
            self.alerts.update(_read_compiled(f"is_active AND id IN ({marks})", part))
        return self.alerts

    def candidates(self, facts: Facts) -> tuple[set[int], set[int], set[int], list[str]]:
        """The consultation's candidates: those that match for sure (their key says it all), those to
        verify, those not read yet; and the consultation's keys."""
        postings = self.postings
        exact: set[int] = set()
        check: set[int] = set()
        pending: set[int] = set()
        keys = facts.keys()
        for key in keys:
            posting = postings.get(key) or self._posting(key)
            if posting:
                exact |= posting[EXACT]
                check |= posting[CHECK]
                pending |= posting[PENDING]
        return exact, check, pending, keys


def _columns(pk: int) -> tuple:
    from ebourgogne.alerts.models import Alert

    return Alert.objects.filter(pk=pk).values_list(*ALERT_FIELDS).get()


def _read_compiled(where: str, params: list) -> dict[int, Compiled]:
    """The alerts of `where` (SQL on the alerts table), from their precompiled criteria; the rows without
    an up-to-date value are compiled from their criteria columns."""
    from ebourgogne.alerts.models import Alert

    table = Alert._meta.db_table
    found: dict[int, Compiled] = {}
    stale: list[int] = []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, compiled FROM {table} WHERE {where}", params)  # noqa: S608
        for pk, data in cursor.fetchall():
            compiled = from_precompiled(pk, data)
            if compiled is None:
                stale.append(pk)
            else:
                found[pk] = compiled
    for start in range(0, len(stale), CHUNK):
        rows = Alert.objects.filter(pk__in=stale[start : start + CHUNK]).values_list(*ALERT_FIELDS)
        found.update((row[0], compile_row(row)) for row in rows)
    return found


INDEX_BATCH = 20  # consultations from which a batch builds the index in memory rather than asking the database


def rest_holds(rest: Compiled, facts: Facts) -> bool:
    """`verify` of a residual (see `residual`) on an open consultation (checked once for all candidates),
    its keywords in ASCII or on PostgreSQL (else `verify` itself is used): the same tests, in the same
    order, without what was decided once per consultation."""
    if rest.departments and facts.department not in rest.departments:
        return False
    if rest.buyers and facts.buyer_slug not in rest.buyers:
        return False
    if rest.procedures and facts.procedure not in rest.procedures:
        return False
    if rest.contract_types and facts.contract_type not in rest.contract_types:
        return False
    value = facts.estimated_value
    if rest.value_min is not None and (value is None or value < rest.value_min):
        return False
    if rest.value_max is not None and (value is None or value > rest.value_max):
        return False
    if rest.cpv_prefixes and not any(code.startswith(rest.cpv_prefixes) for code in facts.cpv_codes):
        return False
    if rest.terms:
        terms = facts.terms
        for term in rest.terms:
            if term not in terms:
                return False
    return True


class Percolator:
    """Matches consultations against the active alerts; keeps what it loaded (one run, or a bench).

    Two paths, the same answer: for a few consultations (the task run after each publication or change),
    the candidates are read from the `AlertKey` table and their precompiled criteria loaded; for a batch
    (`INDEX_BATCH` consultations or more, or `mode="index"`), the index of every active alert is built once
    in memory (`Index`) and each consultation's candidates are found there without the database."""

    def __init__(self, mode: str = "auto") -> None:
        if mode not in ("auto", "index", "database"):
            raise ValueError(mode)
        self.mode = mode
        self.index: Index | None = None
        self.index_seconds = 0.0
        self.compiled: dict[int, Compiled] = {}
        self.candidates_seen = 0

    def candidates(self, facts: Facts) -> set[int]:
        """The ids of the alerts filed under one of the consultation's keys (plain SQL: this runs for every
        consultation published or changed, with a few hundred keys)."""
        from ebourgogne.alerts.models import AlertKey

        table = AlertKey._meta.db_table
        keys = facts.keys()
        found: set[int] = set()
        with connection.cursor() as cursor:
            for start in range(0, len(keys), CHUNK):
                part = keys[start : start + CHUNK]
                marks = ", ".join(["%s"] * len(part))
                cursor.execute(f"SELECT alert_id FROM {table} WHERE key IN ({marks})", part)  # noqa: S608
                found.update(row[0] for row in cursor.fetchall())
        return found

    def _load(self, alert_ids: set[int]) -> None:
        missing = sorted(alert_ids - self.compiled.keys())
        for start in range(0, len(missing), CHUNK):
            part = missing[start : start + CHUNK]
            marks = ", ".join(["%s"] * len(part))
            self.compiled.update(_read_compiled(f"is_active AND id IN ({marks})", part))

    def _match_database(self, facts: Facts, now: dt.datetime) -> list[int]:
        candidates = self.candidates(facts)
        self.candidates_seen += len(candidates)
        self._load(candidates)
        return sorted(pk for pk in candidates if pk in self.compiled and verify(self.compiled[pk], facts, now))

    def _match_index(self, facts: Facts, now: dt.datetime) -> list[int]:
        index = self.index
        ready = index.ready
        exact, check, pending, keys = index.candidates(facts)
        if pending:
            index.prepare(pending)
            mine = set(keys)
            for pk in pending:
                alert, rest, whole, its_keys = ready[pk]
                if its_keys.isdisjoint(mine):
                    continue  # paused, or changed since the index was built: not under these keys now
                (exact if rest is None and not whole else check).add(pk)
        self.candidates_seen += len(exact) + len(check)
        if connection.vendor == "sqlite" and not facts.ascii_text:
            # Text outside ASCII on SQLite: the keyword anchor is no guarantee there (FTS5 decides): verify all.
            alerts = index.full(exact | check)
            return sorted(pk for pk in exact | check if pk in alerts and verify(alerts[pk], facts, now))
        found = list(exact)
        # Alerts with the same residual share one parsed value: each residual is checked once here.
        holds: dict[int, bool] = {}
        for pk in check:
            alert, rest, whole, _keys = ready[pk]
            if whole:
                if verify(alert, facts, now):
                    found.append(pk)
                continue
            same = id(rest)
            ok = holds.get(same)
            if ok is None:
                ok = holds[same] = rest_holds(rest, facts)
            if ok:
                found.append(pk)
        found.sort()
        return found

    def match(self, consultation_ids: Iterable[int], *, now: dt.datetime | None = None) -> dict[int, list[int]]:
        """{consultation id: sorted ids of the active alerts it matches} for the indexed consultations."""
        now = now or clock.now()
        result: dict[int, list[int]] = {}
        facts_of = load_facts(consultation_ids)
        live = [
            facts
            for _pk, facts in sorted(facts_of.items())
            if facts.state == State.PUBLISHED and facts.bids_deadline > now
        ]
        if self.index is None and live and (self.mode == "index" or (self.mode == "auto" and len(live) >= INDEX_BATCH)):
            started = time.perf_counter()
            self.index = Index.build()
            self.index_seconds = time.perf_counter() - started
        for consultation_id in facts_of:
            result[consultation_id] = []  # closed or not published: matches no alert
        for facts in live:
            if self.index is not None:
                result[facts.id] = self._match_index(facts, now)
            else:
                result[facts.id] = self._match_database(facts, now)
        return dict(sorted(result.items()))


def percolate(consultation_ids: Iterable[int], *, now: dt.datetime | None = None) -> dict[int, list[int]]:
    return Percolator().match(consultation_ids, now=now)


def active_alerts() -> list[Compiled]:
    from ebourgogne.alerts.models import Alert

    return [compile_row(row) for row in Alert.objects.filter(is_active=True).order_by("pk").values_list(*ALERT_FIELDS)]


def naive(
    consultation_ids: Iterable[int], *, now: dt.datetime | None = None, alerts: list[Compiled] | None = None
) -> dict[int, list[int]]:
    """The same answer as `percolate`, by verifying every active alert against every consultation (the
    reference of the tests and the benchmark)."""
    now = now or clock.now()
    alerts = active_alerts() if alerts is None else alerts
    return {
        consultation_id: [alert.id for alert in alerts if verify(alert, facts, now)]
        for consultation_id, facts in sorted(load_facts(consultation_ids).items())
    }
