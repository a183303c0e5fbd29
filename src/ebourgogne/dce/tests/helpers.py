"""Helpers of the DCE tests: consultations with files, uploads as a browser sends them."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scopes_disabled

from ebourgogne.consultations.signals import consultation_published
from ebourgogne.dce import services
from ebourgogne.dce.models import DceVersion
from ebourgogne.dce.tasks import build_archive
from ebourgogne.testing.factories import ConsultationFactory


def uploaded(
    name: str, content: bytes = b"%PDF-1.7 contenu", content_type: str = "application/pdf"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def add_file(user: Any, consultation: Any, name: str, content: bytes = b"%PDF-1.7 contenu"):
    return services.upload_file(acting_user=user, consultation=consultation, uploaded=uploaded(name, content))


def published_with_files(buyer: Any, user: Any, files: dict[str, bytes], *, archive: bool = True, **fields: Any):
    """A consultation published (factory) whose DCE version 1 holds `files`, published with it."""
    consultation = ConsultationFactory(organisation=buyer, **fields)
    for name, content in files.items():
        add_file(user, consultation, name, content)
    with scopes_disabled():
        consultation.state = "published"
        from ebourgogne.core import clock

        consultation.published_at = clock.now()
        consultation.save()
    consultation_published.send(sender=None, consultation=consultation)
    if archive:
        with scopes_disabled():
            version = DceVersion.objects.get(consultation=consultation, number=1)
        build_archive.call(version.pk)
    return consultation


def version(consultation: Any, number: int) -> DceVersion:
    with scopes_disabled():
        return DceVersion.objects.get(consultation=consultation, number=number)
