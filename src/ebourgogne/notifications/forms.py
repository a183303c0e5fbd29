from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from ebourgogne.notifications.models import OutboxMessage


class OutboxSearchForm(forms.Form):
    recipient = forms.CharField(
        label=_("Destinataire"),
        required=False,
        max_length=254,
        help_text=_("Tout ou partie d'une adresse électronique."),
    )
    status = forms.ChoiceField(
        label=_("Statut"), required=False, choices=[("", _("Tous les statuts")), *OutboxMessage.Status.choices]
    )


class TestMailForm(forms.Form):
    to = forms.EmailField(label=_("Adresse du destinataire"), max_length=254)
    language = forms.ChoiceField(label=_("Langue du message"), choices=settings.LANGUAGES, initial="fr")
