"""Search correctness, on whichever database runs the tests (CI runs SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ebourgogne.consultations.models import Consultation, State
from ebourgogne.consultations.signals import consultation_changed, consultation_published
from ebourgogne.core import clock
from ebourgogne.search import indexing
from ebourgogne.search.models import SearchEntry
from ebourgogne.search.selectors import Criteria, Sort, StateFilter, search
from ebourgogne.search.tests.conftest import published
from ebourgogne.testing.factories import BuyerFactory, ConsultationFactory

pytestmark = pytest.mark.django_db


def ids(criteria: Criteria, **kwargs) -> list[int]:
    return [result.id for result in search(criteria, **kwargs).results]


def test_accents_and_case_are_ignored_both_ways():
    school = published(title="Rénovation de l'École Jules-Ferry", object="Travaux")
    plain = published(title="Reprise de la facade de l'ecole Colette", object="Travaux")
    for query in ("école", "ecole", "ÉCOLE", "Ecole"):
        assert set(ids(Criteria(q=query))) == {school.pk, plain.pk}, query
    assert ids(Criteria(q="façade")) == [plain.pk]


def test_french_plurals_and_feminines_are_found():
    regional = published(title="Équipements régionaux des lycées", object="Fourniture")
    schools = published(title="Restauration des écoles", object="Fourniture de repas")
    assert ids(Criteria(q="régionale")) == [regional.pk]
    assert ids(Criteria(q="régional")) == [regional.pk]
    assert ids(Criteria(q="école")) == [schools.pk]
    assert ids(Criteria(q="repas")) == [schools.pk]


def test_every_word_must_match_and_stop_words_are_ignored():
    both = published(title="Restauration scolaire", object="Repas des écoles")
    published(title="Restauration du château", object="Travaux de maçonnerie")
    assert ids(Criteria(q="restauration scolaire")) == [both.pk]
    assert ids(Criteria(q="la restauration de la scolaire")) == [both.pk]


def test_title_weighs_more_than_object_and_object_more_than_lots_and_buyer():
    in_lots = published(title="Marché A", object="Travaux", lots=[("Voirie", "Chaussées")])
    in_title = published(title="Travaux de voirie", object="Chaussées")
    in_object = published(title="Marché B", object="Entretien de la voirie")
    assert ids(Criteria(q="voirie")) == [in_title.pk, in_object.pk, in_lots.pk]


def test_buyer_name_commune_and_lots_are_searched():
    buyer = BuyerFactory(name="Syndicat des eaux de Puisaye")
    lots = published(organisation=buyer, title="Marché", object="Travaux", commune="Toucy", lots=[("Électricité", "")])
    assert ids(Criteria(q="puisaye")) == [lots.pk]
    assert ids(Criteria(q="toucy")) == [lots.pk]
    assert ids(Criteria(q="électricité")) == [lots.pk]


def test_drafts_are_never_indexed_nor_found():
    draft = ConsultationFactory(title="Projet secret de voirie")
    indexing.index_consultation(draft.pk)
    indexing.rebuild()
    assert not SearchEntry.objects.filter(consultation_id=draft.pk).exists()
    for state in (StateFilter.OPEN, StateFilter.PAST, StateFilter.ALL):
        assert ids(Criteria(q="secret", state=state)) == []
    assert draft.pk not in ids(Criteria(state=StateFilter.ALL))


def test_practice_consultations_are_never_indexed_nor_found(client):
    buyer = BuyerFactory(slug="commune-de-sens", name="Commune de Sens")
    practice = published(organisation=buyer, title="Voirie d'entraînement", is_practice=True)
    real = published(organisation=buyer, title="Voirie de la rue Haute")
    for rebuild in (False, True):
        if rebuild:
            indexing.rebuild()
        assert not SearchEntry.objects.filter(consultation_id=practice.pk).exists()
        for state in (StateFilter.OPEN, StateFilter.ALL):
            assert ids(Criteria(q="voirie", state=state)) == [real.pk]
            assert ids(Criteria(buyer="commune-de-sens", state=state)) == [real.pk]
    # Turned into a practice consultation after publication: it leaves the index.
    with scopes_disabled():
        Consultation.objects.filter(pk=real.pk).update(is_practice=True)
    consultation_changed.send(sender=Consultation, consultation=real, changes={"is_practice": (False, True)})
    assert ids(Criteria(buyer="commune-de-sens", state=StateFilter.ALL)) == []
    # Nor on the pages that read the index: the buyer's page, the feed, the sitemap.
    with scopes_disabled():
        Consultation.objects.filter(pk=real.pk).update(is_practice=False)
    indexing.index_consultation(real.pk)
    from django.urls import reverse

    from ebourgogne.search.selectors import consultation_url_template

    url = consultation_url_template()
    page = client.get(reverse("search_root:buyer", args=["commune-de-sens"]))
    feed = client.get(reverse("search:feed") + "?q=voirie&state=all")
    sitemap = client.get(reverse("search_root:sitemap_consultations", args=[0]))
    for response in (page, feed, sitemap):
        assert response.status_code == 200
        content = b"".join(response.streaming_content) if response.streaming else response.content
        assert url.format(pk=real.pk) in content.decode()
        assert url.format(pk=practice.pk) not in content.decode()


def test_cpv_filter_takes_the_subtree_and_lot_codes():
    roads = published(main_cpv_id="45233140", title="Voirie")
    school = published(main_cpv_id="45214200", title="École")
    meals = published(main_cpv_id="55524000", title="Repas", extra_cpv=["45233141"])
    assert set(ids(Criteria(cpv="45000000"))) == {roads.pk, school.pk, meals.pk}
    assert set(ids(Criteria(cpv="45200000"))) == {roads.pk, school.pk, meals.pk}
    assert set(ids(Criteria(cpv="45233000"))) == {roads.pk, meals.pk}
    assert set(ids(Criteria(cpv="45214200"))) == {school.pk}
    assert ids(Criteria(cpv="55000000")) == [meals.pk]
    assert ids(Criteria(cpv="30000000")) == []


def test_filters_each_narrow_the_results():
    now = clock.now()
    buyer = BuyerFactory(slug="commune-de-beaune", name="Commune de Beaune")
    base = published(department="21", procedure="mapa", contract_type="works", estimated_value=Decimal("50000"))
    other = published(
        organisation=buyer,
        department="71",
        procedure="open",
        contract_type="services",
        estimated_value=Decimal("900000"),
        bids_deadline=now + dt.timedelta(days=5),
    )
    assert ids(Criteria(department="71")) == [other.pk]
    assert ids(Criteria(buyer="commune-de-beaune")) == [other.pk]
    assert ids(Criteria(procedure="mapa")) == [base.pk]
    assert ids(Criteria(contract_type="services")) == [other.pk]
    assert ids(Criteria(value_min=Decimal("100000"))) == [other.pk]
    assert ids(Criteria(value_max=Decimal("100000"))) == [base.pk]
    assert ids(Criteria(value_min=Decimal("50000"), value_max=Decimal("50000"))) == [base.pk]
    assert ids(Criteria(closing_within=7)) == [other.pk]
    assert set(ids(Criteria(closing_within=31))) == {base.pk, other.pk}
    paris_day = (now + dt.timedelta(days=5)).astimezone(dt.timezone(dt.timedelta(hours=1))).date()
    assert ids(Criteria(deadline_from=paris_day, deadline_to=paris_day)) == [other.pk]
    assert ids(Criteria(deadline_from=paris_day + dt.timedelta(days=1))) == [base.pk]


def test_deadline_window_uses_paris_days():
    # 23:30 UTC on 14 January is 00:30 on the 15th in Paris.
    with time_machine.travel(dt.datetime(2027, 1, 1, 12, tzinfo=dt.UTC), tick=False):
        late = published(bids_deadline=dt.datetime(2027, 1, 14, 23, 30, tzinfo=dt.UTC))
        assert ids(Criteria(deadline_from=dt.date(2027, 1, 15), deadline_to=dt.date(2027, 1, 15))) == [late.pk]
        assert ids(Criteria(deadline_to=dt.date(2027, 1, 14))) == []


def test_state_filter_open_by_default_past_findable():
    now = clock.now()
    open_one = published(title="Voirie ouverte")
    expired = published(title="Voirie expirée", bids_deadline=now - dt.timedelta(hours=1))
    cancelled = published(title="Voirie annulée", state=State.CANCELLED)
    awarded = published(title="Voirie attribuée", state=State.AWARDED, bids_deadline=now - dt.timedelta(days=40))
    assert ids(Criteria(q="voirie")) == [open_one.pk]
    assert set(ids(Criteria(q="voirie", state=StateFilter.PAST))) == {expired.pk, cancelled.pk, awarded.pk}
    assert len(ids(Criteria(q="voirie", state=StateFilter.ALL))) == 4


def test_sorts():
    now = clock.now()
    a = published(
        bids_deadline=now + dt.timedelta(days=3), estimated_value=Decimal("10"), published_at=now - dt.timedelta(days=5)
    )
    b = published(
        bids_deadline=now + dt.timedelta(days=1), estimated_value=None, published_at=now - dt.timedelta(days=1)
    )
    c = published(
        bids_deadline=now + dt.timedelta(days=2), estimated_value=Decimal("99"), published_at=now - dt.timedelta(days=3)
    )
    assert ids(Criteria()) == [b.pk, c.pk, a.pk]  # default without keywords: deadline
    assert ids(Criteria(sort=Sort.DEADLINE)) == [b.pk, c.pk, a.pk]
    assert ids(Criteria(sort=Sort.PUBLISHED)) == [b.pk, c.pk, a.pk]
    assert ids(Criteria(sort=Sort.VALUE)) == [c.pk, a.pk, b.pk]  # no value last
    assert ids(Criteria(sort=Sort.RELEVANCE)) == [b.pk, c.pk, a.pk]  # no keywords: deadline


def test_pagination_never_skips_nor_repeats():
    now = clock.now()
    same_deadline = now + dt.timedelta(days=10)
    created = {published(title=f"Voirie {n}", bids_deadline=same_deadline).pk for n in range(23)}
    for sort in (Sort.RELEVANCE, Sort.DEADLINE, Sort.PUBLISHED, Sort.VALUE):
        seen: list[int] = []
        for number in (1, 2, 3):
            page = search(Criteria(q="voirie", sort=sort), page=number, per_page=10)
            assert page.count == 23
            seen += [result.id for result in page.results]
        assert len(seen) == len(set(seen)) == 23, sort
        assert set(seen) == created


def test_count_is_capped(monkeypatch):
    from ebourgogne.search import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 4)
    for _ in range(6):
        published()
    page = search(Criteria(), per_page=2)
    assert page.count == 5
    assert page.count_capped


def test_common_words_are_searched_among_recent_matches_without_losing_selective_ones(monkeypatch):
    from ebourgogne.search import selectors

    monkeypatch.setattr(selectors, "WINDOW", 5)
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    old = published(title="Travaux de voirie", department="89")
    recent = [published(title=f"Travaux de voirie {n}", department="21").pk for n in range(8)]
    # Enough results among the 5 most recent matches: the window is kept (more than 3 found).
    page = search(Criteria(q="voirie"), per_page=20)
    assert page.count_capped
    assert {result.id for result in page.results} == set(recent[-5:])
    # A selective filter finds fewer than the cap in the window: the search runs over every match.
    assert ids(Criteria(q="voirie", department="89")) == [old.pk]


def test_keyword_search_sorted_by_deadline_keeps_the_window_and_its_order(monkeypatch):
    """Sorted by deadline, a keyword search computes no relevance (SQLite: no bm25 in the page nor the
    count): the same window of recent matches, in deadline order, with the same capped count."""
    from ebourgogne.search import selectors

    monkeypatch.setattr(selectors, "WINDOW", 5)
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    now = clock.now()
    made = [published(title=f"Voirie {n}", bids_deadline=now + dt.timedelta(days=10 - n)) for n in range(8)]
    page = search(Criteria(q="voirie", sort=Sort.DEADLINE), per_page=20)
    assert page.count_capped and page.sort == Sort.DEADLINE
    assert [result.id for result in page.results] == [c.pk for c in reversed(made[-5:])]
    second = search(Criteria(q="voirie", sort=Sort.DEADLINE), page=2, per_page=2)
    assert second.count_capped and [result.id for result in second.results] == [made[-3].pk, made[-4].pk]
    ranked = search(Criteria(q="voirie"), page=2, per_page=2)
    assert ranked.count_capped and len(ranked.results) == 2


@pytest.mark.parametrize("buckets", [1, 2, 8])
def test_recent_matches_are_found_across_id_blocks(monkeypatch, buckets):
    """PostgreSQL finds the window's matches block of ids by block (then the rest at once): with blocks
    of 2 ids and matches spread over many blocks, the window still holds exactly the most recent
    matches, and a selective filter still finds an old one."""
    from ebourgogne.search import backends, selectors

    monkeypatch.setattr(backends, "ID_BUCKET_BITS", 1)
    monkeypatch.setattr(backends, "WINDOW_BUCKETS", buckets)
    monkeypatch.setattr(selectors, "WINDOW", 5)
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    old = published(title="Travaux de voirie", department="89")
    matches = []
    for n in range(9):
        matches.append(published(title=f"Voirie {n}", department="21").pk)
        for _ in range(n % 3):  # blocks without any match, and blocks with one
            published(title="Éclairage public", department="21")
    page = search(Criteria(q="voirie"), per_page=20)
    assert page.count_capped
    assert {result.id for result in page.results} == set(matches[-5:])
    assert ids(Criteria(q="voirie", department="89")) == [old.pk]
    # Fewer matches than the window: every one of them.
    monkeypatch.setattr(selectors, "WINDOW", 50)
    assert set(ids(Criteria(q="voirie", state=StateFilter.ALL), per_page=20)) == {old.pk, *matches}


def test_cpv_filter_follows_the_codes_of_the_consultation_and_its_lots():
    from ebourgogne.consultations.models import ConsultationCpv

    meals = published(main_cpv_id="55524000", title="Repas")
    assert ids(Criteria(cpv="45000000")) == []
    with scopes_disabled():
        ConsultationCpv.objects.create(consultation=meals, cpv_id="45233141")
    consultation_changed.send(sender=Consultation, consultation=meals, changes={"lots": ("", "")})
    assert ids(Criteria(cpv="45000000")) == [meals.pk]
    assert ids(Criteria(cpv="45233141", q="repas")) == [meals.pk]
    assert ids(Criteria(cpv="45233142", q="repas")) == []


@pytest.mark.parametrize("budget", [1, 3, 6, 1000])
def test_cpv_search_count_is_exact_up_to_the_cap_whatever_the_walk_budget(monkeypatch, budget):
    """A CPV search's count may be found by reading the page's index a limited number of rows
    (PostgreSQL): exact or capped as any count, whether that budget is enough or not."""
    from ebourgogne.search import selectors

    monkeypatch.setattr(selectors, "WALK_BUDGET", budget)
    monkeypatch.setattr(selectors, "COUNT_CAP", 4)
    now = clock.now()
    for day in range(1, 9):  # roads every other day in 89, school meals in between, and elsewhere
        deadline = now + dt.timedelta(days=day)
        published(main_cpv_id="45233140" if day % 2 else "55524000", department="89", bids_deadline=deadline)
        published(main_cpv_id="45233140", department="21", bids_deadline=deadline)
    meals = search(Criteria(cpv="55524000", department="89"), per_page=2)
    assert meals.count == 4 and not meals.count_capped
    roads = search(Criteria(cpv="45000000", department="89"), per_page=2)
    assert roads.count == 4
    assert search(Criteria(cpv="45000000"), per_page=2).count_capped
    assert search(Criteria(cpv="45000000", department="89", closing_within=4), per_page=1).count == 2
    assert search(Criteria(cpv="45000000", department="89", sort=Sort.VALUE), page=2, per_page=2).count == 4


def test_results_hold_the_values_the_models_give():
    """The page's rows are read without model instances: each value must be what the ORM gives (aware
    datetimes, decimals with their two places), so that the page renders the same."""
    with_value = published(estimated_value=Decimal("1234.5"), commune="Auxerre")
    without = published(estimated_value=None)
    by_id = {result.id: result for result in search(Criteria(state=StateFilter.ALL)).results}
    for consultation in (with_value, without):
        entry = SearchEntry.objects.get(pk=consultation.pk)
        result = by_id[consultation.pk]
        for name in (
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
        ):
            expected, got = getattr(entry, name), getattr(result, name)
            assert (type(got), str(got)) == (type(expected), str(expected)), name
        assert result.published_at.tzinfo is not None
    assert str(by_id[with_value.pk].estimated_value) == "1234.50"


def test_page_beyond_the_last_is_out_of_range():
    published()
    page = search(Criteria(), page=3)
    assert page.results == []
    assert page.out_of_range


def test_index_follows_publication_changes_and_cancellation():
    with scopes_disabled():
        consultation = ConsultationFactory(title="Voirie de la zone artisanale")
        assert ids(Criteria(q="artisanale")) == []
        Consultation.objects.filter(pk=consultation.pk).update(state=State.PUBLISHED, published_at=clock.now())
        consultation.refresh_from_db()
    consultation_published.send(sender=Consultation, consultation=consultation)
    assert ids(Criteria(q="artisanale")) == [consultation.pk]

    with scopes_disabled():
        Consultation.objects.filter(pk=consultation.pk).update(title="Éclairage public du stade")
    consultation_changed.send(sender=Consultation, consultation=consultation, changes={"title": ("a", "b")})
    assert ids(Criteria(q="artisanale")) == []
    assert ids(Criteria(q="éclairage")) == [consultation.pk]

    with scopes_disabled():
        Consultation.objects.filter(pk=consultation.pk).update(state=State.CANCELLED)
    consultation_changed.send(
        sender=Consultation, consultation=consultation, changes={"state": ("published", "cancelled")}
    )
    assert ids(Criteria(q="éclairage")) == []
    assert ids(Criteria(q="éclairage", state=StateFilter.PAST)) == [consultation.pk]


def test_index_change_rolls_back_with_the_transaction():
    from django.db import transaction

    consultation = published(title="Voirie")
    with pytest.raises(RuntimeError), transaction.atomic():
        indexing.remove_consultation(consultation.pk)
        raise RuntimeError
    assert ids(Criteria(q="voirie")) == [consultation.pk]


def test_rebuild_indexes_public_consultations_only():
    kept = published(title="Voirie")
    with scopes_disabled():
        ConsultationFactory(title="Brouillon")
    SearchEntry.objects.all().delete()
    assert indexing.rebuild() == 1
    assert ids(Criteria(q="voirie")) == [kept.pk]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    query=st.one_of(
        st.text(max_size=80),
        st.lists(
            st.sampled_from(
                [
                    '"',
                    "'",
                    "*",
                    "-",
                    ":",
                    "(",
                    ")",
                    "NEAR",
                    "AND",
                    "OR",
                    "NOT",
                    ";",
                    "--",
                    "%",
                    "_",
                    "\\",
                    "^",
                    "{",
                    "}",
                    "école",
                    "voirie",
                    "DROP TABLE",
                    "1=1",
                    "&",
                    "|",
                    "!",
                    "<->",
                ]
            ),
            max_size=12,
        ).map(" ".join),
    )
)
def test_any_query_text_never_errors(query):
    if not SearchEntry.objects.exists():
        published(title="Voirie de l'école")
    page = search(Criteria(q=query, state=StateFilter.ALL))
    assert page.count >= 0


def test_backend_is_the_databases():
    from ebourgogne.search.backends import backend

    assert backend().vendor == connection.vendor
