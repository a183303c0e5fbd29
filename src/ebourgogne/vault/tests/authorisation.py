"""The vault's state-changing operations, for the authorisation matrix
(ebourgogne/core/tests/test_authorisation_matrix.py). All act on the world's company."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.testing.authorisation import Operation, World

PDF = b"%PDF-1.7 matrix document " * 20


def _document(world: World):
    """A document in the company's vault, and a consultation of the buyer the company bids on, made once."""
    if "vault.document" not in world.extra:
        from ebourgogne.tenders.models import Bid
        from ebourgogne.testing.factories import ConsultationFactory
        from ebourgogne.vault import services, storage

        with scopes_disabled():
            upload = storage.encrypt_upload(world.company, "kbis.pdf", io.BytesIO(PDF))
            world.extra["vault.document"] = services.document_create(
                acting_user=world.company_admin,
                company=world.company,
                doc_type="kbis",
                title="Kbis",
                issue_date=None,
                valid_until=None,
                upload=upload,
            )
            consultation = ConsultationFactory(organisation=world.buyer, published=True)
            Bid.objects.create(consultation=consultation, company=world.company)
            world.extra["vault.consultation"] = consultation
    return world.extra["vault.document"]


def _grant(world: World):
    if "vault.grant" not in world.extra:
        from ebourgogne.vault import services

        _document(world)
        with scopes_disabled():
            world.extra["vault.grant"] = services.grant_create(
                acting_user=world.company_admin,
                company=world.company,
                consultation_id=world.extra["vault.consultation"].pk,
                all_documents=True,
                document_ids=[],
            )
    return world.extra["vault.grant"]


def _documents(world: World):
    from ebourgogne.vault.models import VaultDocument, VaultDocumentVersion

    return (
        sorted(VaultDocument.objects.filter(company=world.company).values_list("pk", "title", "deleted_at")),
        VaultDocumentVersion.objects.filter(document__company=world.company).count(),
    )


def _grants(world: World):
    from ebourgogne.vault.models import VaultGrant

    return sorted(VaultGrant.objects.filter(company=world.company).values_list("pk", "revoked_at"))


def _file(name: str = "attestation.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


OPERATIONS = [
    Operation(
        name="vault.upload",
        target="vault:upload",
        method="POST",
        permission="vault.manage",
        organisation=lambda w: w.company,
        url=lambda w: reverse("vault:upload", args=[w.company.slug]),
        data=lambda w: {"doc_type": "urssaf", "title": "URSSAF", "file": _file()},
        snapshot=_documents,
    ),
    Operation(
        name="vault.version_add",
        target="vault:version_add",
        method="POST",
        permission="vault.manage",
        organisation=lambda w: w.company,
        url=lambda w: reverse("vault:version_add", args=[w.company.slug, _document(w).pk]),
        data=lambda w: {"file": _file("kbis-2.pdf")},
        snapshot=lambda w: (_document(w), _documents(w))[1],
    ),
    Operation(
        name="vault.delete",
        target="vault:delete",
        method="POST",
        permission="vault.manage",
        organisation=lambda w: w.company,
        url=lambda w: reverse("vault:delete", args=[w.company.slug, _document(w).pk]),
        snapshot=lambda w: (_document(w), _documents(w))[1],
    ),
    Operation(
        name="vault.grant_create",
        target="vault:grant_create",
        method="POST",
        permission="vault.grant",
        organisation=lambda w: w.company,
        url=lambda w: (_document(w), reverse("vault:grant_create", args=[w.company.slug]))[1],
        data=lambda w: {"consultation": str(w.extra["vault.consultation"].pk), "all_documents": "on"},
        snapshot=lambda w: (_document(w), _grants(w))[1],
    ),
    Operation(
        name="vault.grant_revoke",
        target="vault:grant_revoke",
        method="POST",
        permission="vault.grant",
        organisation=lambda w: w.company,
        url=lambda w: reverse("vault:grant_revoke", args=[w.company.slug, _grant(w).pk]),
        snapshot=lambda w: (_grant(w), _grants(w))[1],
    ),
]
