from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ebourgogne.apitokens.models import ApiToken
from ebourgogne.core import clock


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Nom du jeton"),
        max_length=ApiToken._meta.get_field("name").max_length,
        help_text=_("Pour le reconnaître : l'application ou le script qui l'utilisera."),
    )
    expires_on = forms.DateField(
        label=_("Valable jusqu'au (inclus)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Facultatif. Sans date, le jeton reste valable jusqu'à ce que vous le révoquiez."),
    )

    def clean_expires_on(self) -> dt.date | None:
        value = self.cleaned_data.get("expires_on")
        if value is not None and value < clock.today_local():
            raise forms.ValidationError(_("Choisissez une date à venir."))
        return value

    def expires_at(self) -> dt.datetime | None:
        """The end of the chosen day in Europe/Paris (the first instant of the next day), or None."""
        value = self.cleaned_data.get("expires_on")
        if value is None:
            return None
        next_day = dt.datetime.combine(value + dt.timedelta(days=1), dt.time.min)
        return timezone.make_aware(next_day, timezone.get_default_timezone())
