"""Forms of the certificate pages. The rules live in `services` and `certificates`; a password or
passphrase is never echoed back."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ebourgogne.signatures.certificates import MAX_PKCS12_SIZE
from ebourgogne.signatures.services import LABEL_MAX, PASSPHRASE_MAX_LENGTH, PASSPHRASE_MIN_LENGTH, REASON_MAX


def secret_field(label, *, autocomplete: str = "current-password", help_text: str = "", required: bool = True):  # noqa: ANN001, ANN201
    return forms.CharField(
        label=label,
        strip=False,
        required=required,
        max_length=PASSPHRASE_MAX_LENGTH,
        help_text=help_text,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete, "spellcheck": "false"}),
    )


def _label_field() -> forms.CharField:
    return forms.CharField(
        label=_("Nom du certificat (facultatif)"),
        required=False,
        max_length=LABEL_MAX,
        help_text=_("Pour le reconnaître dans la liste, par exemple « Certificat RGS** 2026 »."),
    )


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier du certificat (.p12 ou .pfx)"),
        help_text=_(
            "Le fichier PKCS#12 remis par votre autorité de certification : votre certificat et sa clé privée."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".p12,.pfx,application/x-pkcs12"}),
    )
    password = secret_field(
        _("Mot de passe du fichier"),
        required=False,
        help_text=_(
            "Il sert à vérifier le fichier maintenant ; il n'est pas enregistré : vous le saisirez à chaque signature."
        ),
    )
    label = _label_field()

    def clean_file(self):  # noqa: ANN201
        upload = self.cleaned_data["file"]
        if upload.size > MAX_PKCS12_SIZE:
            raise forms.ValidationError(
                _("Ce fichier est trop volumineux pour être un certificat PKCS#12 (%(max)s Ko au plus).")
                % {"max": MAX_PKCS12_SIZE // 1024}
            )
        return upload


NEW_HELP = _(
    "Au moins %(min)d caractères, que vous n'utilisez nulle part ailleurs (pas votre mot de passe de connexion). "
    "Elle n'est enregistrée nulle part : vous la saisirez à chaque signature, et personne ne pourra vous la redonner."
) % {"min": PASSPHRASE_MIN_LENGTH}


class IssueForm(forms.Form):
    passphrase = secret_field(_("Phrase secrète de signature"), autocomplete="new-password", help_text=NEW_HELP)
    passphrase_again = secret_field(_("Phrase secrète de signature (une seconde fois)"), autocomplete="new-password")
    label = _label_field()

    def clean(self):  # noqa: ANN201
        cleaned = super().clean()
        first, second = cleaned.get("passphrase"), cleaned.get("passphrase_again")
        if first is not None and second is not None and first != second:
            self.add_error("passphrase_again", _("Les deux saisies ne sont pas identiques."))
        return cleaned


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Motif (facultatif)"), required=False, max_length=REASON_MAX)
