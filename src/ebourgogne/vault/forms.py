"""Forms of the vault pages. The file field comes last in each form: when an upload is refused while the
body is still arriving (too large, wrong type), the fields sent before it are kept and shown again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ebourgogne.core.errors import DomainError
from ebourgogne.vault.models import DocumentType
from ebourgogne.vault.services import MAX_TITLE_LENGTH
from ebourgogne.vault.storage import SIGNATURES

ACCEPT = ",".join(f".{extension}" for extension in sorted(SIGNATURES))

FIELD_OF_CODE = {
    "doc_type": "doc_type",
    "title": "title",
    "valid_until": "valid_until",
    "issue_date": "issue_date",
    "file_name": "file",
    "consultation": "consultation",
    "documents": "documents",
}


def add_service_errors(form: forms.Form, error: DomainError) -> None:
    field = FIELD_OF_CODE.get(error.code)
    form.add_error(field if field in form.fields else None, error.message)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _dates() -> tuple[forms.DateField, forms.DateField]:
    return (
        forms.DateField(
            label=_("Date de délivrance"),
            required=False,
            widget=DateInput(),
            input_formats=["%Y-%m-%d", "%d/%m/%Y"],
            help_text=_("Format : jj/mm/aaaa."),
        ),
        forms.DateField(
            label=_("Fin de validité"),
            required=False,
            widget=DateInput(),
            input_formats=["%Y-%m-%d", "%d/%m/%Y"],
            help_text=_(
                "Facultative (un Kbis ou une attestation a souvent une durée de validité). Un rappel vous est "
                "envoyé par courriel avant cette date."
            ),
        ),
    )


def _file() -> forms.FileField:
    return forms.FileField(
        label=_("Fichier"),
        allow_empty_file=True,  # the handler encrypted it already; the value here is a marker
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        help_text=_(
            "Formats acceptés : PDF, images (JPEG, PNG), documents bureautiques (ODT, ODS, DOCX, XLSX), XML (DUME), ZIP."
        ),
    )


class DocumentForm(forms.Form):
    doc_type = forms.ChoiceField(label=_("Type de document"), choices=DocumentType.choices)
    title = forms.CharField(label=_("Intitulé"), max_length=MAX_TITLE_LENGTH)
    issue_date, valid_until = _dates()
    file = _file()


class VersionForm(forms.Form):
    issue_date, valid_until = _dates()
    file = _file()


class GrantForm(forms.Form):
    consultation = forms.TypedChoiceField(label=_("Consultation"), coerce=int, empty_value=None)
    all_documents = forms.BooleanField(
        label=_("Tous les documents du coffre-fort (y compris ceux ajoutés plus tard)"), required=False
    )
    documents = forms.TypedMultipleChoiceField(
        label=_("Ou seulement ces documents"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, consultations: list[Any], documents: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consultation"].choices = [("", _("— Choisissez —"))] + [
            (c.pk, f"{c.reference} — {c.title} ({c.organisation.name})") for c in consultations
        ]
        self.fields["documents"].choices = [(d.pk, str(d)) for d in documents]
