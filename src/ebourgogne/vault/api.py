"""The vault in the API, for the company's members (vault.view), under /api/v1/companies:

- GET /{org}/vault/documents                 the documents with their current versions and statuses
- GET /{org}/vault/documents/{id}/content    the current version, decrypted (streamed, attachment)

The bid page's picker (tenders/static/tenders/vault.js) uses them: the browser fetches the chosen documents
and encrypts them to the consultation's recipient like any other file, so the vault's copy never reaches a
buyer in clear.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError

from ebourgogne.apitokens.auth import api_auth
from ebourgogne.apitokens.schemas import ErrorOut
from ebourgogne.core import clock
from ebourgogne.core.access import organisation_api
from ebourgogne.vault import selectors

router = Router(tags=["vault"], auth=api_auth)

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


class DocumentOut(Schema):
    id: int
    type: str
    type_label: str
    title: str
    issue_date: dt.date | None
    valid_until: dt.date | None
    status: str
    version: int
    name: str
    content_type: str
    size: int
    sha256: str
    content_url: str


def _company(organisation: Any) -> None:
    if not organisation.is_company:
        raise HttpError(404, _("Organisation introuvable."))


@router.get("/{org_slug}/vault/documents", response={200: list[DocumentOut], **ERRORS}, summary="The vault's documents")
@organisation_api("vault.view")
def documents(request: HttpRequest, organisation: Any) -> list[dict[str, Any]]:
    _company(organisation)
    today = clock.today_local()
    return [
        {
            "id": d.pk,
            "type": d.doc_type,
            "type_label": str(d.get_doc_type_display()),
            "title": d.title,
            "issue_date": d.issue_date,
            "valid_until": d.valid_until,
            "status": d.status(today),
            "version": d.current_version.number,
            "name": d.current_version.original_name,
            "content_type": d.current_version.content_type,
            "size": d.current_version.size,
            "sha256": d.current_version.sha256,
            "content_url": reverse("api:vault_document_content", args=[organisation.slug, d.pk]),
        }
        for d in selectors.documents_of(company=organisation)
    ]


@router.get(
    "/{org_slug}/vault/documents/{int:document_id}/content",
    response={**ERRORS},
    url_name="vault_document_content",
    summary="The current version of a document, decrypted",
)
@organisation_api("vault.view")
def document_content(request: HttpRequest, organisation: Any, document_id: int):
    from ebourgogne.vault.views import stream_version

    _company(organisation)
    document = selectors.document_of(company=organisation, pk=document_id)
    if document is None or document.current_version_id is None:
        raise HttpError(404, _("Ce document n'existe pas."))
    response = stream_version(request, document.current_version, organisation=organisation)
    if response.status_code != 200:
        raise HttpError(
            response.status_code,
            _("Le fichier conservé pour ce document est endommagé ou incomplet : il ne peut pas être délivré."),
        )
    return response
