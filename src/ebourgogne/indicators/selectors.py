"""Reading the precomputed indicators of one scope over a period: `dashboard(scope_key, period)`.

A dashboard is a list of `Figure`s; each has its table (what the CSV export and the page's data table
show), its summary sentence and, where it helps, its chart. Reads only `MonthlyFigures`,
`MonthlyBreakdown` and `Refresh` (a few rows per month and scope), never the raw tables.

Scopes are decided by the caller: the buyer views pass their own organisation's key (`b:<id>`), the
public pages a department's or the region's. Department and region figures are sums over buyers: no
per-company data exists in them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Sum
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from ebourgogne.consultations.models import CpvCode, Procedure
from ebourgogne.core import clock
from ebourgogne.core.clock import PARIS
from ebourgogne.indicators import charts
from ebourgogne.indicators.models import Dimension, MonthlyBreakdown, MonthlyFigures, Refresh
from ebourgogne.indicators.services import SUMMED, awards_available

MAX_MONTHS = 120
DAY = 86400


@dataclass(frozen=True)
class Period:
    start: dt.date  # first day of the first month
    end: dt.date  # first day of the last month (included)

    @property
    def months(self) -> list[dt.date]:
        found, current = [], self.start
        while current <= self.end:
            found.append(current)
            current = dt.date(current.year + current.month // 12, current.month % 12 + 1, 1)
        return found

    @property
    def query(self) -> str:
        return f"du={self.start:%Y-%m}&au={self.end:%Y-%m}"


def default_period(months: int = 12) -> Period:
    today = clock.now().astimezone(PARIS).date()
    end = dt.date(today.year, today.month, 1)
    index = end.year * 12 + end.month - 1 - (months - 1)
    return Period(dt.date(index // 12, index % 12 + 1, 1), end)


def fmt(value: float, decimals: int = 0) -> str:
    return number_format(round(value, decimals), decimal_pos=decimals, use_l10n=True, force_grouping=True)


def month_label(month: dt.date) -> str:
    return date_format(month, "F Y")


@dataclass
class Figure:
    key: str  # used in URLs (CSV export) and ids
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)  # first cell: the label; then numbers (int/float) or text
    summary: str = ""
    chart: str = ""
    available: bool = True
    note: str = ""
    decimals: int = 0
    export_url: str = ""  # set by the view

    @property
    def display_rows(self) -> list[list[str]]:
        """The rows as shown in the page's table: numbers in the reader's format."""
        return [
            [fmt(v, 1) if isinstance(v, float) else fmt(v) if isinstance(v, int) else v for v in row]
            for row in self.rows
        ]


@dataclass
class Dashboard:
    scope_key: str
    period: Period
    as_of: dt.datetime | None
    totals: dict
    figures: list[Figure]

    def figure(self, key: str) -> Figure | None:
        return next((figure for figure in self.figures if figure.key == key), None)


def _percent(part: float, whole: float) -> float | None:
    return None if not whole else 100.0 * part / whole


def _trend_sentence(values: list[int], months: list[dt.date], what: str, empty: str) -> str:
    if not values or not sum(values):
        return empty
    peak = max(range(len(values)), key=lambda index: values[index])
    peak_text = _("pic en %(month)s (%(value)s)") % {"month": month_label(months[peak]), "value": fmt(values[peak])}
    half = len(values) // 2
    first, second = sum(values[:half]), sum(values[len(values) - half :])
    if half == 0 or not first:
        return _("%(total)s %(what)s sur la période, %(peak)s.") % {
            "total": fmt(sum(values)),
            "what": what,
            "peak": peak_text,
        }
    change = 100.0 * (second - first) / first
    if abs(change) < 1:
        trend = _("stables entre la première et la seconde moitié de la période")
    elif change > 0:
        trend = _("en hausse de %(n)s %% entre la première et la seconde moitié de la période") % {"n": fmt(change)}
    else:
        trend = _("en baisse de %(n)s %% entre la première et la seconde moitié de la période") % {"n": fmt(-change)}
    return _("%(total)s %(what)s, %(trend)s ; %(peak)s.") % {
        "total": fmt(sum(values)),
        "what": what,
        "trend": trend,
        "peak": peak_text,
    }


def _share_sentence(rows: list[tuple[str, int]], total: int) -> str:
    if not total:
        return _("Aucune consultation publiée sur la période.")
    first = rows[0]
    sentence = _("%(label)s : %(share)s %% des consultations publiées") % {
        "label": first[0],
        "share": fmt(100.0 * first[1] / total),
    }
    if len(rows) > 1:
        sentence += _(", devant %(label)s (%(share)s %%)") % {
            "label": rows[1][0],
            "share": fmt(100.0 * rows[1][1] / total),
        }
    return sentence + "."


def _division_labels(keys) -> dict[str, str]:
    codes = CpvCode.objects.filter(code__in=[f"{key}000000" for key in keys])
    return {code.code[:2]: f"{code.code[:2]} — {code.label}" for code in codes}


def dashboard(scope_key: str, period: Period) -> Dashboard:
    months = period.months
    rows = MonthlyFigures.objects.filter(scope_key=scope_key, month__gte=period.start, month__lte=period.end)
    per_month = {row["month"]: row for row in rows.values("month", "published", "downloads").order_by()}
    totals = rows.aggregate(**{name: Sum(name) for name in SUMMED})
    totals = {name: value or 0 for name, value in totals.items()}
    breakdown: dict[str, dict[str, int]] = defaultdict(dict)
    for dimension, key, count in (
        MonthlyBreakdown.objects.filter(scope_key=scope_key, month__gte=period.start, month__lte=period.end)
        .values("dimension", "key")
        .annotate(n=Sum("published"))
        .order_by()
        .values_list("dimension", "key", "n")
    ):
        breakdown[dimension][key] = count
    refresh = Refresh.objects.filter(scope_key=scope_key).first()
    figures = [
        _published(months, per_month),
        _cpv(breakdown[Dimension.CPV], totals["published"]),
        _procedures(breakdown[Dimension.PROCEDURE], totals["published"]),
        _downloads(months, per_month),
        _bids(totals),
        _electronic(totals),
        _sme(totals),
        _delays(totals),
        _amendments(totals),
    ]
    return Dashboard(scope_key, period, refresh.computed_at if refresh else None, totals, figures)


def _published(months, per_month) -> Figure:
    values = [per_month.get(month, {}).get("published", 0) for month in months]
    title = _("Consultations publiées par mois")
    summary = _trend_sentence(
        values, months, _("consultations publiées"), _("Aucune consultation publiée sur la période.")
    )
    return Figure(
        key="publications",
        title=title,
        columns=[_("Mois"), _("Consultations publiées")],
        rows=[[month_label(month), value] for month, value in zip(months, values, strict=True)],
        summary=summary,
        chart=charts.column_chart("chart-publications", title, summary, [f"{m:%m/%y}" for m in months], values),
    )


def _cpv(counts: dict[str, int], total: int) -> Figure:
    labels = _division_labels(counts)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    rows = [(labels.get(key, key), count) for key, count in ordered]
    title = _("Consultations publiées par division CPV")
    summary = _share_sentence(rows, total)
    top = rows[:10]
    if len(rows) > 10:
        top.append((_("Autres divisions"), sum(count for _label, count in rows[10:])))
    return Figure(
        key="cpv",
        title=title,
        columns=[_("Division CPV"), _("Consultations publiées"), _("Part (%)")],
        rows=[[label, count, round(100.0 * count / total, 1) if total else 0] for label, count in rows],
        summary=summary,
        chart=charts.bar_chart("chart-cpv", title, summary, [label for label, _n in top], [n for _l, n in top])
        if rows
        else "",
    )


def _procedures(counts: dict[str, int], total: int) -> Figure:
    names = dict(Procedure.choices)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    rows = [(str(names.get(key, key)), count) for key, count in ordered]
    title = _("Répartition par procédure")
    summary = _share_sentence(rows, total)
    return Figure(
        key="procedures",
        title=title,
        columns=[_("Procédure"), _("Consultations publiées"), _("Part (%)")],
        rows=[[label, count, round(100.0 * count / total, 1) if total else 0] for label, count in rows],
        summary=summary,
        chart=charts.bar_chart(
            "chart-procedures",
            title,
            summary,
            [label for label, _n in rows],
            [round(100.0 * n / total, 1) for _l, n in rows],
            decimals=1,
            suffix=" %",
        )
        if rows
        else "",
    )


def _downloads(months, per_month) -> Figure:
    values = [per_month.get(month, {}).get("downloads", 0) for month in months]
    title = _("Téléchargements du DCE, par mois de publication")
    summary = _trend_sentence(
        values, months, _("téléchargements du DCE"), _("Aucun téléchargement du DCE sur la période.")
    )
    return Figure(
        key="downloads",
        title=title,
        columns=[_("Mois de publication"), _("Téléchargements")],
        rows=[[month_label(month), value] for month, value in zip(months, values, strict=True)],
        summary=summary,
        chart=charts.column_chart("chart-downloads", title, summary, [f"{m:%m/%y}" for m in months], values),
    )


DISTRIBUTION = (
    ("bids_0", "0"),
    ("bids_1", "1"),
    ("bids_2", "2"),
    ("bids_3", "3"),
    ("bids_4", "4"),
    ("bids_5_9", "5–9"),
    ("bids_10", "10+"),
)


def _bids(totals) -> Figure:
    closed, bids = totals["closed"], totals["bids"]
    title = _("Nombre de plis par consultation")
    rows = [[_("%(n)s pli(s)") % {"n": label}, totals[name]] for name, label in DISTRIBUTION]
    if closed:
        mean = bids / closed
        summary = _(
            "En moyenne %(mean)s plis par consultation close (%(bids)s plis pour %(closed)s consultations) ; "
            "%(none)s %% n'ont reçu aucun pli."
        ) % {
            "mean": fmt(mean, 1),
            "bids": fmt(bids),
            "closed": fmt(closed),
            "none": fmt(100.0 * totals["bids_0"] / closed),
        }
    else:
        summary = _("Aucune consultation dont la date limite est passée sur la période.")
    return Figure(
        key="bids",
        title=title,
        columns=[_("Plis reçus"), _("Consultations")],
        rows=rows,
        summary=summary,
        chart=charts.bar_chart("chart-bids", title, summary, [row[0] for row in rows], [row[1] for row in rows])
        if closed
        else "",
        note=_(
            "Consultations dont la date limite de remise des plis est passée (hors annulées) ; plis déposés dans "
            "les délais, dernier dépôt de chaque entreprise, copies de sauvegarde exclues."
        ),
    )


def _electronic(totals) -> Figure:
    bids = totals["bids"]
    return Figure(
        key="electronic",
        title=_("Part des plis électroniques"),
        columns=[_("Indicateur"), _("Valeur")],
        rows=[[_("Plis électroniques reçus"), bids], [_("Part des plis électroniques (%)"), 100.0 if bids else 0]],
        summary=_("100 %% des %(n)s plis reçus par la plateforme sont électroniques.") % {"n": fmt(bids)}
        if bids
        else _("Aucun pli reçu sur la période."),
        note=_(
            "La plateforme ne reçoit que des plis électroniques ; les plis papier, encore possibles sous le seuil "
            "de dématérialisation obligatoire (40 000 € HT), ne lui sont pas déclarés et ne sont pas comptés."
        ),
        decimals=1,
    )


def _sme(totals) -> Figure:
    bids, sme = totals["bids"], totals["sme_bids"]
    available = awards_available()
    share_bidders = _percent(sme, bids)
    share_winners = _percent(totals["sme_winners"], totals["winners"]) if available else None
    rows = [[_("PME parmi les plis reçus (%)"), round(share_bidders, 1) if share_bidders is not None else "—"]]
    rows.append(
        [
            _("PME parmi les attributaires (%)"),
            round(share_winners, 1)
            if share_winners is not None
            else (_("pas encore disponible") if not available else "—"),
        ]
    )
    if share_bidders is None:
        summary = _("Aucun pli reçu sur la période.")
    else:
        summary = _("%(share)s %% des plis reçus viennent de PME (%(sme)s sur %(bids)s).") % {
            "share": fmt(share_bidders),
            "sme": fmt(sme),
            "bids": fmt(bids),
        }
    if share_winners is not None:
        summary += " " + _("%(share)s %% des attributaires sont des PME.") % {"share": fmt(share_winners)}
    elif not available:
        summary += " " + _("La part des PME parmi les attributaires n'est pas encore disponible.")
    chart_rows = [(row[0], row[1]) for row in rows if isinstance(row[1], float)]
    return Figure(
        key="sme",
        title=_("Part des PME"),
        columns=[_("Indicateur"), _("Valeur")],
        rows=rows,
        summary=summary,
        chart=charts.bar_chart(
            "chart-sme",
            _("Part des PME"),
            summary,
            [label for label, _v in chart_rows],
            [value for _l, value in chart_rows],
            decimals=1,
            suffix=" %",
        )
        if chart_rows
        else "",
        note=_("PME : entreprise déclarée comme petite ou moyenne entreprise dans son profil."),
        decimals=1,
    )


def _mean_days(seconds: int, count: int) -> float | None:
    return None if not count else seconds / count / DAY


def _delays(totals) -> Figure:
    available = awards_available()
    answer = _mean_days(totals["answer_seconds"], totals["published"])
    award = _mean_days(totals["award_seconds"], totals["award_count"]) if available else None
    notification = _mean_days(totals["notification_seconds"], totals["notification_count"]) if available else None
    missing = _("pas encore disponible") if not available else "—"

    def cell(value):
        return round(value, 1) if value is not None else missing

    rows = [
        [_("Publication → date limite des plis (jours)"), cell(answer)],
        [_("Date limite → attribution (jours)"), cell(award)],
        [_("Attribution → notification du marché (jours)"), cell(notification)],
    ]
    if answer is None:
        summary = _("Aucune consultation publiée sur la période.")
    else:
        summary = _("Les entreprises ont eu en moyenne %(days)s jours pour répondre.") % {"days": fmt(answer, 1)}
    if award is not None:
        summary += " " + _("L'attribution intervient en moyenne %(days)s jours après la date limite.") % {
            "days": fmt(award, 1)
        }
    elif not available:
        summary += " " + _("Les délais d'attribution et de notification ne sont pas encore disponibles.")
    if notification is not None:
        summary += " " + _("Le marché est notifié au titulaire en moyenne %(days)s jours après l'attribution.") % {
            "days": fmt(notification, 1)
        }
    chart_rows = [(row[0], row[1]) for row in rows if isinstance(row[1], float)]
    return Figure(
        key="delays",
        title=_("Délais moyens"),
        columns=[_("Délai"), _("Jours (moyenne)")],
        rows=rows,
        summary=summary,
        chart=charts.bar_chart(
            "chart-delays",
            _("Délais moyens"),
            summary,
            [label for label, _v in chart_rows],
            [value for _l, value in chart_rows],
            decimals=1,
            suffix=" j",
        )
        if chart_rows
        else "",
        note=_(
            "Attribution → notification du marché : de la décision d'attribution à la notification du marché "
            "signé à son titulaire sur la plateforme (marchés notifiés seulement)."
        ),
        decimals=1,
    )


def _euros(cents: int) -> int:
    """Whole euros (half away from zero), for the tables and the CSV."""
    return int((abs(cents) + 50) // 100) * (1 if cents >= 0 else -1)


def _amendments(totals) -> Figure:
    contracts, initial = totals["contracts"], totals["contract_cents"]
    modifications, changes = totals["modifications"], totals["modification_cents"]
    share = _percent(changes, initial)
    title = _("Part des avenants dans les montants initiaux")
    rows = [
        [_("Marchés notifiés"), contracts],
        [_("Montant initial des marchés notifiés (€ HT)"), _euros(initial)],
        [_("Avenants notifiés"), modifications],
        [_("Montant des avenants (€ HT)"), _euros(changes)],
        [_("Montant des avenants / montant initial (%)"), round(share, 1) if share is not None else "—"],
    ]
    if share is None:
        summary = _("Aucun marché notifié pour les consultations de la période.")
    else:
        summary = _(
            "Les avenants notifiés représentent %(share)s %% du montant initial des %(contracts)s marché(s) notifié(s) "
            "(%(changes)s € sur %(initial)s € HT, %(modifications)s avenant(s))."
        ) % {
            "share": fmt(share, 1),
            "contracts": fmt(contracts),
            "changes": fmt(_euros(changes)),
            "initial": fmt(_euros(initial)),
            "modifications": fmt(modifications),
        }
    chart = ""
    if share is not None and changes >= 0:
        labels = [_("Montant initial (€ HT)"), _("Avenants (€ HT)")]
        chart = charts.bar_chart(
            "chart-amendments", title, summary, labels, [_euros(initial), _euros(changes)], suffix=" €"
        )
    return Figure(
        key="amendments",
        title=title,
        columns=[_("Indicateur"), _("Valeur")],
        rows=rows,
        summary=summary,
        chart=chart,
        note=_(
            "Marchés notifiés à leur titulaire sur la plateforme, des consultations publiées sur la période ; "
            "montant initial : forfaitaire, ou maximum d'un accord-cadre ; avenants : modifications notifiées, "
            "une baisse comptant en moins. Montants hors taxes."
        ),
        decimals=1,
    )


def departments() -> list[tuple[str, int]]:
    """(department code, consultations published) of every department with figures, all time."""
    return list(
        MonthlyFigures.objects.filter(scope_key__startswith="d:")
        .values("department")
        .annotate(n=Sum("published"))
        .order_by("department")
        .values_list("department", "n")
    )
