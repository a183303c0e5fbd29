"""Forms of the award pages. They only shape input; every rule is checked by `awards.services`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ebourgogne.awards.models import AdmissionDecision, LowOutcome, Outcome
from ebourgogne.core.errors import DomainError
from ebourgogne.organisations.services import InvalidData


def add_service_errors(form: forms.Form, error: DomainError) -> None:
    if isinstance(error, InvalidData):
        for field, messages in error.errors.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
    else:
        form.add_error(None, error.message)


def parse_criteria(text: str) -> list[dict[str, Any]]:
    """Quality criteria written one per line as `name ; weight`; a line starting with "-" is a
    sub-criterion of the criterion above it. The weights are checked by the service."""
    criteria: list[dict[str, Any]] = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        child = line.startswith("-")
        line = line.lstrip("-").strip()
        name, _sep, weight = line.rpartition(";")
        if not _sep:
            name, weight = line, ""
        entry = {"name": name.strip(), "weight": weight.strip(), "children": []}
        if child and criteria:
            criteria[-1]["children"].append(entry)
        else:
            criteria.append(entry)
    return criteria


def criteria_text(tree: list) -> str:
    lines = []
    for parent, children in tree:
        if parent.kind == "price":
            continue
        lines.append(f"{parent.name} ; {parent.weight.normalize():f}")
        lines.extend(f"- {child.name} ; {child.weight.normalize():f}" for child in children)
    return "\n".join(lines)


class CriteriaForm(forms.Form):
    scale_max = forms.CharField(label=_("Note maximale (les notes vont de 0 à ce nombre)"), initial="20", max_length=3)
    price_name = forms.CharField(label=_("Intitulé du critère prix"), required=False, initial=_("Prix"), max_length=200)
    price_weight = forms.CharField(
        label=_("Pondération du prix (points sur 100)"),
        required=False,
        max_length=10,
        help_text=_(
            "0 ou vide s'il n'y a pas de critère prix. Note du prix : prix le plus bas ÷ prix de l'offre × note maximale."
        ),
    )
    quality = forms.CharField(
        label=_("Autres critères (un par ligne : intitulé ; points)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Un sous-critère commence par un tiret, sous son critère : « Valeur technique ; 60 » puis "
            "« - Méthodologie ; 35 » et « - Moyens ; 25 ». Les pondérations totalisent 100 avec le prix."
        ),
    )
    low_ratio = forms.CharField(
        label=_("Seuil d'offre anormalement basse"),
        initial="0,80",
        max_length=6,
        help_text=_(
            "Une offre dont le prix est inférieur à ce coefficient × la moyenne des autres offres est signalée."
        ),
    )
    standstill_days = forms.CharField(
        label=_("Délai de suspension (jours)"),
        required=False,
        max_length=3,
        help_text=_("Vide : 11 jours en procédure formalisée, aucun en procédure adaptée (article R2182-1)."),
    )

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "scale_max": data["scale_max"],
            "price_name": data["price_name"],
            "price_weight": data["price_weight"],
            "quality": parse_criteria(data["quality"]),
            "low_ratio": data["low_ratio"],
            "standstill_days": data["standstill_days"],
        }


class AdmissionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Décision"), choices=AdmissionDecision.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Motif (obligatoire en cas de rejet)"), required=False, max_length=5000)


class PriceForm(forms.Form):
    price = forms.CharField(label=_("Prix (€ HT)"), max_length=30)


class LowForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Suite donnée"), choices=[choice for choice in LowOutcome.choices if choice[0]])
    note = forms.CharField(label=_("Observations"), required=False, max_length=5000)


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Issue"), choices=Outcome.choices, widget=forms.RadioSelect)
    winner = forms.ChoiceField(label=_("Attributaire"), required=False)
    reason = forms.CharField(
        label=_("Motif (obligatoire pour une issue infructueuse ou sans suite)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    choice_reason = forms.CharField(
        label=_("Motif du choix d'une offre autre que la mieux classée"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    meeting_decision = forms.ChoiceField(label=_("Décision de la commission (facultatif)"), required=False)
    documents = forms.CharField(
        label=_("Pièces justificatives demandées à l'attributaire (une par ligne)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    documents_deadline = forms.DateField(
        label=_("Date limite de remise des pièces"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, winners: list[tuple[str, str]], decisions: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["winner"].choices = [("", _("la mieux classée"))] + winners
        self.fields["meeting_decision"].choices = [("", _("aucune"))] + decisions

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "outcome": data["outcome"],
            "winner_bid": int(data["winner"]) if data.get("winner") else None,
            "reason": data["reason"],
            "choice_reason": data["choice_reason"],
            "meeting_decision": data["meeting_decision"] or None,
            "documents": [line for line in (data["documents"] or "").splitlines() if line.strip()],
            "documents_deadline": data["documents_deadline"],
        }
