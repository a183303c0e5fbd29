"""The alert form: the portal search's criteria, several values each, and the delivery. Every value is
checked by alerts.services (the same rules for the pages and the API); a refusal is a field's message."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ebourgogne.alerts import services
from ebourgogne.alerts.models import Delivery
from ebourgogne.consultations.models import ContractType, Procedure
from ebourgogne.core.errors import DomainError
from ebourgogne.organisations.seed_data import DEPARTMENTS


def _checked(function, value):
    try:
        return function(value)
    except DomainError as error:
        raise forms.ValidationError(error.message) from None


class AlertForm(forms.Form):
    name = forms.CharField(
        label=_("Nom de l'alerte"),
        max_length=services.MAX_NAME,
        help_text=_("Pour la reconnaître dans vos courriels, par exemple « Voirie en Côte-d'Or »."),
    )
    q = forms.CharField(
        label=_("Mots-clés"),
        required=False,
        max_length=services.MAX_QUERY_CHARS,
        help_text=_(
            "Tous les mots doivent figurer dans la consultation (titre, objet, lots, acheteur, lieu), "
            "comme dans la recherche du portail ; 12 mots au plus."
        ),
    )
    cpv_codes = forms.CharField(
        label=_("Codes CPV"),
        required=False,
        max_length=400,
        help_text=_(
            "Un ou plusieurs codes de 8 chiffres séparés par des espaces ; chaque code trouve aussi ses "
            "sous-codes (45000000 : tous les travaux)."
        ),
    )
    departments = forms.MultipleChoiceField(
        label=_("Départements d'exécution"),
        required=False,
        choices=[(code, f"{name} ({code})") for code, name in DEPARTMENTS.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    buyers = forms.CharField(
        label=_("Acheteurs (identifiants)"),
        required=False,
        max_length=1000,
        help_text=_(
            "L'identifiant figure dans l'adresse de la page de l'acheteur ; plusieurs : séparez-les par des espaces."
        ),
    )
    procedures = forms.MultipleChoiceField(
        label=_("Procédures"), required=False, choices=Procedure.choices, widget=forms.CheckboxSelectMultiple
    )
    contract_types = forms.MultipleChoiceField(
        label=_("Types de marché"), required=False, choices=ContractType.choices, widget=forms.CheckboxSelectMultiple
    )
    value_min = forms.CharField(label=_("Valeur estimée minimale (€ HT)"), required=False, max_length=20)
    value_max = forms.CharField(label=_("Valeur estimée maximale (€ HT)"), required=False, max_length=20)
    delivery = forms.ChoiceField(
        label=_("Recevoir les consultations trouvées"),
        choices=Delivery.choices,
        initial=Delivery.DAILY,
        widget=forms.RadioSelect,
    )
    company = forms.ChoiceField(label=_("Au nom de l'entreprise"), required=False)

    def __init__(self, *args, companies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"].choices = [("", _("Moi seulement"))] + [(str(c.pk), c.name) for c in companies]
        if len(companies) <= 1:
            del self.fields["company"]

    def clean_name(self):
        return _checked(services.clean_name, self.cleaned_data.get("name"))

    def clean_q(self):
        return _checked(services.clean_q, self.cleaned_data.get("q"))

    def clean_cpv_codes(self):
        return _checked(services.clean_cpv_codes, self.cleaned_data.get("cpv_codes"))

    def clean_buyers(self):
        return _checked(services.clean_buyers, self.cleaned_data.get("buyers"))

    def clean_value_min(self):
        return _checked(lambda value: services.clean_value(value, "value_min"), self.cleaned_data.get("value_min"))

    def clean_value_max(self):
        return _checked(lambda value: services.clean_value(value, "value_max"), self.cleaned_data.get("value_max"))

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                services.check_criteria(data)
            except DomainError as error:
                field = error.code if error.code in self.fields else None
                self.add_error(field, error.message)
        return data

    def criteria(self) -> dict:
        return {
            name: self.cleaned_data.get(name)
            for name in (
                "q",
                "cpv_codes",
                "departments",
                "buyers",
                "procedures",
                "contract_types",
                "value_min",
                "value_max",
            )
        }


def initial_from_search(params) -> dict:
    """The alert form's initial values from a portal search's GET parameters (its criteria)."""
    initial = {}
    q = params.get("q", "")[: services.MAX_QUERY_CHARS]
    if q:
        initial["q"] = q
    for single, multiple in (("cpv", "cpv_codes"), ("buyer", "buyers")):
        value = params.get(single, "")[:80]
        if value:
            initial[multiple] = value
    for single, multiple, choices in (
        ("department", "departments", DEPARTMENTS),
        ("procedure", "procedures", dict(Procedure.choices)),
        ("contract_type", "contract_types", dict(ContractType.choices)),
    ):
        value = params.get(single, "")
        if value in choices:
            initial[multiple] = [value]
    for name in ("value_min", "value_max"):
        value = params.get(name, "")[:20]
        if value:
            initial[name] = value
    if q:
        initial["name"] = q[:60]
    return initial
