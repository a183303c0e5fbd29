"""Forms of the buyer's consultation pages. They check the shape of each field and turn local dates
(Europe/Paris) into instants; the rules live in `services`, whose `InvalidData` errors are put back on
the fields (`add_service_errors`).

Dates are typed as a date and a time in Paris. A time that does not exist (the spring change: on the last
Sunday of March clocks go from 02:00 to 03:00) is refused with a clear message; a time that exists twice
(the autumn change: 02:00-03:00 on the last Sunday of October) is refused until the person says which
one they mean (summer time, UTC+2, or winter time, UTC+1), in a choice that appears only then.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from ebourgogne.commissions.models import Commission
from ebourgogne.consultations.models import ContractType, Procedure, State
from ebourgogne.core.clock import PARIS
from ebourgogne.core.errors import DomainError
from ebourgogne.organisations.models import BuyerService
from ebourgogne.organisations.services import InvalidData

SUMMER, WINTER = "summer", "winter"


def add_service_errors(form: forms.Form, error: DomainError, *, aliases: dict[str, str] | None = None) -> None:
    """Show a service's refusal on the form: on each field it names, else at the top."""
    if isinstance(error, InvalidData):
        for name, messages in error.errors.items():
            target = (aliases or {}).get(name, name)
            for message in messages:
                form.add_error(target if target in form.fields else None, message)
    else:
        form.add_error(None, error.message)


# --- Local date and time ----------------------------------------------------------------------------


def paris_instant(day: dt.date, time: dt.time, offset_choice: str = "") -> dt.datetime:
    """The instant of `day` at `time` in Paris; ValidationError for a time that does not exist, or one
    that exists twice when `offset_choice` (SUMMER / WINTER) does not say which."""
    naive = dt.datetime.combine(day, time.replace(second=0, microsecond=0, tzinfo=None))
    first = naive.replace(tzinfo=PARIS, fold=0)
    second = naive.replace(tzinfo=PARIS, fold=1)
    shown = {
        "date": formats.date_format(naive, "SHORT_DATE_FORMAT"),
        "time": naive.strftime("%H:%M"),
    }
    if first.astimezone(dt.UTC).astimezone(PARIS).replace(tzinfo=None) != naive:
        raise ValidationError(
            _(
                "Le %(date)s à %(time)s n'existe pas à l'heure de Paris : cette nuit-là, on passe à l'heure "
                "d'été et les horloges sautent de 2 h à 3 h. Choisissez une autre heure."
            ),
            code="nonexistent",
            params=shown,
        )
    if first.utcoffset() != second.utcoffset():
        if offset_choice == SUMMER:
            return first.astimezone(dt.UTC)
        if offset_choice == WINTER:
            return second.astimezone(dt.UTC)
        raise ValidationError(
            _(
                "Le %(date)s à %(time)s existe deux fois à l'heure de Paris (retour à l'heure d'hiver) : "
                "précisez ci-dessous s'il s'agit de l'heure d'été (UTC+2) ou de l'heure d'hiver (UTC+1)."
            ),
            code="ambiguous",
            params=shown,
        )
    return first.astimezone(dt.UTC)


def is_ambiguous(moment: dt.datetime) -> bool:
    local = moment.astimezone(PARIS).replace(tzinfo=None)
    return local.replace(tzinfo=PARIS, fold=0).utcoffset() != local.replace(tzinfo=PARIS, fold=1).utcoffset()


class ParisDateTimeWidget(forms.MultiWidget):
    template_name = "consultations/widgets/paris_datetime.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        self.show_offset = False
        widgets = (
            forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            forms.TimeInput(attrs={"type": "time", "step": "60"}, format="%H:%M"),
            forms.Select(
                choices=[
                    ("", _("—")),
                    (SUMMER, _("heure d'été (UTC+2)")),
                    (WINTER, _("heure d'hiver (UTC+1)")),
                ]
            ),
        )
        super().__init__(widgets, attrs)

    def decompress(self, value: Any) -> list[Any]:
        if isinstance(value, dt.datetime):
            local = value.astimezone(PARIS)
            offset = ""
            if is_ambiguous(value):
                offset = SUMMER if local.dst() else WINTER
                self.show_offset = True
            return [local.date(), local.time().replace(second=0, microsecond=0, tzinfo=None), offset]
        return [None, None, ""]

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        labels = (_("Date"), _("Heure (heure de Paris)"), _("Heure d'été ou d'hiver"))
        context["widget"]["parts"] = list(zip(labels, context["widget"]["subwidgets"], strict=True))
        context["widget"]["show_offset"] = self.show_offset
        return context


