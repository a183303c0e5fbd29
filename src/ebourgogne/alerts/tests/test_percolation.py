"""Percolation finds exactly the alerts whose portal search finds the consultation."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ebourgogne.alerts import percolation
from ebourgogne.alerts.models import Alert, AlertKey
from ebourgogne.alerts.tests.conftest import new_alert
from ebourgogne.core import clock
from ebourgogne.search.selectors import Criteria, search
from ebourgogne.search.tests.conftest import published
from ebourgogne.testing.factories import BuyerFactory

pytestmark = pytest.mark.django_db

CPV_POOL = ["45000000", "45200000", "45210000", "45233140", "71000000", "71300000", "30200000", "90600000"]
WORDS = [
    "école",
    "ECOLES",
    "travaux",
    "travail",
    "voirie",
    "voiries",
    "réfection",
    "refection",
    "chauffage",
    "régional",
    "régionaux",
    "piscine",
    "toitures",
    "sportive",
    "sportif",
    "électricité",
    "le",
    "de",
    "lot",
    "2026",
]
DEPARTMENTS = ["21", "58", "71", "89"]
PROCEDURES = ["open", "mapa", "restricted"]
TYPES = ["works", "supplies", "services"]
VALUES = [None, Decimal("10000"), Decimal("90000"), Decimal("250000")]
BOUNDS = [None, Decimal("50000"), Decimal("90000"), Decimal("300000")]

phrase = st.lists(st.sampled_from(WORDS), min_size=0, max_size=4).map(" ".join)

consultation_strategy = st.fixed_dictionaries(
    {
        "title": st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join),
        "object": phrase,
        "lots": st.lists(st.tuples(phrase, phrase), max_size=1),
        "buyer": st.integers(0, 1),
        "department": st.sampled_from(DEPARTMENTS),
        "procedure": st.sampled_from(PROCEDURES),
        "contract_type": st.sampled_from(TYPES),
        "estimated_value": st.sampled_from(VALUES),
        "main_cpv": st.sampled_from(CPV_POOL),
        "extra_cpv": st.lists(st.sampled_from(CPV_POOL), max_size=2, unique=True),
        "open": st.sampled_from([True, True, True, False]),
        "state": st.sampled_from(["published", "published", "published", "closed"]),
    }
)

alert_strategy = st.fixed_dictionaries(
    {
        "q": st.lists(st.sampled_from(WORDS), min_size=0, max_size=3).map(" ".join),
        "cpv_codes": st.lists(st.sampled_from(CPV_POOL), max_size=2, unique=True),
        "departments": st.lists(st.sampled_from(DEPARTMENTS), max_size=2, unique=True),
        "buyers": st.lists(st.integers(0, 1), max_size=1, unique=True),
        "procedures": st.lists(st.sampled_from(PROCEDURES), max_size=2, unique=True),
        "contract_types": st.lists(st.sampled_from(TYPES), max_size=2, unique=True),
        "value_min": st.sampled_from(BOUNDS),
        "value_max": st.sampled_from(BOUNDS),
    }
)


def portal_matches(alert: Alert, buyer_slugs: list[str]) -> set[int]:
    """The consultations the portal's search finds for the alert: the union of the searches of every
    combination of its values (several values of a criterion: any of them)."""
    found: set[int] = set()
    for cpv, department, buyer, procedure, contract_type in itertools.product(
        alert.cpv_codes or [""],
        alert.departments or [""],
        alert.buyers or [""],
        alert.procedures or [""],
        alert.contract_types or [""],
    ):
        criteria = Criteria(
            q=alert.q,
            cpv=cpv,
            department=department,
            buyer=buyer,
            procedure=procedure,
            contract_type=contract_type,
            value_min=alert.value_min,
            value_max=alert.value_max,
        )
        found |= {result.id for result in search(criteria, per_page=1000, count=False).results}
    return found


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    consultations=st.lists(consultation_strategy, min_size=1, max_size=5),
    alerts=st.lists(alert_strategy, min_size=1, max_size=6),
)
def test_percolation_equals_portal_search(subscriber, consultations, alerts):
    with transaction.atomic():
        buyers = [
            BuyerFactory(name="Commune de Beaune", slug="commune-de-beaune", department="21"),
            BuyerFactory(name="Département de la Nièvre", slug="departement-nievre", department="58"),
        ]
        slugs = [buyer.slug for buyer in buyers]
        now = clock.now()
        ids = []
        for spec in consultations:
            deadline = now + dt.timedelta(days=10) if spec["open"] else now - dt.timedelta(hours=1)
            consultation = published(
                organisation=buyers[spec["buyer"]],
                title=spec["title"],
                object=spec["object"],
                lots=spec["lots"],
                department=spec["department"],
                procedure=spec["procedure"],
                contract_type=spec["contract_type"],
                estimated_value=spec["estimated_value"],
                main_cpv_id=spec["main_cpv"],
                extra_cpv=[code for code in spec["extra_cpv"] if code != spec["main_cpv"]],
                state=spec["state"],
                bids_deadline=deadline,
                questions_deadline=deadline - dt.timedelta(days=1),
            )
            ids.append(consultation.pk)
        made = []
        for spec in alerts:
            criteria = {**spec, "buyers": [slugs[i] for i in spec["buyers"]]}
            low, high = criteria["value_min"], criteria["value_max"]
            if low is not None and high is not None and low > high:
                criteria["value_min"], criteria["value_max"] = high, low
            if not any(criteria.values()):
                criteria["departments"] = ["21"]
            made.append(new_alert(subscriber, **criteria))

        matched = percolation.Percolator(mode="database").match(ids)
        # The batch path (index in memory, residual verification) gives the same answer.
        assert percolation.Percolator(mode="index").match(ids) == matched
        by_alert = {alert.pk: {cid for cid, pks in matched.items() if alert.pk in pks} for alert in made}
        with scopes_disabled():
            expected = {alert.pk: portal_matches(alert, slugs) & set(ids) for alert in made}
        assert by_alert == expected
        assert percolation.naive(ids) == matched
        transaction.set_rollback(True)


def test_keyword_semantics_follow_the_portal(subscriber):
    """Stemming, accents, case and stop words as the portal: every word required."""
    school = published(title="Rénovation des ÉCOLES régionales", object="Toiture et chauffage")
    road = published(title="Réfection de voirie", object="Enrobés")
    plural = new_alert(subscriber, q="école régionale")
    both = new_alert(subscriber, q="ecole voirie")
    stop_words_only_dropped = new_alert(subscriber, q="de la voirie")
    matched = percolation.percolate([school.pk, road.pk])
    assert plural.pk in matched[school.pk]
    assert both.pk not in matched[school.pk] and both.pk not in matched[road.pk]
    assert stop_words_only_dropped.pk in matched[road.pk]


def test_cpv_subtree_and_lots(subscriber):
    works = published(title="Bâtiment", main_cpv_id="45210000")
    study = published(title="Étude", main_cpv_id="71000000", extra_cpv=["45233140"])
    division = new_alert(subscriber, cpv_codes=["45000000"])
    group = new_alert(subscriber, cpv_codes="45200000")
    other = new_alert(subscriber, cpv_codes=["30200000"])
    matched = percolation.percolate([works.pk, study.pk])
    assert matched[works.pk] == sorted([division.pk, group.pk])
    assert matched[study.pk] == sorted([division.pk, group.pk])  # 45233140 is in the 452 subtree
    assert other.pk not in matched[works.pk]


def test_closed_and_paused_match_nothing(subscriber, make_alert):
    from ebourgogne.alerts import services

    closed = published(title="Voirie", bids_deadline=clock.now() - dt.timedelta(minutes=1))
    open_one = published(title="Voirie")
    alert = make_alert(subscriber, q="voirie")
    assert percolation.percolate([closed.pk, open_one.pk]) == {closed.pk: [], open_one.pk: [alert.pk]}
    services.set_active(alert=alert, acting_user=subscriber, active=False)
    assert not AlertKey.objects.filter(alert=alert).exists()
    assert percolation.percolate([open_one.pk]) == {open_one.pk: []}


def test_candidates_are_few(subscriber):
    """The index reads the alerts filed under the consultation's keys, not all of them."""
    consultation = published(title="Voirie", department="21", main_cpv_id="45210000")
    far = [new_alert(subscriber, name=f"a{i}", departments=["89"], cpv_codes=["71000000"]) for i in range(10)]
    near = new_alert(subscriber, departments=["21"], cpv_codes=["45000000"])
    percolator = percolation.Percolator()
    assert percolator.match([consultation.pk]) == {consultation.pk: [near.pk]}
    assert percolator.candidates_seen == 1
    assert far


