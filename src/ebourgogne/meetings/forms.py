"""Forms of the meeting preparation pages. They only shape the input (types, lists to choose from); the
rules are in meetings.services, whose refusals are put back on the fields with `add_service_errors`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ebourgogne.consultations.forms import ParisDateTimeField
from ebourgogne.core.clock import PARIS
from ebourgogne.core.errors import DomainError
from ebourgogne.meetings.models import AgendaItemKind
from ebourgogne.meetings.services import ITEM_TITLE_MAX, PLACE_MAX, TEXT_MAX, TITLE_MAX, VIDEO_URL_MAX
from ebourgogne.organisations.services import InvalidData

# The services' field names that the forms spell otherwise.
FIELD_NAMES = {"ends_at": "ends_time"}


def add_service_errors(form: forms.Form, error: DomainError) -> None:
    """Put a service's refusal on the form: on its field when the form has it, at the top otherwise."""
    if isinstance(error, InvalidData):
        for field, messages in error.errors.items():
            field = FIELD_NAMES.get(field, field)
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
    else:
        form.add_error(None, error.message)


class MeetingForm(forms.Form):
    commission = forms.TypedChoiceField(label=_("Commission"), coerce=int)
    title = forms.CharField(
        label=_("Intitulé"),
        max_length=TITLE_MAX,
        help_text=_("Par exemple : « Commission d'appel d'offres du 12 mars — ouverture des plis »."),
    )
    starts_at = ParisDateTimeField(label=_("Date et heure de la séance"), required=True)
    ends_time = forms.TimeField(
        label=_("Heure de fin prévue"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time", "step": "60"}, format="%H:%M"),
        help_text=_("Facultatif, le même jour (heure de Paris)."),
    )
    place = forms.CharField(
        label=_("Lieu"),
        max_length=PLACE_MAX,
        required=False,
        help_text=_("Salle et adresse. Indiquez un lieu, un lien de visioconférence, ou les deux."),
    )
    video_url = forms.CharField(
        label=_("Lien de visioconférence"),
        max_length=VIDEO_URL_MAX,
        required=False,
        widget=forms.URLInput(attrs={"inputmode": "url", "autocomplete": "url"}),
        help_text=_("Adresse complète, commençant par https://."),
    )
    urgency_reason = forms.CharField(
        label=_("Motif de l'urgence"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Seulement si la nouvelle date ne laisse plus le délai légal de convocation : la modification sera "
            "signalée comme urgente aux membres."
        ),
    )

    def __init__(self, *args: Any, commissions: list[Any] | None = None, convened: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if commissions is None:
            del self.fields["commission"]
        else:
            self.fields["commission"].choices = [("", _("Choisissez…"))] + [(c.pk, c.name) for c in commissions]
            self.fields["commission"].error_messages["invalid_choice"] = _(
                "Choisissez une commission active de l'acheteur dans la liste."
            )
        if not convened:
            del self.fields["urgency_reason"]

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        starts_at = data["starts_at"]
        ends_at = None
        if data.get("ends_time") and starts_at is not None:
            day = starts_at.astimezone(PARIS).date()
            ends_at = dt.datetime.combine(day, data["ends_time"], tzinfo=PARIS)
        values = {
            "title": data["title"],
            "starts_at": starts_at,
            "ends_at": ends_at,
            "place": data.get("place", ""),
            "video_url": data.get("video_url", ""),
        }
        if "commission" in self.fields:
            values["commission"] = data["commission"]
        if "urgency_reason" in self.fields:
            values["urgency_reason"] = data.get("urgency_reason", "")
        return values


def meeting_initial(meeting: Any) -> dict[str, Any]:
    return {
        "commission": meeting.commission_id,
        "title": meeting.title,
        "starts_at": meeting.starts_at,
        "ends_time": meeting.ends_at.astimezone(PARIS).time().replace(second=0, microsecond=0)
        if meeting.ends_at
        else None,
        "place": meeting.place,
        "video_url": meeting.video_url,
    }


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de l'annulation"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Il est indiqué aux membres convoqués et conservé dans le journal."),
    )


def _consultation_label(consultation: Any) -> str:
    return f"{consultation.reference} — {consultation.title}"


class AgendaItemForm(forms.Form):
    kind = forms.ChoiceField(label=_("Nature du point"), choices=AgendaItemKind.choices, initial=AgendaItemKind.OPENING)
    consultation = forms.TypedChoiceField(
        label=_("Consultation"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_(
            "Obligatoire pour l'ouverture des plis, l'examen du rapport d'analyse et le choix de l'attributaire."
        ),
    )
    title = forms.CharField(
        label=_("Intitulé"),
        max_length=ITEM_TITLE_MAX,
        required=False,
        help_text=_("Facultatif pour un point sur une consultation : la nature et la référence sont reprises."),
    )
    description = forms.CharField(
        label=_("Précisions"), max_length=TEXT_MAX, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, consultations: list[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["consultation"].choices = [("", _("Aucune"))] + [
            (c.pk, _consultation_label(c)) for c in consultations
        ]
        self.fields["consultation"].error_messages["invalid_choice"] = _(
            "Cette consultation n'est pas une consultation de l'acheteur : choisissez-en une dans la liste."
        )


class DocumentForm(forms.Form):
    file = forms.FileField(label=_("Fichier"), required=False)
    title = forms.CharField(
        label=_("Titre"),
        max_length=ITEM_TITLE_MAX,
        required=False,
        help_text=_("Facultatif : le nom du fichier sinon. Par exemple « Rapport d'analyse des offres »."),
    )
    agenda_item = forms.TypedChoiceField(
        label=_("Point de l'ordre du jour"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, items: list[Any], max_size: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["agenda_item"].choices = [("", _("La séance en général"))] + [
            (item.pk, f"{item.position}. {item.title}") for item in items
        ]
        if max_size:
            self.fields["file"].help_text = _("Un fichier à la fois, %(size)s au plus.") % {"size": max_size}


class ConveneForm(forms.Form):
    urgency_reason = forms.CharField(
        label=_("Motif de l'urgence"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, late: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if late:
            self.fields["urgency_reason"].required = True
            self.fields["urgency_reason"].error_messages["required"] = _(
                "Le délai légal n'est plus respecté : indiquez le motif de l'urgence pour convoquer quand même."
            )
            self.fields["urgency_reason"].help_text = _(
                "Le délai légal de convocation n'est plus respecté : la convocation ne part qu'avec un motif "
                "d'urgence, indiqué aux membres et conservé dans le journal."
            )
        else:
            del self.fields["urgency_reason"]
