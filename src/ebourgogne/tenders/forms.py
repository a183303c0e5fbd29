"""Forms of the bid pages (the files themselves go through the API: they are encrypted in the browser)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ebourgogne.tenders.models import BidKind


class BidForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Nature du pli"),
        choices=BidKind.choices,
        initial=BidKind.BID,
        widget=forms.RadioSelect,
        help_text=_(
            "La copie de sauvegarde n'est ouverte que si le pli principal est incomplet, illisible, infecté ou "
            "arrivé hors délai alors que son envoi avait commencé à temps ; sinon elle est détruite."
        ),
    )
    lots = forms.MultipleChoiceField(
        label=_("Lots"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Ne cochez rien pour répondre à l'ensemble de la consultation."),
    )

    def __init__(self, *args: Any, lots: list[Any] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["lots"].choices = [(str(lot.number), f"{lot.number} — {lot.title}") for lot in lots]
        if not lots:
            del self.fields["lots"]

    def clean_lots(self) -> list[str]:
        return self.cleaned_data.get("lots") or []

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data.setdefault("lots", [])
        return data


class DepositForm(forms.Form):
    physical_backup = forms.BooleanField(
        label=_(
            "J'annonce une copie de sauvegarde sur support physique (papier, clé USB), envoyée avant la date limite"
        ),
        required=False,
    )
    confirm = forms.BooleanField(
        label=_("Je confirme le dépôt de ce pli : ses fichiers ne pourront plus être modifiés"),
        required=True,
        error_messages={"required": _("Cochez la case pour confirmer le dépôt.")},
    )
