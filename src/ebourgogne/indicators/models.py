"""Precomputed indicators: monthly figures per buyer, and their sums per department and for the region.

Why precomputed: the regional dashboard covers every consultation and every bid of the platform (a
million consultations, three million bids). Scanning them on each visit would take seconds; instead a
periodic job (`tasks.refresh_indicators`, and a buyer's "refresh" button for its own figures) writes
one `MonthlyFigures` row per (scope, month) and one `MonthlyBreakdown` row per (scope, month, CPV
division or procedure), so that a dashboard sums a few dozen to a few thousand rows.

Scopes (`scope_key`): "b:<organisation id>" for a buyer, "d:<department code>" for a department (the
buyer's department), "r" for the region. Department and region rows are sums of buyer rows, recomputed
after every refresh; they carry no per-company data and are public.

Every figure is attached to the month (Paris time) in which its consultation was published (a cohort):
the bids, downloads, delays, contracts and amendments of a consultation published in March count in
March. Practice consultations and drafts never count. `Refresh` says when each scope was computed ("figures as of").
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

REGION = "r"


def buyer_key(organisation_id: int) -> str:
    return f"b:{organisation_id}"


def department_key(department: str) -> str:
    return f"d:{department or '00'}"


class MonthlyFigures(models.Model):
    """The sums of one scope for the consultations published in one month (see the module's docstring)."""

    scope_key = models.CharField(max_length=24)
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )  # buyer rows only
    department = models.CharField(max_length=3, blank=True)
    month = models.DateField(_("mois"))  # the first day of the month (Paris)

    published = models.PositiveIntegerField(default=0)  # consultations published in the month
    closed = models.PositiveIntegerField(default=0)  # of which the bid deadline has passed (not cancelled)
    bids = models.PositiveIntegerField(default=0)  # deposited bids (kind bid, in time, not superseded) of `closed`
    sme_bids = models.PositiveIntegerField(default=0)
    # Distribution of `closed` consultations by their number of bids.
    bids_0 = models.PositiveIntegerField(default=0)
    bids_1 = models.PositiveIntegerField(default=0)
    bids_2 = models.PositiveIntegerField(default=0)
    bids_3 = models.PositiveIntegerField(default=0)
    bids_4 = models.PositiveIntegerField(default=0)
    bids_5_9 = models.PositiveIntegerField(default=0)
    bids_10 = models.PositiveIntegerField(default=0)
    downloads = models.PositiveIntegerField(default=0)  # DCE downloads (files or archives)
    # Publication -> bid deadline, in seconds, over `published`.
    answer_seconds = models.BigIntegerField(default=0)
    # Award figures (awards app): winners (one per awarded lot), SME winners, and the two delays.
    winners = models.PositiveIntegerField(default=0)
    sme_winners = models.PositiveIntegerField(default=0)
    award_seconds = models.BigIntegerField(default=0)  # bid deadline -> award decision
    award_count = models.PositiveIntegerField(default=0)
    notification_seconds = models.BigIntegerField(default=0)  # award decision -> notification of the contract
    notification_count = models.PositiveIntegerField(default=0)
    # Contract figures (contracts app): notified contracts and their notified modifications (avenants).
    contracts = models.PositiveIntegerField(default=0)  # contracts notified to their holder
    contract_cents = models.BigIntegerField(default=0)  # their initial amounts (€ HT, in cents)
    modifications = models.PositiveIntegerField(default=0)  # notified modifications of those contracts
    modification_cents = models.BigIntegerField(default=0)  # the sum of their amount changes (may be < 0)

    class Meta:
        verbose_name = _("chiffres mensuels")
        verbose_name_plural = _("chiffres mensuels")
        constraints = [models.UniqueConstraint(fields=["scope_key", "month"], name="indicators_figures_unique")]

    def __str__(self) -> str:
        return f"{self.scope_key} {self.month:%Y-%m}"


class Dimension(models.TextChoices):
    CPV = "cpv", _("Division CPV")
    PROCEDURE = "procedure", _("Procédure")


class MonthlyBreakdown(models.Model):
    """Consultations published in one month by one scope, counted per CPV division or per procedure."""

    scope_key = models.CharField(max_length=24)
    month = models.DateField()
    dimension = models.CharField(max_length=16, choices=Dimension.choices)
    key = models.CharField(max_length=32)  # two digits of the division, or the procedure's value
    published = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("répartition mensuelle")
        verbose_name_plural = _("répartitions mensuelles")
        constraints = [
            models.UniqueConstraint(
                fields=["scope_key", "month", "dimension", "key"], name="indicators_breakdown_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope_key} {self.month:%Y-%m} {self.dimension}={self.key}"


class Refresh(models.Model):
    """When the figures of a scope were computed. For the region and the departments, the time of the
    last full refresh: a buyer's own refresh recomputes the sums but not the other buyers' figures."""

    scope_key = models.CharField(max_length=24, unique=True)
    computed_at = models.DateTimeField()
    seconds = models.FloatField(default=0)  # how long the computation took

    class Meta:
        verbose_name = _("calcul des indicateurs")
        verbose_name_plural = _("calculs des indicateurs")

    def __str__(self) -> str:
        return f"{self.scope_key} @ {self.computed_at:%Y-%m-%d %H:%M}"
