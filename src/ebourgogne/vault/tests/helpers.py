"""Helpers of the vault tests: upload through the real page, as a browser does."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scopes_disabled

from ebourgogne.vault.models import VaultDocument


def upload(client: Any, company: Any, name: str, content: bytes, **fields: Any):
    data = {"doc_type": "kbis", "title": "Extrait Kbis", "issue_date": "", "valid_until": "", **fields}
    data["file"] = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return client.post(f"/organisations/{company.slug}/coffre-fort/deposer/", data)


def add_version(client: Any, company: Any, document: Any, name: str, content: bytes, **fields: Any):
    data = {"issue_date": "", "valid_until": "", **fields}
    data["file"] = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return client.post(f"/organisations/{company.slug}/coffre-fort/{document.pk}/nouvelle-version/", data)


def only_document(company: Any) -> VaultDocument:
    with scopes_disabled():
        return VaultDocument.objects.select_related("current_version").get(company=company, deleted_at__isnull=True)


def body_of(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content
