"""Indicators against hand-computed values (tests/data.py), the refresh job, period filters, CSV and SVG."""

from __future__ import annotations

import csv
import datetime as dt
import io
import xml.etree.ElementTree as ET

import pytest
import time_machine
from django.utils import translation
from django_scopes import scopes_disabled

from ebourgogne.indicators import selectors, services, tasks
from ebourgogne.indicators.csv_export import figure_csv
from ebourgogne.indicators.forms import period_from
from ebourgogne.indicators.models import REGION, MonthlyFigures, Refresh, buyer_key, department_key
from ebourgogne.indicators.selectors import Period
from ebourgogne.indicators.tests import data

pytestmark = pytest.mark.django_db

H1 = Period(dt.date(2026, 1, 1), dt.date(2026, 6, 1))


@pytest.fixture(autouse=True)
def _french():
    with translation.override("fr"):
        yield


def _board(key, period=H1):
    services.refresh_all()
    return selectors.dashboard(key, period)


def _rows(board, key):
    return board.figure(key).rows


def _spaces(text: str) -> str:
    """French number grouping uses a narrow no-break space: read it as a space."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def test_buyer_figures_match_the_hand_computed_ones(world):
    board = _board(buyer_key(world.a.pk))
    totals = board.totals
    assert totals["published"] == 4
    assert totals["closed"] == 2  # A1 and A2; A3 still open, A6 cancelled
    assert totals["bids"] == 2  # S1's last deposit and N1; superseded, late and backup not counted
    assert totals["sme_bids"] == 1
    assert totals["downloads"] == 2  # the practice consultation's 5 downloads are not counted
    assert (totals["bids_0"], totals["bids_1"], totals["bids_2"]) == (1, 0, 1)
    assert totals["answer_seconds"] / totals["published"] / 86400 == pytest.approx(37.5)
    assert _rows(board, "publications") == [
        ["janvier 2026", 0],
        ["février 2026", 0],
        ["mars 2026", 1],
        ["avril 2026", 2],  # A2 published 31 March 22:30 UTC: 1 April in Paris
        ["mai 2026", 1],
        ["juin 2026", 0],
    ]
    assert _rows(board, "procedures") == [
        ["Procédure adaptée (MAPA)", 2, 50.0],
        ["Appel d'offres ouvert", 2, 50.0],
    ]
    cpv = _rows(board, "cpv")
    assert [(row[0][:2], row[1]) for row in cpv] == [("45", 3), ("72", 1)]
    assert _rows(board, "delays")[0] == ["Publication → date limite des plis (jours)", 37.5]


def test_department_and_region_are_sums_over_buyers(world):
    department = _board(department_key("21"))
    assert department.totals["published"] == 5
    assert department.totals["bids"] == 5
    assert _rows(department, "sme")[0] == ["PME parmi les plis reçus (%)", 60.0]
    assert "En moyenne 1,7 plis par consultation close" in department.figure("bids").summary
    assert _rows(department, "delays")[0][1] == 34.0
    region = selectors.dashboard(REGION, H1)
    assert region.totals["published"] == 6
    assert region.totals["closed"] == 4
    assert _rows(region, "sme")[0][1] == 50.0
    assert [row[1] for row in _rows(region, "bids")][:4] == [1, 1, 1, 1]
    assert _rows(region, "delays")[0][1] == round(200 / 6, 1)
    yonne = selectors.dashboard(department_key("89"), H1)
    assert (yonne.totals["published"], yonne.totals["bids"], yonne.totals["sme_bids"]) == (1, 1, 0)


def test_period_filter_keeps_only_the_months_asked(world):
    board = _board(buyer_key(world.a.pk), Period(dt.date(2026, 4, 1), dt.date(2026, 4, 1)))
    assert board.totals["published"] == 2  # A2 and A6
    assert board.totals["closed"] == 1  # A2
    assert board.totals["bids"] == 0
    assert board.totals["downloads"] == 0
    march = selectors.dashboard(REGION, Period(dt.date(2026, 3, 1), dt.date(2026, 3, 1)))
    assert march.totals["published"] == 2  # A1 and C1
    assert march.totals["bids"] == 3


def test_period_form_defaults_and_errors(clock_now):
    _form, period, valid = period_from({})
    assert valid and (period.start, period.end) == (dt.date(2025, 7, 1), dt.date(2026, 6, 1))
    _form, period, valid = period_from({"du": "2026-02", "au": "2026-04"})
    assert valid and len(period.months) == 3
    for bad in ({"du": "2026-13"}, {"du": "mars"}, {"du": "2026-05", "au": "2026-01"}, {"du": "2000-01"}):
        form, period, valid = period_from(bad)
        assert not valid and form.errors
        assert period.end == dt.date(2026, 6, 1)  # the default period is shown with the message


def test_award_figures_from_the_awards_app(world):
    region = _board(REGION)
    assert (region.totals["winners"], region.totals["sme_winners"]) == (2, 1)
    assert _rows(region, "sme")[1] == ["PME parmi les attributaires (%)", 50.0]
    assert _rows(region, "delays")[1:] == [
        ["Date limite → attribution (jours)", 15.0],
        ["Attribution → notification du marché (jours)", 21.0],  # the contracts' notification, not the letters
    ]
    assert "Le marché est notifié au titulaire en moyenne 21,0 jours après l'attribution." in (
        region.figure("delays").summary
    )
    assert "50 % des attributaires sont des PME." in region.figure("sme").summary
    department = selectors.dashboard(department_key("21"), H1)
    assert _rows(department, "sme")[1][1] == 100.0
    assert [row[1] for row in _rows(department, "delays")[1:]] == [10.0, 12.0]
    buyer = selectors.dashboard(buyer_key(world.a.pk), H1)
    assert _rows(buyer, "sme")[1][1] == "—"  # no award yet
    assert _rows(buyer, "delays")[2][1] == "—"


def test_award_to_notification_counts_notified_contracts_only(world):
    from ebourgogne.contracts.models import Contract

    with scopes_disabled():
        Contract.objects.filter(number="C1-2026").update(state="signed", notified_at=None)
    region = _board(REGION)
    assert _rows(region, "delays")[2][1] == 12.0  # B1 only; C1's award letter was not sent either
    assert region.totals["notification_count"] == 1


def test_amendments_share_of_initial_amounts(world):
    region = _board(REGION)
    assert _rows(region, "amendments") == [
        ["Marchés notifiés", 2],
        ["Montant initial des marchés notifiés (€ HT)", 350001],  # 350 000.50 rounded
        ["Avenants notifiés", 3],  # B1's draft modification is not counted
        ["Montant des avenants (€ HT)", 25000],
        ["Montant des avenants / montant initial (%)", 7.1],  # 25 000.25 / 350 000.50
    ]
    assert (region.totals["contract_cents"], region.totals["modification_cents"]) == (35_000_050, 2_500_025)
    amendments = region.figure("amendments")
    assert amendments.available and _spaces(amendments.summary) == (
        "Les avenants notifiés représentent 7,1 % du montant initial des 2 marché(s) notifié(s) "
        "(25 000 € sur 350 001 € HT, 3 avenant(s))."
    )
    assert "350 001 €" in _spaces(str(amendments.chart)) and "25 000 €" in _spaces(str(amendments.chart))
    department = selectors.dashboard(department_key("21"), H1)
    assert _rows(department, "amendments")[4][1] == 5.0  # (7 500 - 2 500) / 100 000
    yonne = selectors.dashboard(department_key("89"), H1)
    assert _rows(yonne, "amendments")[4][1] == 8.0
    assert _rows(selectors.dashboard(buyer_key(world.b.pk), H1), "amendments")[4][1] == 5.0
    buyer_a = selectors.dashboard(buyer_key(world.a.pk), H1)
    assert _rows(buyer_a, "amendments")[4][1] == "—"
    assert buyer_a.figure("amendments").summary == "Aucun marché notifié pour les consultations de la période."
    assert not buyer_a.figure("amendments").chart
    # Cohorts: C1 was published in March, B1 in April.
    april = selectors.dashboard(REGION, Period(dt.date(2026, 4, 1), dt.date(2026, 4, 1)))
    assert _rows(april, "amendments")[4][1] == 5.0
    text = figure_csv(region.figure("amendments"), scope_label="Région", period=H1, as_of=region.as_of)
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[6:] == [
        ["Marchés notifiés", "2"],
        ["Montant initial des marchés notifiés (€ HT)", "350001"],
        ["Avenants notifiés", "3"],
        ["Montant des avenants (€ HT)", "25000"],
        ["Montant des avenants / montant initial (%)", "7,1"],
    ]


def test_amendments_decrease_has_no_chart_but_a_share(world):
    from ebourgogne.contracts.models import Modification

    with scopes_disabled():
        Modification.objects.filter(contract__number="C1-2026").update(amount_change=-30000)
    region = _board(REGION)
    assert _rows(region, "amendments")[3:] == [
        ["Montant des avenants (€ HT)", -25000],
        ["Montant des avenants / montant initial (%)", round(-2_500_000 / 35_000_050 * 100, 1)],
    ]
    assert region.figure("amendments").chart == ""  # bars are drawn for amounts that are not negative


def test_awards_not_available_is_said_plainly(world, monkeypatch):
    monkeypatch.setattr(services, "awards_available", lambda: False)
    monkeypatch.setattr(selectors, "awards_available", lambda: False)
    board = _board(REGION)
    assert board.totals["winners"] == 0
    assert "pas encore disponible" in board.figure("sme").summary
    assert _rows(board, "delays")[1][1] == "pas encore disponible"
    assert _rows(board, "sme")[1][1] == "pas encore disponible"


def test_refresh_job_records_freshness_and_follows_changes(world):
    result = tasks.refresh_indicators.call()
    assert result["buyers"] == 3
    with scopes_disabled():
        assert Refresh.objects.get(scope_key=REGION).computed_at == data.NOW
        assert MonthlyFigures.objects.filter(scope_key=buyer_key(world.a.pk)).count() == 3  # March, April, May
    # A new consultation is not in the figures until the next refresh; then it is.
    later = data.NOW + dt.timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        data._consultation(world.c, "C2", data.utc(2026, 6, 1, 9), 10, "open", "45000000")
        assert selectors.dashboard(REGION, H1).totals["published"] == 6
        tasks.refresh_indicators.call()
        board = selectors.dashboard(REGION, H1)
        assert board.totals["published"] == 7
        assert board.as_of == later


def test_buyer_refresh_on_demand_updates_its_rows_and_the_sums(world):
    services.refresh_all()
    with scopes_disabled():
        data._consultation(world.b, "B2", data.utc(2026, 5, 2, 9), 20, "mapa", "72000000")
    later = data.NOW + dt.timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        services.refresh_buyer(organisation=world.b)
    assert selectors.dashboard(buyer_key(world.b.pk), H1).as_of == later
    assert selectors.dashboard(department_key("21"), H1).totals["published"] == 6
    region = selectors.dashboard(REGION, H1)
    assert region.totals["published"] == 7
    assert region.as_of == data.NOW  # the other buyers' figures are as of the last full refresh


def test_csv_export_opens_in_french_spreadsheets(world):
    board = _board(REGION)
    text = figure_csv(board.figure("sme"), scope_label="Région", period=H1, as_of=board.as_of)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[0] == ["Part des PME"]
    assert rows[2] == ["Période", "2026-01", "2026-06"]
    assert rows[3] == ["Chiffres arrêtés au", "2026-06-15 12:00"]  # Paris time
    assert rows[5] == ["Indicateur", "Valeur"]
    assert rows[6] == ["PME parmi les plis reçus (%)", "50,0"]
    assert "\r\n" in text


def test_svg_charts_are_accessible(world):
    board = _board(REGION)
    charted = [figure for figure in board.figures if figure.chart]
    assert {figure.key for figure in charted} >= {
        "publications",
        "cpv",
        "procedures",
        "bids",
        "sme",
        "delays",
        "amendments",
    }
    for figure in charted:
        svg = ET.fromstring(str(figure.chart))  # noqa: S314 (our own output): well-formed XML
        ns = "{http://www.w3.org/2000/svg}"
        assert svg.get("role") == "img"
        title, desc = svg.find(f"{ns}title"), svg.find(f"{ns}desc")
        assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
        assert title.text == figure.title and desc.text == figure.summary
        assert "style" not in str(figure.chart)  # CSP: presentation attributes only
        # Every value is written on the chart (colour is not the only carrier of meaning).
        texts = [node.text for node in svg.iter(f"{ns}text")]
        assert len(texts) >= 2 * len(svg.findall(f"{ns}rect")[1:])
    publications = board.figure("publications")
    assert publications.summary == (
        "6 consultations publiées, en hausse de 100 % entre la première et la seconde moitié de la période ; "
        "pic en avril 2026 (3)."
    )


def test_chart_text_is_escaped():
    from ebourgogne.indicators import charts

    svg = str(charts.bar_chart("x", "<b>&", "d", ["<script>"], [1]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
