"""Forms of the commission pages. People are chosen among the buyer's members; the rules are in services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ebourgogne.commissions.models import (
    DEFAULT_CONVOCATION_DELAY_DAYS,
    DEFAULT_OPENING_THRESHOLD,
    CommissionKind,
    Seat,
    Voice,
)
from ebourgogne.commissions.services import MAX_CONVOCATION_DELAY_DAYS, MAX_THRESHOLD
from ebourgogne.core.errors import DomainError
from ebourgogne.organisations.services import InvalidData


def add_service_errors(form: forms.Form, error: DomainError) -> None:
    if isinstance(error, InvalidData):
        for field, messages in error.errors.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
    else:
        form.add_error(None, error.message)


def _person_label(user: Any) -> str:
    return f"{user.full_name} ({user.email})" if user.full_name else user.email


class CommissionForm(forms.Form):
    name = forms.CharField(label=_("Nom"), max_length=200)
    kind = forms.ChoiceField(label=_("Nature"), choices=CommissionKind.choices, initial=CommissionKind.CAO)
    opening_threshold = forms.IntegerField(
        label=_("Nombre de membres nécessaires à l'ouverture des plis (k)"),
        min_value=1,
        max_value=MAX_THRESHOLD,
        initial=DEFAULT_OPENING_THRESHOLD,
        help_text=_(
            "La clé d'ouverture de chaque consultation est partagée entre les membres à voix délibérative qui ont "
            "créé leur clé personnelle ; il en faut ce nombre pour ouvrir les plis. Prévoyez des membres en plus : "
            "un membre qui perd sa phrase secrète ne bloque pas l'ouverture."
        ),
    )
    escrow_holder = forms.TypedChoiceField(
        label=_("Détenteur de la part de secours (représentant légal)"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_(
            "Facultatif. Une part de plus, confiée au représentant légal de l'acheteur, pour le cas où des membres perdraient la leur."
        ),
    )
    is_default = forms.BooleanField(
        label=_("Commission proposée par défaut pour les nouvelles consultations"), required=False
    )
    keep_identity_after_opening = forms.BooleanField(
        label=_("Conserver la clé d'ouverture après l'ouverture des plis"),
        required=False,
        help_text=_(
            "Si la case est cochée, la clé reconstituée est conservée, chiffrée par la plateforme, pour rouvrir les "
            "plis plus tard sans réunir les membres. Sinon elle est effacée dès l'ouverture terminée."
        ),
    )

    convocation_delay_days = forms.IntegerField(
        label=_("Délai de convocation (jours francs)"),
        required=False,
        min_value=1,
        max_value=MAX_CONVOCATION_DELAY_DAYS,
        initial=DEFAULT_CONVOCATION_DELAY_DAYS,
        help_text=_(
            "Nombre de jours pleins entre l'envoi de la convocation et la séance, sans compter ni le jour de l'envoi "
            "ni celui de la séance ; samedis, dimanches et jours fériés comptent. Cinq jours francs en règle "
            "générale ; vérifiez le règlement de l'acheteur. Une convocation plus tardive demande un motif d'urgence."
        ),
    )

    def __init__(self, *args: Any, people: list[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.people = {user.pk: user for user in people}
        self.fields["escrow_holder"].choices = [("", _("Aucun"))] + [(user.pk, _person_label(user)) for user in people]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["escrow_holder"] = self.people.get(data.get("escrow_holder"))
        return data


class MemberForm(forms.Form):
    user = forms.TypedChoiceField(label=_("Personne"), coerce=int)
    voice = forms.ChoiceField(label=_("Voix"), choices=Voice.choices, initial=Voice.DELIBERATIVE)
    seat = forms.ChoiceField(label=_("Siège"), choices=Seat.choices, initial=Seat.TITULAR)
    is_president = forms.BooleanField(label=_("Président de la commission"), required=False)
    mandate_start = forms.DateField(
        label=_("Début du mandat"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    mandate_end = forms.DateField(
        label=_("Fin du mandat"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Facultatif. Après cette date, le membre ne reçoit plus de part de clé."),
    )

    def __init__(self, *args: Any, people: list[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.people = {user.pk: user for user in people}
        self.fields["user"].choices = [("", _("Choisissez…"))] + [(user.pk, _person_label(user)) for user in people]