def test_keys_of_an_alert(subscriber):
    alert = new_alert(subscriber, q="écoles voirie", cpv_codes=["45200000"], departments=["21", "58"])
    keys = percolation.alert_keys(percolation.compile_alert(alert))
    term = max(alert.terms, key=lambda t: (len(t), t))
    # CPV 45200000 is a group (3 significant digits): the keyword is the better anchor, with the departments.
    assert sorted(keys) == [f"k:{term}|d:21", f"k:{term}|d:58"]
    precise = new_alert(subscriber, q="voirie", cpv_codes=["45233140"], procedures=["open"])
    assert percolation.alert_keys(percolation.compile_alert(precise)) == ["c:4523314"]  # (c, p): not a pair
    value_only = new_alert(subscriber, value_min="1000")
    assert percolation.alert_keys(percolation.compile_alert(value_only)) == ["*"]
    assert connection.vendor in ("sqlite", "postgresql")


def test_batch_index_and_residuals(subscriber):
    """The in-memory index of a batch: an alert whose key says it all needs no verification, the others are
    verified on what their key leaves out; both agree with the database path and the naive evaluation."""
    road = published(title="Réfection de voirie", department="21", main_cpv_id="45233140", estimated_value="50000")
    school = published(title="Écoles régionales", department="58", main_cpv_id="45210000")
    exact = new_alert(subscriber, cpv_codes=["45200000"], departments=["21"])
    words = new_alert(subscriber, q="écoles régionales")
    priced = new_alert(subscriber, departments=["21"], value_min="90000")
    compiled = percolation.compile_alert(exact)
    dims, keys = percolation.anchor(compiled)
    assert dims == ("c", "d") and keys == ["c:452|d:21"]
    assert percolation.residual(compiled, dims) is None
    rest = percolation.residual(
        percolation.compile_alert(words), percolation.anchor(percolation.compile_alert(words))[0]
    )
    assert rest is not None and len(rest.terms) == 1  # the anchored keyword is guaranteed, the other is not
    percolator = percolation.Percolator(mode="index")
    matched = percolator.match([road.pk, school.pk])
    assert matched == {road.pk: [exact.pk], school.pk: [words.pk]}
    assert percolator.index.size == 3 and priced.pk not in matched[road.pk]
    assert percolation.Percolator(mode="database").match([road.pk, school.pk]) == matched
    assert percolation.naive([road.pk, school.pk]) == matched