class ParisDateTimeField(forms.MultiValueField):
    widget = ParisDateTimeWidget

    def __init__(self, *, required: bool = False, **kwargs: Any) -> None:
        fields = (
            forms.DateField(required=False),
            forms.TimeField(required=False),
            forms.ChoiceField(required=False, choices=[("", ""), (SUMMER, SUMMER), (WINTER, WINTER)]),
        )
        super().__init__(fields, required=required, require_all_fields=False, **kwargs)
        self.error_messages["incomplete"] = _("Indiquez la date et l'heure.")

    def compress(self, data_list: list[Any]) -> dt.datetime | None:
        if not data_list:
            return None
        day, time, offset = (list(data_list) + [None, None, ""])[:3]
        if day is None and time is None:
            return None
        if day is None or time is None:
            raise ValidationError(_("Indiquez la date et l'heure."), code="incomplete")
        try:
            return paris_instant(day, time, offset or "")
        except ValidationError as error:
            if error.code == "ambiguous":
                self.widget.show_offset = True
            raise


# --- The consultation -------------------------------------------------------------------------------


def _text(label, *, max_length: int | None = None, required: bool = False, help_text: str = "", **attrs: Any):
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        help_text=help_text,
        widget=forms.TextInput(attrs=attrs),
    )


def _textarea(label, *, help_text: str = "", rows: int = 4, required: bool = False):
    return forms.CharField(
        label=label, required=required, help_text=help_text, widget=forms.Textarea(attrs={"rows": rows})
    )


