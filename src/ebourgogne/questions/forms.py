"""Forms of the questions pages. They check the shape of the fields; the rules (deadline, rights, R2132-6)
live in `services`, whose refusals are put back on the form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ebourgogne.core.errors import DomainError
from ebourgogne.organisations.models import Organisation
from ebourgogne.questions.services import ANSWER_MAX_LENGTH, QUESTION_MAX_LENGTH


def add_service_error(form: forms.Form, error: DomainError, field: str | None = None) -> None:
    form.add_error(field if field in form.fields else None, error.message)


class AskForm(forms.Form):
    company = forms.ChoiceField(label=_("Au nom de l'entreprise"))
    text = forms.CharField(
        label=_("Votre question"),
        max_length=QUESTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "La réponse sera publiée pour toutes les entreprises, sans votre nom ni celui de votre entreprise. "
            "Évitez d'écrire dans la question ce qui vous identifierait."
        ),
        error_messages={"required": _("Écrivez votre question.")},
    )

    def __init__(self, *args: Any, companies: list[Organisation], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.companies = {company.slug: company for company in companies}
        field = self.fields["company"]
        field.choices = [(company.slug, company.name) for company in companies]  # type: ignore[attr-defined]
        field.error_messages["invalid_choice"] = _("Choisissez une de vos entreprises.")
        field.error_messages["required"] = _("Choisissez une de vos entreprises.")
        if len(companies) == 1:
            field.widget = forms.HiddenInput()
            field.initial = companies[0].slug


class _LateMixin(forms.Form):
    confirm_late = forms.BooleanField(
        label=_("Je publie malgré le délai de l'article R2132-6 et je reporte la date limite de remise des plis."),
        required=False,
    )

    def __init__(self, *args: Any, late: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not late:
            del self.fields["confirm_late"]


class AnswerForm(_LateMixin):
    question_text = forms.CharField(
        label=_("Question publiée"),
        max_length=QUESTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Reformulez la question si elle contient le nom de l'entreprise ou tout ce qui l'identifierait : "
            "le texte d'origine reste visible de vous seul."
        ),
        error_messages={"required": _("Le texte de la question publiée est vide.")},
    )
    answer = forms.CharField(
        label=_("Réponse"),
        max_length=ANSWER_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Publiée pour tous sur la page de la consultation et envoyée par courriel."),
        error_messages={"required": _("Le texte de la réponse est vide.")},
    )

    def __init__(self, *args: Any, published: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        order = ["question_text", "answer", "confirm_late"]
        if published:  # the question's wording is fixed once published
            del self.fields["question_text"]
        self.order_fields(order)


class InformationForm(_LateMixin):
    text = forms.CharField(
        label=_("Information"),
        max_length=ANSWER_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Publiée pour tous sur la page de la consultation et envoyée par courriel."),
        error_messages={"required": _("Le texte de l'information est vide.")},
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.order_fields(["text", "confirm_late"])
