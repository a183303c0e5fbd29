from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

# Each language in its own name, so that a person who cannot read the current one finds theirs.
_LOCAL_NAMES = {"fr": "Français", "en": "English"}


class ProfileForm(forms.Form):
    """Name and language. A plain form: the account changes only through `services.profile_update`."""

    full_name = forms.CharField(
        label=_("Nom complet"),
        max_length=200,
        help_text=_("Tel qu'il apparaîtra à vos collègues et dans le journal des événements."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    language = forms.ChoiceField(
        label=_("Langue"),
        choices=[(code, _LOCAL_NAMES.get(code, code)) for code, _name in settings.LANGUAGES],
        help_text=_("La langue des pages et des courriels que la plateforme vous envoie."),
    )
