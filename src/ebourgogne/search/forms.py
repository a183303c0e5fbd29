"""The search form of the portal (GET): every field optional, every bad value a clear message."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from ebourgogne.consultations.models import ContractType, Procedure
from ebourgogne.organisations.seed_data import DEPARTMENTS
from ebourgogne.search import selectors
from ebourgogne.search.selectors import MAX_PAGES, Criteria, Sort, StateFilter
from ebourgogne.search.text import MAX_QUERY_CHARS

_CPV = re.compile(r"^\s*(\d{8})(?:-\d)?\s*$")
MAX_VALUE = 10**13
MIN_YEAR, MAX_YEAR = 2000, 2100


class _ChoiceField(forms.ChoiceField):
    """A ChoiceField whose per-form copy shares the choices instead of copying them (Django deep-copies
    every field for each form instance; the department's hundred choices were most of that copy on
    each search request). The choices are never changed after the class is defined."""

    def __deepcopy__(self, memo):
        result = forms.Field.__deepcopy__(self, memo)
        result._choices = self._choices
        return result


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Mots-clés"),
        required=False,
        max_length=MAX_QUERY_CHARS,
        help_text=_("Par exemple : voirie, restauration scolaire, maintenance informatique."),
    )
    cpv = forms.CharField(
        label=_("Code CPV"),
        required=False,
        max_length=10,
        help_text=_("8 chiffres ; un code trouve aussi ses sous-codes (45000000 : tous les travaux)."),
    )
    department = _ChoiceField(
        label=_("Département d'exécution"),
        required=False,
        choices=[("", _("Tous"))] + [(code, f"{name} ({code})") for code, name in DEPARTMENTS.items()],
    )
    buyer = forms.SlugField(label=_("Acheteur (identifiant)"), required=False, max_length=80)
    procedure = _ChoiceField(label=_("Procédure"), required=False, choices=[("", _("Toutes")), *Procedure.choices])
    contract_type = _ChoiceField(
        label=_("Type de marché"), required=False, choices=[("", _("Tous")), *ContractType.choices]
    )
    deadline_from = forms.DateField(
        label=_("Date limite à partir du"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Format AAAA-MM-JJ."),
    )
    deadline_to = forms.DateField(
        label=_("Date limite jusqu'au"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Format AAAA-MM-JJ."),
    )
    closing_within = forms.IntegerField(
        label=_("Se terminant dans les (jours)"), required=False, min_value=1, max_value=366
    )
    value_min = forms.DecimalField(
        label=_("Valeur estimée minimale (€ HT)"), required=False, min_value=0, max_value=MAX_VALUE, decimal_places=2
    )
    value_max = forms.DecimalField(
        label=_("Valeur estimée maximale (€ HT)"), required=False, min_value=0, max_value=MAX_VALUE, decimal_places=2
    )
    state = _ChoiceField(label=_("État"), required=False, choices=StateFilter.CHOICES)
    sort = _ChoiceField(label=_("Trier par"), required=False, choices=[("", _("Par défaut")), *Sort.CHOICES])
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, fixed_buyer: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fixed_buyer = fixed_buyer
        if fixed_buyer:
            del self.fields["buyer"]

    def clean_cpv(self) -> str:
        value = self.cleaned_data.get("cpv", "")
        if not value:
            return ""
        found = _CPV.match(value)
        if not found:
            raise forms.ValidationError(_("Un code CPV s'écrit avec 8 chiffres, par exemple 45000000."))
        code = found.group(1)
        if not selectors.cpv_exists(code):
            raise forms.ValidationError(_("Le code CPV %(code)s n'existe pas.") % {"code": code})
        return code

    def clean_buyer(self) -> str:
        slug = self.cleaned_data.get("buyer", "")
        if slug and selectors.buyer_for_slug(slug) is None:
            raise forms.ValidationError(_("Aucun acheteur public ne porte cet identifiant."))
        return slug

    def _clean_date(self, name: str):
        value = self.cleaned_data.get(name)
        if value is not None and not (MIN_YEAR <= value.year <= MAX_YEAR):
            raise forms.ValidationError(
                _("Choisissez une date entre %(first)d et %(last)d.") % {"first": MIN_YEAR, "last": MAX_YEAR}
            )
        return value

    def clean_deadline_from(self):
        return self._clean_date("deadline_from")

    def clean_deadline_to(self):
        return self._clean_date("deadline_to")

    def clean_page(self) -> int:
        page = self.cleaned_data.get("page") or 1
        if page > MAX_PAGES:
            raise forms.ValidationError(
                _("Seules les %(max)d premières pages de résultats sont consultables : précisez votre recherche.")
                % {"max": MAX_PAGES}
            )
        return page

    def clean(self):
        data = super().clean()
        start, end = data.get("deadline_from"), data.get("deadline_to")
        if start and end and start > end:
            self.add_error("deadline_to", _("La date de fin précède la date de début."))
        low, high = data.get("value_min"), data.get("value_max")
        if low is not None and high is not None and low > high:
            self.add_error("value_max", _("La valeur maximale est inférieure à la valeur minimale."))
        return data

    def criteria(self) -> Criteria:
        data = self.cleaned_data
        return Criteria(
            q=data.get("q", ""),
            cpv=data.get("cpv", ""),
            department=data.get("department", ""),
            buyer=self.fixed_buyer or data.get("buyer", ""),
            procedure=data.get("procedure", ""),
            contract_type=data.get("contract_type", ""),
            deadline_from=data.get("deadline_from"),
            deadline_to=data.get("deadline_to"),
            value_min=data.get("value_min"),
            value_max=data.get("value_max"),
            closing_within=data.get("closing_within"),
            state=data.get("state") or StateFilter.OPEN,
            sort=data.get("sort", ""),
        )
