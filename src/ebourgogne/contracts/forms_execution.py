"""Forms of the execution pages. They only shape input (text kept as typed, so that a refusal shows it
again); every rule is checked by `contracts.execution`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ebourgogne.contracts.models import ContractState, LegalGround, PriceVariation, SubcontractState
from ebourgogne.core.errors import DomainError
from ebourgogne.organisations.services import InvalidData

DATE_HELP = gettext_lazy("Au format AAAA-MM-JJ, par exemple 2026-12-31.")


def add_service_errors(form: forms.Form, error: DomainError) -> None:
    if isinstance(error, InvalidData):
        for field, messages in error.errors.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
    else:
        form.add_error(None, error.message)


class _DateInput(forms.DateInput):
    input_type = "date"


def _date_field(label: Any, *, required: bool = True) -> forms.CharField:
    # A CharField: the service parses the date, so that a wrong value is shown back as typed.
    return forms.CharField(label=label, required=required, max_length=10, widget=_DateInput, help_text=DATE_HELP)


class ModificationForm(forms.Form):
    legal_ground = forms.ChoiceField(label=gettext_lazy("Fondement juridique"), choices=LegalGround.choices)
    object = forms.CharField(
        label=gettext_lazy("Objet de la modification"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )
    amount_change = forms.CharField(
        label=gettext_lazy("Variation du montant (€ HT)"),
        required=False,
        max_length=30,
        help_text=gettext_lazy(
            "Positive pour une hausse, négative (avec un signe moins) pour une baisse ; 0 ou vide sinon."
        ),
    )
    duration_change_months = forms.CharField(
        label=gettext_lazy("Variation de la durée (mois)"),
        required=False,
        max_length=6,
        help_text=gettext_lazy("Nombre entier de mois, négatif pour une réduction ; 0 ou vide sinon."),
    )
    effective_on = _date_field(gettext_lazy("Prend effet le"))
    new_holder_name = forms.CharField(
        label=gettext_lazy("Nouveau titulaire (raison sociale) — uniquement pour R2194-6"),
        max_length=255,
        required=False,
        help_text=gettext_lazy(
            "Seulement pour une modification fondée sur R2194-6 (cession, fusion...) ; laissez vide sinon."
        ),
    )
    new_holder_siret = forms.CharField(
        label=gettext_lazy("SIRET du nouveau titulaire — uniquement pour R2194-6"),
        max_length=20,
        required=False,
        help_text=gettext_lazy(
            "14 chiffres ; les espaces sont acceptés. Vous pourrez aussi l'indiquer avant la signature."
        ),
    )


class NewHolderForm(forms.Form):
    """The new holder of a modification on the ground R2194-6 (cession, merger...): published in the essential
    data (`modification.titulaires`). Checked by `contracts.services.modification_set_new_holder`."""

    new_holder_name = forms.CharField(
        label=gettext_lazy("Nouveau titulaire (raison sociale)"), max_length=255, required=False
    )
    new_holder_siret = forms.CharField(
        label=gettext_lazy("SIRET du nouveau titulaire"),
        max_length=20,
        required=False,
        help_text=gettext_lazy(
            "14 chiffres ; les espaces sont acceptés. Publié dans les données essentielles de la modification."
        ),
    )


class OrderFormForm(forms.Form):
    object = forms.CharField(
        label=gettext_lazy("Objet de la commande"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )
    amount = forms.CharField(label=gettext_lazy("Montant (€ HT)"), max_length=30)
    delivery_on = _date_field(gettext_lazy("Livraison ou exécution attendue le (facultatif)"), required=False)


class SubcontractForm(forms.Form):
    subcontractor_name = forms.CharField(label=gettext_lazy("Nom du sous-traitant"), max_length=255)
    subcontractor_siret = forms.CharField(
        label=gettext_lazy("SIRET du sous-traitant"),
        max_length=20,
        help_text=gettext_lazy("14 chiffres ; les espaces sont acceptés."),
    )
    object = forms.CharField(
        label=gettext_lazy("Nature des prestations sous-traitées"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    amount = forms.CharField(label=gettext_lazy("Montant maximum sous-traité (€ HT)"), max_length=30)
    duration_months = forms.CharField(label=gettext_lazy("Durée (mois)"), max_length=6)
    direct_payment = forms.BooleanField(
        label=gettext_lazy("Paiement direct du sous-traitant par l'acheteur"),
        required=False,
        initial=True,
        help_text=gettext_lazy("De droit au-delà de 600 € TTC pour un sous-traitant de premier rang."),
    )
    price_variation = forms.ChoiceField(
        label=gettext_lazy("Variation des prix"), choices=PriceVariation.choices, initial=PriceVariation.FIRM
    )


class SubcontractDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Décision"),
        choices=[
            (SubcontractState.ACCEPTED, gettext_lazy("Accepter le sous-traitant et agréer ses conditions de paiement")),
            (SubcontractState.REFUSED, gettext_lazy("Refuser le sous-traitant")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=gettext_lazy("Motif (obligatoire en cas de refus)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SubcontractChangeForm(forms.Form):
    object = forms.CharField(
        label=gettext_lazy("Objet de la modification"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    new_amount = forms.CharField(label=gettext_lazy("Nouveau montant maximum (€ HT)"), max_length=30)
    new_duration_months = forms.CharField(label=gettext_lazy("Nouvelle durée (mois)"), max_length=6)
    effective_on = _date_field(gettext_lazy("Prend effet le"))


class MilestoneForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Jalon"), max_length=255)
    due_on = _date_field(gettext_lazy("Prévu le"))
    note = forms.CharField(
        label=gettext_lazy("Observations"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class MilestoneDoneForm(forms.Form):
    done_on = _date_field(gettext_lazy("Réalisé le"))


class EndForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("Fin du marché"),
        choices=[
            (ContractState.ENDED, gettext_lazy("Exécution terminée")),
            (ContractState.TERMINATED, gettext_lazy("Marché résilié")),
        ],
        widget=forms.RadioSelect,
    )
    ended_on = _date_field(gettext_lazy("Date de fin (aujourd'hui si vide)"), required=False)
    reason = forms.CharField(
        label=gettext_lazy("Motif (obligatoire en cas de résiliation)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SignForm(forms.Form):
    """Choose one of your usable certificates and give its secret (never stored)."""

    certificate = forms.TypedChoiceField(
        label=gettext_lazy("Certificat"), coerce=int, widget=forms.RadioSelect, empty_value=None
    )
    secret = forms.CharField(
        label=gettext_lazy("Mot de passe du certificat ou phrase secrète de signature"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=gettext_lazy(
            "Le mot de passe du fichier PKCS#12 pour un certificat importé, la phrase secrète de signature pour un "
            "certificat délivré par la plateforme. Il n'est pas enregistré."
        ),
    )

    def __init__(self, *args: Any, certificates: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.certificates = {certificate.pk: certificate for certificate in certificates}
        self.fields["certificate"].choices = [
            (
                certificate.pk,
                _("%(name)s — %(origin)s, valable jusqu'au %(end)s")
                % {
                    "name": certificate.label or certificate.subject,
                    "origin": certificate.get_origin_display().lower(),
                    "end": certificate.not_after.strftime("%d/%m/%Y"),
                },
            )
            for certificate in certificates
        ]
        if len(certificates) == 1 and not self.is_bound:
            self.initial["certificate"] = certificates[0].pk
