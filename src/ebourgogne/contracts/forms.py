"""The forms of the contract pages: prepare (number), terms (DECP fields), sign (certificate and secret),
upload a piece signed elsewhere. Choices are those of the models and of the DECP 2024 format."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ebourgogne.contracts import decp
from ebourgogne.contracts.models import Ccag, DocumentKind, Grouping, PriceForm


class CreateForm(forms.Form):
    number = forms.CharField(
        label=gettext_lazy("Numéro du marché"),
        max_length=16,
        help_text=gettext_lazy(
            "Votre identifiant du marché, publié dans les données essentielles : 1 à 16 caractères (lettres, "
            "chiffres, points, tirets, barres obliques), unique parmi vos marchés. Exemple : 2026-001."
        ),
    )


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(value, value) for value in values]


class TermsForm(forms.Form):
    price_form = forms.ChoiceField(label=gettext_lazy("Forme du prix"), choices=PriceForm.choices)
    price_types = forms.MultipleChoiceField(
        label=gettext_lazy("Types de prix"),
        choices=_choices(decp.PRICE_TYPES),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    ccag = forms.ChoiceField(label=gettext_lazy("CCAG de référence"), choices=Ccag.choices)
    techniques = forms.MultipleChoiceField(
        label=gettext_lazy("Techniques d'achat"),
        choices=_choices(decp.TECHNIQUES),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("Aucune case cochée : « Sans objet »."),
    )
    execution_modes = forms.MultipleChoiceField(
        label=gettext_lazy("Modalités d'exécution"),
        choices=_choices(decp.EXECUTION_MODES),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("Aucune case cochée : « Sans objet »."),
    )
    social_considerations = forms.MultipleChoiceField(
        label=gettext_lazy("Considérations sociales"),
        choices=_choices(decp.SOCIAL),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    environmental_considerations = forms.MultipleChoiceField(
        label=gettext_lazy("Considérations environnementales"),
        choices=_choices(decp.ENVIRONMENTAL),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    grouping = forms.ChoiceField(label=gettext_lazy("Groupement d'opérateurs"), choices=Grouping.choices)
    duration_months = forms.IntegerField(label=gettext_lazy("Durée (mois)"), min_value=1, max_value=1200)
    is_framework = forms.BooleanField(label=gettext_lazy("Accord-cadre à bons de commande"), required=False)
    innovative = forms.BooleanField(label=gettext_lazy("Marché innovant"), required=False)
    subcontracting_declared = forms.BooleanField(
        label=gettext_lazy("Sous-traitance déclarée à la notification"), required=False
    )
    has_advance = forms.BooleanField(label=gettext_lazy("Avance versée au titulaire"), required=False)
    advance_rate = forms.DecimalField(
        label=gettext_lazy("Taux de l'avance (%)"),
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=2,
        localize=True,
        help_text=gettext_lazy("Par exemple 5 pour une avance de 5 % du montant."),
    )

    @classmethod
    def for_contract(cls, contract: Any, **kwargs: Any) -> TermsForm:
        initial = {
            "price_form": contract.price_form,
            "price_types": list(contract.price_types),
            "ccag": contract.ccag,
            "techniques": list(contract.techniques),
            "execution_modes": list(contract.execution_modes),
            "social_considerations": list(contract.social_considerations),
            "environmental_considerations": list(contract.environmental_considerations),
            "grouping": contract.grouping,
            "duration_months": contract.duration_months,
            "is_framework": contract.is_framework,
            "innovative": contract.innovative,
            "subcontracting_declared": contract.subcontracting_declared,
            "has_advance": contract.has_advance,
            "advance_rate": (contract.advance_rate * 100).normalize() if contract.has_advance else None,
        }
        return cls(initial=initial, auto_id="terms_%s", **kwargs)


class SignForm(forms.Form):
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
        kwargs.setdefault("auto_id", "sign_%s")
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


class UploadForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Intitulé de la pièce"), max_length=255)
    kind = forms.ChoiceField(label=gettext_lazy("Nature"), choices=DocumentKind.choices, initial=DocumentKind.OTHER)
    file = forms.FileField(
        label=gettext_lazy("Fichier PDF signé"),
        help_text=gettext_lazy(
            "Un PDF signé avec votre propre outil (signature PAdES) : ses signatures sont vérifiées et le rapport "
            "est affiché à côté de la pièce. 50 Mo au plus."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def __init__(self, *args: Any, holder: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "upload_%s")
        super().__init__(*args, **kwargs)
        if holder:
            self.fields["kind"].choices = [
                (DocumentKind.SUBCONTRACT.value, DocumentKind.SUBCONTRACT.label),
                (DocumentKind.OTHER.value, DocumentKind.OTHER.label),
            ]
