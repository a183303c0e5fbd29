"""The filter form of the journal pages (a GET form: filters and keyset cursors)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.apps import apps
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ebourgogne.audit.actions import ACTION_LABELS
from ebourgogne.audit.selectors import EventFilters

ACTION_PREFIX = re.compile(r"^[a-z0-9_.]*$")
MIN_YEAR, MAX_YEAR = 1900, 9998
MAX_SEQ = 2**63 - 1


def object_type_choices() -> list[tuple[str, str]]:
    """The platform's own models (and users), by their verbose name."""
    choices = []
    for model in apps.get_models():
        if model.__module__.startswith("ebourgogne.") and model._meta.app_label != "audit":
            choices.append((model._meta.label_lower, str(model._meta.verbose_name).capitalize()))
    return [("", _("Tous les objets")), *sorted(choices, key=lambda choice: choice[1])]


def _start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


PAGE_ERRORS = {
    "invalid": _("Page demandée invalide."),
    "min_value": _("Page demandée invalide."),
    "max_value": _("Page demandée invalide."),
}


class EventFilterForm(forms.Form):
    object_type = forms.ChoiceField(label=_("Type d'objet"), required=False)
    object_id = forms.CharField(
        label=_("Identifiant de l'objet"),
        required=False,
        max_length=64,
        help_text=_("Le numéro de l'objet, par exemple celui d'une consultation."),
    )
    action = forms.CharField(
        label=_("Action"),
        required=False,
        max_length=100,
        validators=[
            RegexValidator(
                ACTION_PREFIX, _("Un code d'action ne contient que des lettres minuscules, chiffres, « _ » et « . ».")
            )
        ],
        help_text=_("Un code d'action ou son début : « account » couvre toutes les actions sur les comptes."),
        widget=forms.TextInput(attrs={"list": "audit-action-codes", "autocomplete": "off"}),
    )
    actor = forms.CharField(
        label=_("Auteur"),
        required=False,
        max_length=254,
        help_text=_("Adresse électronique de la personne."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "email"}),
    )
    date_from = forms.DateField(
        label=_("Du"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("Au (inclus)"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    before = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_SEQ, widget=forms.HiddenInput, error_messages=PAGE_ERRORS
    )
    after = forms.IntegerField(
        required=False, min_value=0, max_value=MAX_SEQ, widget=forms.HiddenInput, error_messages=PAGE_ERRORS
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = object_type_choices()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name in ("date_from", "date_to"):
            day = cleaned.get(name)
            if day is not None and not (MIN_YEAR <= day.year <= MAX_YEAR):
                self.add_error(
                    name, _("Indiquez une date entre %(min)s et %(max)s.") % {"min": MIN_YEAR, "max": MAX_YEAR}
                )
                cleaned.pop(name, None)
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("La date de fin doit suivre la date de début."))
        if cleaned.get("before") is not None and cleaned.get("after") is not None:
            raise forms.ValidationError(_("Page demandée invalide."))
        return cleaned

    def filters(self, **extra: Any) -> EventFilters:
        data = self.cleaned_data
        date_to = data.get("date_to")
        return EventFilters(
            object_type=data.get("object_type") or "",
            object_id=(data.get("object_id") or "").strip(),
            action=(data.get("action") or "").strip(),
            actor=(data.get("actor") or "").strip(),
            since=_start_of_day(data["date_from"]) if data.get("date_from") else None,
            until=_start_of_day(date_to + dt.timedelta(days=1)) if date_to else None,
            **extra,
        )

    @staticmethod
    def known_actions() -> list[tuple[str, str]]:
        return sorted((code, str(label)) for code, label in ACTION_LABELS.items())


class OperatorEventFilterForm(EventFilterForm):
    organisation = forms.SlugField(
        label=_("Organisation"),
        required=False,
        max_length=80,
        help_text=_("Identifiant de l'organisation (tel qu'il apparaît dans ses adresses)."),
    )

    field_order = ["organisation", "object_type", "object_id", "action", "actor", "date_from", "date_to"]

    def clean_organisation(self) -> Any:
        from ebourgogne.organisations.models import Organisation

        slug = self.cleaned_data.get("organisation")
        if not slug:
            return None
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is None:
            raise forms.ValidationError(_("Aucune organisation ne porte cet identifiant."))
        return organisation

    def filters(self, **extra: Any) -> EventFilters:
        organisation = self.cleaned_data.get("organisation")
        return super().filters(organisation_id=organisation.pk if organisation else None, **extra)
