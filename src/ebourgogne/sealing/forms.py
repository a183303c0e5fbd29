"""Forms of the personal opening key pages. The passphrase rules live in `services`; the forms only ask
twice and never echo a passphrase back."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ebourgogne.sealing.services import PASSPHRASE_MAX_LENGTH, PASSPHRASE_MIN_LENGTH


def _secret(label, *, autocomplete: str = "new-password", help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        max_length=PASSPHRASE_MAX_LENGTH,
        help_text=help_text,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete, "spellcheck": "false"}),
    )


NEW_HELP = _(
    "Au moins %(min)d caractères. Une phrase de plusieurs mots que vous retiendrez, que vous n'utilisez nulle part "
    "ailleurs. Elle n'est enregistrée nulle part : personne ne pourra vous la redonner."
) % {"min": PASSPHRASE_MIN_LENGTH}


class _Twice(forms.Form):
    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("passphrase"), cleaned.get("passphrase_again")
        if first is not None and second is not None and first != second:
            self.add_error("passphrase_again", _("Les deux saisies ne sont pas identiques."))
        return cleaned


class SetUpForm(_Twice):
    passphrase = _secret(_("Phrase secrète"), help_text=NEW_HELP)
    passphrase_again = _secret(_("Phrase secrète (une seconde fois)"))


class RotateForm(_Twice):
    old_passphrase = _secret(_("Phrase secrète actuelle"), autocomplete="current-password")
    passphrase = _secret(_("Nouvelle phrase secrète"), help_text=NEW_HELP)
    passphrase_again = _secret(_("Nouvelle phrase secrète (une seconde fois)"))


class ReplaceLostForm(_Twice):
    passphrase = _secret(_("Nouvelle phrase secrète"), help_text=NEW_HELP)
    passphrase_again = _secret(_("Nouvelle phrase secrète (une seconde fois)"))
    confirm = forms.BooleanField(
        label=_(
            "J'ai perdu ma phrase secrète et je comprends que les parts de clé que je détiens pour les consultations "
            "déjà publiées deviennent inutilisables."
        )
    )
