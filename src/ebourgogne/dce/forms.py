"""Forms of the DCE pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ebourgogne.dce.services import MAX_REASON_LENGTH


class IdentifyForm(forms.Form):
    """Optional: who downloads, to be told of rectifications and answers."""

    name = forms.CharField(
        label=_("Nom"), max_length=150, required=False, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    company_name = forms.CharField(
        label=_("Entreprise"),
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    email = forms.EmailField(
        label=_("Adresse électronique"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": _("Indiquez votre adresse électronique."),
            "invalid": _("Saisissez une adresse électronique valide, par exemple marie.dupont@exemple.fr."),
        },
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class PublishForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de la modification"),
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Publié avec le rectificatif et envoyé aux entreprises identifiées."),
        error_messages={"required": _("Indiquez le motif de la modification : il est publié avec le rectificatif.")},
    )
