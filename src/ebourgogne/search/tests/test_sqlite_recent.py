"""The embedded SQLite's search structures (search.backends.SqliteBackend, migration 0009): the full-text
tables of the two newest blocks of ids, the CPV codes of each index row, and the search indexes that carry
every filter. Blocks are made tiny (RECENT_BITS = 2: 4 ids) so that a few consultations span many."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from ebourgogne.consultations.models import ConsultationCpv
from ebourgogne.search import backends, indexing, selectors
from ebourgogne.search.models import SearchEntry
from ebourgogne.search.selectors import Criteria, StateFilter, search
from ebourgogne.search.tests.conftest import published

pytestmark = pytest.mark.django_db

sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's own structures (PostgreSQL searches its GIN index)"
)


def _rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _held() -> dict[int, int]:
    return dict(_rows(f"SELECT slot, block FROM {backends.RECENT_BLOCKS}"))  # noqa: S608


def _matches(table: str, word: str) -> set[int]:
    return {row[0] for row in _rows(f"SELECT rowid FROM {table} WHERE {table} MATCH %s", [f'"{word}"'])}  # noqa: S608


def _assert_recent_tables_mirror_the_index(words: list[str]) -> None:
    """Each recent table finds exactly what search_fts finds in the block it holds, for every word."""
    bits = backends.RECENT_BITS
    for slot, block in _held().items():
        table = backends.RECENT_TABLES[slot]
        for word in words:
            expected = {pk for pk in _matches(backends.FTS_TABLE, word) if pk >> bits == block}
            assert _matches(table, word) == expected, (table, block, word)
        # The table's own check of its structures (a 'delete' with another text than the row's would fail it).
        _rows(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")  # noqa: S608


@pytest.fixture
def tiny_blocks(monkeypatch):
    monkeypatch.setattr(backends, "RECENT_BITS", 2)
    indexing.rebuild()  # the recent tables as blocks of 4 ids make them


@sqlite_only
def test_recent_tables_hold_the_two_newest_blocks_and_follow_every_change(tiny_blocks):
    made = [published(title=f"Voirie lot {n}", object="Entretien des chaussées").pk for n in range(11)]
    newest = made[-1] >> 2
    assert sorted(_held().values()) == [newest - 1, newest]
    _assert_recent_tables_mirror_the_index(["voiri", "chaussee", "entretien"])

    # A consultation of a held block changes: out of its recent table with its old text, in with the new.
    changed = made[-2]
    with scopes_disabled():
        from ebourgogne.consultations.models import Consultation

        Consultation.objects.filter(pk=changed).update(title="Éclairage public")
    indexing.index_consultation(changed)
    assert changed in _matches(backends.RECENT_TABLES[(changed >> 2) % 2], "eclairag")
    _assert_recent_tables_mirror_the_index(["voiri", "eclairag", "chaussee"])

    # Removed from the index: from its recent table too.
    indexing.remove_consultation(made[-1])
    assert made[-1] not in _matches(backends.RECENT_TABLES[newest % 2], "voiri")
    _assert_recent_tables_mirror_the_index(["voiri", "eclairag"])

    # An older consultation (not in a recent block) changes: search_fts only, the recent tables untouched.
    indexing.index_consultation(made[0])
    _assert_recent_tables_mirror_the_index(["voiri"])


@sqlite_only
def test_a_new_block_takes_the_table_of_the_oldest_one(tiny_blocks):
    first = [published(title="Voirie").pk for _ in range(9)]
    before = _held()
    more = [published(title="Voirie").pk for _ in range(8)]
    newest = more[-1] >> 2
    assert newest > max(before.values())
    assert sorted(_held().values()) == [newest - 1, newest]
    recent = _matches(backends.RECENT_TABLES[0], "voiri") | _matches(backends.RECENT_TABLES[1], "voiri")
    assert recent == {pk for pk in first + more if pk >> 2 >= newest - 1}
    _assert_recent_tables_mirror_the_index(["voiri"])
    # Written at once (a rebuild, a seed): the older blocks go to search_fts only, the same two end up held.
    indexing.rebuild()
    assert sorted(_held().values()) == [newest - 1, newest]
    _assert_recent_tables_mirror_the_index(["voiri"])


@sqlite_only
def test_the_window_is_found_in_the_recent_blocks_and_every_match_when_too_few_pass(tiny_blocks, monkeypatch):
    monkeypatch.setattr(selectors, "WINDOW", 5)
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    old = published(title="Travaux de voirie", department="89").pk
    made = [published(title=f"Voirie {n}", department="21").pk for n in range(12)]
    in_recent = [pk for pk in made if pk >> 2 >= (made[-1] >> 2) - 1]
    page = search(Criteria(q="voirie"), per_page=20)
    assert page.count_capped
    assert {result.id for result in page.results} == set(in_recent[-5:])
    # Too few in the window pass the filter, and the recent blocks do not reach the first id: every match.
    assert [result.id for result in search(Criteria(q="voirie", department="89")).results] == [old]


@sqlite_only
def test_a_window_that_holds_every_match_is_not_searched_again(monkeypatch):
    """With every id in the recent blocks (a region's whole index), fewer matches than the window are every
    match: no second search over search_fts, even when a filter leaves few results."""
    monkeypatch.setattr(selectors, "WINDOW", 50)
    kept = published(title="Voirie", department="89").pk
    for _ in range(3):
        published(title="Voirie", department="21")
    with CaptureQueriesContext(connection) as captured:
        page = search(Criteria(q="voirie", department="89"))
    assert [result.id for result in page.results] == [kept]
    assert not [q for q in captured.captured_queries if f"FROM {backends.FTS_TABLE} WHERE" in q["sql"]]


@sqlite_only
def test_search_indexes_carry_every_filter():
    """Migration 0009 widens the indexes the portal walks; a later migration that remakes the table on SQLite
    would bring back the model's narrower ones: this test says so."""
    filters = {"state", "bids_deadline", "department", "procedure", "contract_type", "estimated_value", "cpv_codes"}
    for name in (
        "search_state_deadline",
        "search_state_published",
        "search_dept_state_deadline",
        "search_proc_state_deadline",
        "search_value",
        backends.FILTERS_BY_ID,
    ):
        columns = {row[2] for row in _rows(f"PRAGMA index_info({name})")}
        assert filters <= columns, (name, filters - columns)


def test_index_rows_carry_the_cpv_codes_of_the_consultation_and_its_lots():
    meals = published(main_cpv_id="55524000", title="Repas", extra_cpv=["15800000"])
    with scopes_disabled():
        ConsultationCpv.objects.create(consultation=meals, cpv_id="45233141")
    indexing.index_consultation(meals.pk)
    with scopes_disabled():
        codes = SearchEntry.objects.get(pk=meals.pk).cpv_codes
    assert codes.startswith(" ") and codes.endswith(" ")
    assert set(codes.split()) == {"55524000", "15800000", "45233141"}
    # Every code of the subtree, never a part of a code.
    assert [r.id for r in search(Criteria(cpv="45000000", state=StateFilter.ALL)).results] == [meals.pk]
    assert [r.id for r in search(Criteria(cpv="55520000", state=StateFilter.ALL)).results] == [meals.pk]
    assert search(Criteria(cpv="24000000", state=StateFilter.ALL)).results == []
    assert search(Criteria(cpv="80000000", state=StateFilter.ALL)).results == []
