"""Open Contracting Data Standard (OCDS 1.1) release packages for published consultations: `tender`,
`award` and `contract` stages.

One release per consultation, describing its tender, its awards and its contracts as they stand now (the
award and contract stages: consultations/ocds_awards.py):

- `ocid`: the configured prefix (EBOURGOGNE_OCDS_PREFIX, `ocds-` and 6 characters given by the Open
  Contracting Partnership) followed by the consultation's id: `ocds-ebourg-42`.
- `id`: `<ocid>-<stage>-<date of the last change>` (stage: tender, award or contract, the latest one
  present): a new release id whenever the tender, an award, a contract or a modification changes; the
  release `date` is that last change.
- `tag`: `tender`; `tenderAmendment` once a rectification (DCE version 2 or later) is published;
  `tenderCancellation` for a cancelled consultation; then `award`, `contract`, `contractAmendment`,
  `contractTermination` as the award and contract stages are present (ocds_awards.py).
- The buyer is a party with roles buyer and procuringEntity, identified by its SIRET in the `FR-RCS`
  scheme: org-id.guide lists no "FR-SIRET" scheme; its French register is FR-RCS ("Trade and Companies
  Register"), whose identifiers are SIREN or SIRET numbers (FR-INSEE, the SIRENE list, is deprecated in
  favour of FR-RCS). The party id is `FR-RCS-<siret>`.
- `tender.procurementMethod` maps the French procedure to the OCDS codelist (open, selective, limited);
  `procurementMethodDetails` keeps the French name of the procedure.
- `tender.items`: one item per CPV code (scheme `CPV`, the 8 digits as in eForms), with `relatedLot` for
  the codes of a lot; the consultation's main code is the first item.
- Lots (`tender.lots`) and questions and answers (`tender.enquiries`) use the official lots and enquiries
  extensions, declared in the package's `extensions`.
- Dates are ISO 8601 with the Europe/Paris offset; amounts in EUR, excluding VAT.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone, translation

from ebourgogne.config import env
from ebourgogne.consultations.models import Consultation, ConsultationCpv, ContractType, Lot, Procedure, State
from ebourgogne.consultations.ocds_awards import Outcomes, outcomes_of, stage_of
from ebourgogne.core import clock

OCDS_VERSION = "1.1"
IDENTIFIER_SCHEME = "FR-RCS"
LICENSE = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
EXTENSIONS = [
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/v1.1.5/extension.json",
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_enquiry_extension/v1.1.5/extension.json",
]

PROCUREMENT_METHOD = {
    Procedure.MAPA: "open",  # procédure adaptée: advertised, anyone may bid
    Procedure.OPEN: "open",
    Procedure.RESTRICTED: "selective",
    Procedure.NEGOTIATED: "selective",  # with a prior notice: candidates are selected
    Procedure.COMPETITIVE_DIALOGUE: "selective",
    Procedure.NEGOTIATED_WITHOUT_NOTICE: "limited",
    Procedure.DESIGN_CONTEST: "selective",
}
MAIN_CATEGORY = {ContractType.WORKS: "works", ContractType.SUPPLIES: "goods", ContractType.SERVICES: "services"}
TENDER_STATUS = {
    State.PUBLISHED: "active",
    State.CLOSED: "active",  # bids received, not yet decided: still the active tender
    State.OPENED: "active",
    State.AWARDED: "complete",
    State.UNSUCCESSFUL: "unsuccessful",
    State.ABANDONED: "cancelled",  # déclarée sans suite
    State.CANCELLED: "cancelled",
}


def ocid_prefix() -> str:
    return env("EBOURGOGNE_OCDS_PREFIX").strip() or "ocds-ebourg"


def ocid(consultation: Consultation) -> str:
    return f"{ocid_prefix()}-{consultation.pk}"


def _date(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return timezone.localtime(value, timezone.get_default_timezone()).isoformat()


def _absolute(path: str) -> str:
    return f"{settings.BASE_URL}{path}"


def _party_id(organisation: Any) -> str:
    return f"{IDENTIFIER_SCHEME}-{organisation.siret}" if organisation.siret else f"ebourgogne-{organisation.slug}"


def _amount(value: Any) -> dict[str, Any] | None:
    return None if value is None else {"amount": float(value), "currency": "EUR"}


def _prune(value: Any) -> Any:
    """Drop None, empty strings, empty lists and empty objects (OCDS: omit what is unknown)."""
    if isinstance(value, dict):
        pruned = {key: _prune(item) for key, item in value.items()}
        return {key: item for key, item in pruned.items() if item not in (None, "", [], {})}
    if isinstance(value, list):
        return [item for item in (_prune(item) for item in value) if item not in (None, "", [], {})]
    return value


def _buyer_party(consultation: Consultation) -> dict[str, Any]:
    organisation = consultation.organisation
    return {
        "id": _party_id(organisation),
        "name": organisation.name,
        "identifier": {
            "scheme": IDENTIFIER_SCHEME if organisation.siret else None,
            "id": organisation.siret or None,
            "legalName": organisation.name,
        },
        "address": {
            "streetAddress": organisation.street,
            "locality": organisation.city,
            "postalCode": organisation.postal_code,
            "countryName": "France",
        },
        "contactPoint": {
            "name": consultation.contact_name,
            "email": consultation.contact_email,
            "telephone": consultation.contact_phone,
        },
        "roles": ["buyer", "procuringEntity"],
    }


def _items(consultation: Consultation, rows: list[ConsultationCpv], lots: dict[int, Lot]) -> list[dict[str, Any]]:
    ordered = sorted(
        rows,
        key=lambda row: (
            row.lot_id is not None,
            lots[row.lot_id].number if row.lot_id else 0,
            not row.is_main,
            row.cpv_id,
        ),
    )
    items = []
    for index, row in enumerate(ordered, start=1):
        item: dict[str, Any] = {
            "id": str(index),
            "description": row.cpv.label_fr,
            "classification": {"scheme": "CPV", "id": row.cpv_id, "description": row.cpv.label_fr},
        }
        if row.lot_id:
            item["relatedLot"] = str(lots[row.lot_id].number)
        items.append(item)
    return items


def _documents(consultation: Consultation, dce: dict[str, Any]) -> list[dict[str, Any]]:
    documents = [
        {
            "id": "avis",
            "documentType": "tenderNotice",
            "title": consultation.title,
            "url": _absolute(f"/consultations/{consultation.pk}/"),
            "format": "text/html",
            "language": "fr",
            "datePublished": _date(consultation.published_at),
        }
    ]
    for number, dce_file in enumerate(dce["files"], start=1):
        documents.append(
            {
                "id": f"dce-{dce['version']}-{number}",
                "documentType": "biddingDocuments",
                "title": dce_file["name"],
                "description": f"{dce_file['size']} octets",
                "url": dce_file["download_url"],
                "format": dce_file["format"],
                "language": "fr",
                "datePublished": dce_file.get("published_at"),
            }
        )
    return documents


def _last_change(
    consultation: Consultation, versions: list[Any], questions: list[Any], others: Iterable[Any] = ()
) -> dt.datetime:
    moments = [consultation.updated_at, consultation.published_at, *others]
    moments += [version.published_at for version in versions]
    moments += [question.published_at for question in questions]
    moments += [getattr(question, "updated_at", None) for question in questions]
    return max(moment for moment in moments if moment is not None)


@dataclass
class Related:
    """What the releases of several consultations need, read in five queries whatever their number, plus
    at most three for the awards, contracts and modifications of the decided ones (`outcomes_of`)."""

    cpv_rows: dict[int, list[Any]] = field(default_factory=dict)
    lots: dict[int, list[Any]] = field(default_factory=dict)
    versions: dict[int, list[Any]] = field(default_factory=dict)
    files: dict[int, list[Any]] = field(default_factory=dict)
    questions: dict[int, list[Any]] = field(default_factory=dict)
    outcomes: Outcomes = field(default_factory=Outcomes)


def _grouped(queryset) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in queryset:
        grouped[row.consultation_id].append(row)
    return grouped


def related_of(consultations: list[Consultation]) -> Related:
    from ebourgogne.dce.models import DceFile, DceVersion
    from ebourgogne.questions.models import Question

    ids = [consultation.pk for consultation in consultations]
    return Related(
        cpv_rows=_grouped(ConsultationCpv.objects.filter(consultation_id__in=ids).select_related("cpv")),
        lots=_grouped(Lot.objects.filter(consultation_id__in=ids).order_by("number")),
        versions=_grouped(
            DceVersion.objects.filter(consultation_id__in=ids, published_at__isnull=False).order_by("number")
        ),
        files=_grouped(
            DceFile.objects.filter(consultation_id__in=ids)
            .select_related("added_in", "removed_in")
            .order_by("name", "pk")
        ),
        questions=_grouped(
            Question.objects.filter(consultation_id__in=ids, published_at__isnull=False).order_by("number")
        ),
        outcomes=outcomes_of(consultations),
    )


def _files_of(files: list[Any], version: Any) -> list[Any]:
    """The files of a published `version`: added in it or before, not removed in it or before."""
    return [
        dce_file
        for dce_file in files
        if dce_file.added_in.number <= version.number
        and (dce_file.removed_in_id is None or dce_file.removed_in.number > version.number)
    ]


def release(consultation: Consultation, related: Related | None = None) -> dict[str, Any]:
    """The OCDS release of one published consultation (call inside `scopes_disabled()`)."""
    from ebourgogne.dce.api import file_url

    if related is None:
        related = related_of([consultation])
    with translation.override("fr"):
        rows = related.cpv_rows.get(consultation.pk, [])
        lots = {lot.pk: lot for lot in related.lots.get(consultation.pk, [])}
        versions = related.versions.get(consultation.pk, [])
        current = versions[-1] if versions else None
        files = _files_of(related.files.get(consultation.pk, []), current) if current else []
        questions = related.questions.get(consultation.pk, [])
        stage = stage_of(consultation, related.outcomes, party_id=_party_id, date=_date, absolute=_absolute)
        changed = _last_change(consultation, versions, questions, stage.moments)
        rectifications = [version for version in versions if version.is_rectification]
        state = str(getattr(consultation, "effective_state", consultation.state))
        if consultation.state == State.CANCELLED:
            tag = "tenderCancellation"
        elif rectifications:
            tag = "tenderAmendment"
        else:
            tag = "tender"
        party = _buyer_party(consultation)
        reference = {"id": party["id"], "name": party["name"]}
        dce = {
            "version": current.number if current else None,
            "files": [
                {
                    "name": dce_file.name,
                    "size": dce_file.size,
                    "format": dce_file.content_type,
                    "download_url": file_url(consultation.pk, dce_file),
                    "published_at": _date(
                        next((v.published_at for v in versions if v.pk == dce_file.added_in_id), None)
                    ),
                }
                for dce_file in files
            ],
        }
        tender = {
            "id": consultation.reference or str(consultation.pk),
            "title": consultation.title,
            "description": consultation.object,
            "status": TENDER_STATUS.get(State(consultation.state)),
            "statusDetails": str(State(state).label),
            "procuringEntity": reference,
            "items": _items(consultation, rows, lots),
            "value": _amount(consultation.estimated_value),
            "procurementMethod": PROCUREMENT_METHOD.get(Procedure(consultation.procedure)),
            "procurementMethodDetails": str(Procedure(consultation.procedure).label),
            "mainProcurementCategory": MAIN_CATEGORY.get(ContractType(consultation.contract_type)),
            "submissionMethod": ["electronicSubmission"],
            "submissionMethodDetails": _absolute(f"/consultations/{consultation.pk}/"),
            "tenderPeriod": {
                "startDate": _date(consultation.published_at),
                "endDate": _date(consultation.bids_deadline),
            },
            "enquiryPeriod": {
                "startDate": _date(consultation.published_at),
                "endDate": _date(consultation.questions_deadline),
            },
            "hasEnquiries": bool(questions),
            "eligibilityCriteria": consultation.required_documents,
            "contractPeriod": {"durationInDays": consultation.duration_months * 30}
            if consultation.duration_months
            else None,
            "documents": _documents(consultation, dce),
            "amendments": [
                {
                    "id": f"rectificatif-{version.number}",
                    "date": _date(version.published_at),
                    "rationale": version.reason,
                    "description": f"Rectificatif : DCE version {version.number}",
                }
                for version in rectifications
            ],
            # Extension: lots.
            "lots": [
                {
                    "id": str(lot.number),
                    "title": lot.title,
                    "description": lot.description,
                    "value": _amount(lot.estimated_value),
                    "status": stage.lot_status.get(lot.number, TENDER_STATUS.get(State(consultation.state))),
                }
                for lot in lots.values()
            ],
            # Extension: enquiries (published answers and information, never the asker).
            "enquiries": [
                {
                    "id": str(question.number),
                    "date": _date(question.published_at if question.kind != "question" else question.asked_at),
                    "title": f"Question {question.number}" if question.kind == "question" else "Information",
                    "description": question.text,
                    "answer": question.answer or None,
                    "dateAnswered": _date(question.published_at) if question.answer else None,
                    "relatedLot": None,
                }
                for question in questions
            ],
        }
        if consultation.state in (State.CANCELLED, State.ABANDONED, State.UNSUCCESSFUL) and consultation.end_reason:
            tender["statusDetails"] = f"{State(state).label} : {consultation.end_reason}"
        kind = "contract" if stage.contracts else "award" if stage.awards else "tender"
        return _prune(
            {
                "ocid": ocid(consultation),
                "id": f"{ocid(consultation)}-{kind}-{changed.astimezone(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}",
                "date": _date(changed),
                "tag": [tag, *stage.tags],
                "initiationType": "tender",
                "language": "fr",
                "parties": [party, *stage.suppliers],
                "buyer": reference,
                "tender": tender,
                "awards": stage.awards,
                "contracts": stage.contracts,
            }
        )


def release_package(consultations: Iterable[Consultation], *, uri: str, next_url: str | None = None) -> dict[str, Any]:
    """A release package of the consultations' releases (call inside `scopes_disabled()`).

    `publishedDate` is the last change among them (the package is made on demand); `links.next` the
    next page of a paged listing."""
    consultations = list(consultations)
    related = related_of(consultations)
    releases = [release(consultation, related) for consultation in consultations]
    dates = [item["date"] for item in releases]
    package: dict[str, Any] = {
        "uri": uri,
        "version": OCDS_VERSION,
        "extensions": EXTENSIONS,
        "publishedDate": max(dates, key=dt.datetime.fromisoformat) if dates else _date(clock.now()),
        "publisher": {"name": getattr(settings, "PLATFORM_NAME", "e-bourgogne"), "uri": settings.BASE_URL},
        "license": LICENSE,
        "releases": releases,
    }
    if next_url:
        package["links"] = {"next": next_url}
    return package