class ConsultationForm(forms.Form):
    reference = _text(_("Référence interne"), max_length=50, required=True, help_text=_("Par exemple 2026-TX-012."))
    title = _text(_("Intitulé"), max_length=255, required=True)
    object = _textarea(_("Objet"), help_text=_("Ce que l'acheteur achète, en quelques phrases."))
    contract_type = forms.ChoiceField(label=_("Type de marché"), choices=[("", "—"), *ContractType.choices])
    procedure = forms.ChoiceField(label=_("Procédure"), choices=[("", "—"), *Procedure.choices])
    urgency = forms.BooleanField(
        label=_("Urgence"),
        required=False,
        help_text=_("Réduit le délai de réponse aux questions de 6 à 4 jours en procédure formalisée (R2132-6)."),
    )
    service = forms.ModelChoiceField(label=_("Service"), queryset=BuyerService.objects.none(), required=False)
    main_cpv = _text(
        _("Code CPV principal"),
        max_length=12,
        help_text=_("8 chiffres, avec ou sans le chiffre de contrôle (45210000 ou 45210000-2)."),
        inputmode="numeric",
    )
    additional_cpv = _text(
        _("Codes CPV complémentaires"),
        max_length=700,
        help_text=_("Séparés par des espaces ou des virgules."),
    )
    department = _text(_("Département d'exécution"), max_length=3, help_text=_("Par exemple 21."))
    commune = _text(_("Commune d'exécution"), max_length=120)
    insee_code = _text(_("Code INSEE de la commune"), max_length=5, inputmode="numeric")
    estimated_value = _text(_("Valeur estimée (€ HT)"), max_length=30, inputmode="decimal")
    duration_months = forms.IntegerField(label=_("Durée (mois)"), required=False, min_value=1, max_value=1200)
    variants_allowed = forms.BooleanField(label=_("Variantes autorisées"), required=False)
    required_documents = _textarea(_("Pièces à fournir par les candidats"), help_text=_("Une pièce par ligne."), rows=5)
    contact_name = _text(_("Contact"), max_length=150)
    contact_email = forms.EmailField(label=_("Adresse électronique du contact"), required=False)
    contact_phone = _text(_("Téléphone du contact"), max_length=30, autocomplete="off")
    questions_deadline = ParisDateTimeField(label=_("Date limite des questions"))
    bids_deadline = ParisDateTimeField(label=_("Date limite de remise des plis"))
    planned_opening_at = ParisDateTimeField(label=_("Ouverture des plis prévue"))
    commission = forms.ModelChoiceField(
        label=_("Commission d'ouverture des plis"),
        queryset=Commission.objects.none(),
        required=False,
        empty_label=_("La commission par défaut de l'acheteur"),
        help_text=_(
            "Ses membres recevront chacun une part de la clé d'ouverture à la publication ; elle ne change plus ensuite."
        ),
    )

    def __init__(self, *args: Any, organisation: Any, published: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from django_scopes import scopes_disabled

        with scopes_disabled():
            self.fields["service"].queryset = BuyerService.objects.filter(organisation=organisation).order_by("name")
            self.fields["commission"].queryset = Commission.objects.filter(
                organisation=organisation, is_active=True
            ).order_by("name")
        self.published = published
        if published:
            # Fixed at publication (see services.LOCKED_AFTER_PUBLICATION): shown, not sent.
            for name in ("reference", "procedure", "contract_type", "urgency", "bids_deadline", "commission"):
                self.fields[name].disabled = True
            self.fields["bids_deadline"].help_text = _(
                "Pour la changer, utilisez « Reporter la date limite » sur la page de la consultation."
            )

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if self.published:
            for name in ("reference", "procedure", "contract_type", "urgency", "bids_deadline", "commission"):
                data.pop(name, None)
        data["service"] = data["service"].pk if data.get("service") else None
        if "commission" in data:
            data["commission"] = data["commission"].pk if data.get("commission") else None
        return data

    @staticmethod
    def initial_from(consultation: Any, codes: Any) -> dict[str, Any]:
        initial = {
            name: getattr(consultation, name)
            for name in (
                "reference",
                "title",
                "object",
                "contract_type",
                "procedure",
                "urgency",
                "department",
                "commune",
                "insee_code",
                "duration_months",
                "variants_allowed",
                "required_documents",
                "contact_name",
                "contact_email",
                "contact_phone",
                "questions_deadline",
                "bids_deadline",
                "planned_opening_at",
            )
        }
        initial["service"] = consultation.service_id
        initial["commission"] = consultation.commission_id
        initial["estimated_value"] = "" if consultation.estimated_value is None else str(consultation.estimated_value)
        initial["main_cpv"] = codes.main.code if codes.main else ""
        initial["additional_cpv"] = " ".join(cpv.code for cpv in codes.additional)
        return initial


class LotForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    title = _text(_("Intitulé du lot"), max_length=255)
    description = _textarea(_("Description du lot"), rows=2)
    estimated_value = _text(_("Valeur estimée du lot (€ HT)"), max_length=30, inputmode="decimal")
    main_cpv = _text(_("Code CPV principal du lot"), max_length=12, inputmode="numeric")
    additional_cpv = _text(_("Codes CPV complémentaires du lot"), max_length=700)
    remove = forms.BooleanField(label=_("Retirer ce lot"), required=False)

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return not data.get("id") and not any(
            data.get(name) for name in ("title", "description", "estimated_value", "main_cpv", "additional_cpv")
        )


class BaseLotFormSet(forms.BaseFormSet):
    def lots(self) -> list[dict[str, Any]]:
        """The lots to keep, in order, as `services` takes them (blank extra forms and removed lots left out)."""
        result = []
        for form in self.forms:
            if not form.is_valid() or form.is_blank() or form.cleaned_data.get("remove"):
                continue
            data = form.cleaned_data
            result.append(
                {
                    "id": data.get("id"),
                    "title": data.get("title", ""),
                    "description": data.get("description", ""),
                    "estimated_value": data.get("estimated_value", ""),
                    "main_cpv": data.get("main_cpv", ""),
                    "additional_cpv": data.get("additional_cpv", ""),
                }
            )
        return result


LotFormSet = forms.formset_factory(LotForm, formset=BaseLotFormSet, extra=1, max_num=500, validate_max=True)


def lots_initial(codes: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": item.lot.pk,
            "title": item.lot.title,
            "description": item.lot.description,
            "estimated_value": "" if item.lot.estimated_value is None else str(item.lot.estimated_value),
            "main_cpv": item.main.code if item.main else "",
            "additional_cpv": " ".join(cpv.code for cpv in item.additional),
        }
        for item in codes.lots
    ]


# --- Actions ----------------------------------------------------------------------------------------


class PostponeForm(forms.Form):
    bids_deadline = ParisDateTimeField(label=_("Nouvelle date limite de remise des plis"), required=True)
    questions_deadline = ParisDateTimeField(
        label=_("Nouvelle date limite des questions"), help_text=_("Facultatif : seulement pour la reporter aussi.")
    )
    planned_opening_at = ParisDateTimeField(
        label=_("Nouvelle date d'ouverture des plis prévue"), help_text=_("Facultatif.")
    )
    reason = forms.CharField(
        label=_("Motif du report"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), required=True
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Motif"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), required=True)


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Issue de la consultation"),
        choices=[
            (State.AWARDED.value, State.AWARDED.label),
            (State.UNSUCCESSFUL.value, State.UNSUCCESSFUL.label),
            (State.ABANDONED.value, State.ABANDONED.label),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Motif"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Obligatoire pour une consultation infructueuse ou sans suite."),
    )


class ListFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("État"), required=False, choices=[("", _("Tous")), *State.choices])
    q = forms.CharField(label=_("Référence ou intitulé"), required=False, max_length=100)


class CpvSearchForm(forms.Form):
    q = forms.CharField(label=_("Rechercher un code CPV (code ou mots du libellé)"), required=False, max_length=100)
