"""The period filter of the dashboards: from month / to month (YYYY-MM, both included)."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from ebourgogne.indicators.selectors import MAX_MONTHS, Period, default_period

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _month(value: str) -> dt.date:
    found = MONTH.match(value.strip())
    if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 2000:
        raise forms.ValidationError(_("Indiquez un mois sous la forme AAAA-MM, par exemple 2026-03."), code="month")
    return dt.date(int(found.group(1)), int(found.group(2)), 1)


class PeriodForm(forms.Form):
    du = forms.CharField(
        label=_("Du mois"),
        required=False,
        max_length=7,
        help_text=_("AAAA-MM, inclus"),
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-01"}),
    )
    au = forms.CharField(
        label=_("Au mois"),
        required=False,
        max_length=7,
        help_text=_("AAAA-MM, inclus"),
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-12"}),
    )

    def clean_du(self):
        value = self.cleaned_data["du"]
        return _month(value) if value else None

    def clean_au(self):
        value = self.cleaned_data["au"]
        return _month(value) if value else None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        default = default_period()
        end = data.get("au") or default.end
        start = data.get("du") or default_period_before(end)
        if start > end:
            raise forms.ValidationError(_("Le mois de début doit précéder le mois de fin."), code="order")
        if (end.year - start.year) * 12 + end.month - start.month + 1 > MAX_MONTHS:
            raise forms.ValidationError(
                _("La période ne peut dépasser %(n)s mois.") % {"n": MAX_MONTHS}, code="too_long"
            )
        data["period"] = Period(start, end)
        return data


def default_period_before(end: dt.date) -> dt.date:
    index = end.year * 12 + end.month - 1 - 11
    return dt.date(index // 12, index % 12 + 1, 1)


def period_from(query) -> tuple[PeriodForm, Period, bool]:
    """(form, period, valid) from a GET query; an invalid query gives the default period and the errors."""
    form = PeriodForm(query or None)
    if not query or not form.is_valid():
        return form, default_period(), not query or form.is_valid()
    return form, form.cleaned_data["period"], True
