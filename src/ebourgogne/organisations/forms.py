"""Forms of the organisation pages. They check the shape of each field; the rules (duplicates, rights,
last administrator...) live in `services`, whose `InvalidData` errors are put back on the fields."""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ebourgogne.core.errors import DomainError
from ebourgogne.organisations import identifiers
from ebourgogne.organisations.models import LEGAL_FORMS, BuyerKind, Organisation
from ebourgogne.organisations.roles import ROLES_BY_KIND, OrganisationKind, Role
from ebourgogne.organisations.services import EDITABLE_FIELDS, InvalidData


def add_service_errors(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal on the form: on each field it names, else at the top."""
    if isinstance(error, InvalidData):
        for field, messages in error.errors.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
    else:
        form.add_error(None, error.message)


class _IdentifierMixin:
    """Runs the shared identifier checks on the fields that exist in the form."""

    checks = {
        "siren": identifiers.clean_siren,
        "naf_code": identifiers.clean_naf_code,
        "postal_code": identifiers.clean_postal_code,
        "department": identifiers.clean_department,
    }

    def clean(self):
        cleaned = super().clean()  # type: ignore[misc]
        for name, cleaner in self.checks.items():
            value = cleaned.get(name)
            if name in self.fields and value:  # type: ignore[attr-defined]
                try:
                    cleaned[name] = cleaner(value)
                except identifiers.InvalidIdentifier as invalid:
                    self.add_error(name, invalid.message)  # type: ignore[attr-defined]
        if "siret" in self.fields and cleaned.get("siret"):  # type: ignore[attr-defined]
            try:
                cleaned["siret"] = identifiers.clean_siret(cleaned["siret"])
            except identifiers.InvalidIdentifier as invalid:
                self.add_error("siret", invalid.message)  # type: ignore[attr-defined]
        if "insee_code" in self.fields and cleaned.get("insee_code"):  # type: ignore[attr-defined]
            department = cleaned.get("department") if "department" not in self.errors else None  # type: ignore[attr-defined]
            try:
                cleaned["insee_code"] = identifiers.clean_insee_code(cleaned["insee_code"], department)
            except identifiers.InvalidIdentifier as invalid:
                self.add_error("insee_code", invalid.message)  # type: ignore[attr-defined]
        return cleaned


def _text(label, *, max_length: int, required: bool = True, help_text: str = "", autocomplete: str = "", **attrs: Any):
    widget_attrs = {"autocomplete": autocomplete} if autocomplete else {}
    widget_attrs.update(attrs)
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        help_text=help_text,
        widget=forms.TextInput(attrs=widget_attrs),
    )


def _address_fields() -> dict[str, forms.Field]:
    return {
        "street": _text(_("Adresse (numéro et voie)"), max_length=255, autocomplete="street-address"),
        "postal_code": _text(_("Code postal"), max_length=5, autocomplete="postal-code", inputmode="numeric"),
        "city": _text(_("Commune"), max_length=120, autocomplete="address-level2"),
        "insee_code": _text(
            _("Code INSEE de la commune"),
            max_length=5,
            help_text=_("5 caractères, différent du code postal : 21231 pour Dijon, 89024 pour Auxerre."),
        ),
        "department": _text(_("Département"), max_length=3, help_text=_("Par exemple 21, 58, 71 ou 89.")),
        "email": forms.EmailField(
            label=_("Adresse électronique de contact (facultatif)"),
            required=False,
            widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        ),
    }


class CompanyForm(_IdentifierMixin, forms.Form):
    name = _text(_("Raison sociale"), max_length=255, autocomplete="organization")
    siren = _text(
        _("Numéro SIREN"), max_length=11, inputmode="numeric", help_text=_("9 chiffres, par exemple 732 829 320.")
    )
    siret = _text(
        _("SIRET du siège (facultatif)"),
        max_length=17,
        required=False,
        inputmode="numeric",
        help_text=_("14 chiffres : le SIREN suivi des 5 chiffres de l'établissement."),
    )
    legal_form = forms.ChoiceField(label=_("Forme juridique"), choices=[("", _("Choisissez…")), *LEGAL_FORMS])
    naf_code = _text(_("Code NAF (APE)"), max_length=6, help_text=_("Par exemple 43.32A ou 62.01Z."))
    is_sme = forms.BooleanField(
        label=_("L'entreprise est une PME (moins de 250 salariés)"),
        required=False,
        initial=True,
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields.update(_address_fields())

    def clean(self):
        cleaned = super().clean()
        siren, siret = cleaned.get("siren"), cleaned.get("siret")
        if siren and siret and "siret" not in self.errors and "siren" not in self.errors and siret[:9] != siren:
            self.add_error(
                "siret", _("Ce SIRET n'appartient pas à l'entreprise : ses 9 premiers chiffres doivent être le SIREN.")
            )
        return cleaned


class BuyerForm(_IdentifierMixin, forms.Form):
    name = _text(_("Nom de l'acheteur"), max_length=255, help_text=_("Par exemple « Commune de Beaune »."))
    siret = _text(_("Numéro SIRET"), max_length=17, inputmode="numeric", help_text=_("14 chiffres."))
    buyer_kind = forms.ChoiceField(
        label=_("Nature de l'acheteur"), choices=[("", _("Choisissez…")), *BuyerKind.choices]
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields.update(_address_fields())
        self.fields["admin_email"] = forms.EmailField(
            label=_("Adresse électronique du premier administrateur"),
            help_text=_("Cette personne reçoit une invitation valable 7 jours pour administrer l'acheteur."),
        )


class OrganisationEditForm(_IdentifierMixin, forms.Form):
    """The editable fields of one organisation, depending on its kind."""

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any):
        kwargs.setdefault(
            "initial", {field: getattr(organisation, field) for field in EDITABLE_FIELDS[organisation.kind]}
        )
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.fields["name"] = _text(_("Nom"), max_length=255)
        if organisation.kind == OrganisationKind.PLATFORM:
            self.fields["email"] = _address_fields()["email"]
            return
        if organisation.kind == OrganisationKind.COMPANY:
            self.fields["siret"] = copy.deepcopy(CompanyForm.base_fields["siret"])
            self.fields["legal_form"] = copy.deepcopy(CompanyForm.base_fields["legal_form"])
            self.fields["naf_code"] = copy.deepcopy(CompanyForm.base_fields["naf_code"])
            self.fields["is_sme"] = copy.deepcopy(CompanyForm.base_fields["is_sme"])
        if organisation.kind == OrganisationKind.BUYER:
            self.fields["buyer_kind"] = copy.deepcopy(BuyerForm.base_fields["buyer_kind"])
        self.fields.update(_address_fields())

    def clean(self):
        cleaned = super().clean()
        siret = cleaned.get("siret")
        if siret and "siret" not in self.errors and siret[:9] != self.organisation.siren:
            self.add_error(
                "siret", _("Ce SIRET n'appartient pas à l'entreprise : ses 9 premiers chiffres doivent être le SIREN.")
            )
        return cleaned


def role_choices(organisation: Organisation) -> list[tuple[str, str]]:
    return [(role, Role(role).label) for role in ROLES_BY_KIND[organisation.kind]]


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label=_("Adresse électronique de la personne à inviter"),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(label=_("Rôle"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(organisation)


class MemberRolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("Rôles"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Décochez tous les rôles pour retirer la personne de l'organisation."),
        required=False,
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = role_choices(organisation)


class ServiceForm(forms.Form):
    name = _text(_("Nom du service"), max_length=255, help_text=_("Par exemple « Direction de la commande publique »."))
    parent = forms.TypedChoiceField(label=_("Rattaché à"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, parents: list[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", _("Aucun : service principal")), *((s.pk, s.name) for s in parents)]


class ServiceRenameForm(forms.Form):
    name = _text(_("Nouveau nom"), max_length=255)


class OperatorSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Rechercher"),
        required=False,
        max_length=100,
        help_text=_("Nom, SIREN, SIRET, commune ou code postal."),
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    kind = forms.ChoiceField(label=_("Type"), required=False, choices=[("", _("Tous")), *OrganisationKind.choices])