def test_precompiled_criteria_are_written_and_stale_rows_compiled_again(subscriber):
    alert = new_alert(subscriber, q="voirie", cpv_codes=["45200000"], value_max="100000")
    alert.refresh_from_db()
    assert alert.compiled["v"] == percolation.COMPILED_VERSION and alert.compiled["c"] == ["452"]
    assert percolation.from_precompiled(alert.pk, alert.compiled) == percolation.compile_alert(alert)
    road = published(title="Voirie", main_cpv_id="45233140", estimated_value="50000")
    Alert.objects.filter(pk=alert.pk).update(compiled={})  # a row written before the column existed
    assert percolation.Percolator(mode="index").match([road.pk]) == {road.pk: [alert.pk]}
    assert percolation.Percolator(mode="database").match([road.pk]) == {road.pk: [alert.pk]}


def test_batch_index_reads_alerts_changed_or_paused_during_the_batch_as_they_are_now(subscriber):
    """The index groups the keys once; an alert is read when first met: one changed since then is a
    candidate only under its current keys, one paused is no longer one."""
    from ebourgogne.alerts import services

    other = published(title="Étude", department="89", main_cpv_id="71000000")
    road = published(title="Réfection de voirie", department="21", main_cpv_id="45233140")
    moved = new_alert(subscriber, name="moved", cpv_codes=["45200000"], departments=["21"])
    paused = new_alert(subscriber, name="paused", cpv_codes=["45200000"], departments=["21"])
    kept = new_alert(subscriber, name="kept", cpv_codes=["45200000"], departments=["21"])
    percolator = percolation.Percolator(mode="index")
    assert percolator.match([other.pk]) == {other.pk: []}  # the index is built, the alerts not read yet
    services.update_alert(
        alert=moved,
        acting_user=subscriber,
        name="moved",
        criteria={"cpv_codes": ["45200000"], "departments": ["58"]},
        delivery="immediate",
    )
    services.set_active(alert=paused, acting_user=subscriber, active=False)
    assert percolator.match([road.pk]) == {road.pk: [kept.pk]}
    assert percolation.naive([road.pk]) == {road.pk: [kept.pk]}
