"""Consultations as the API and OCDS tests need them: lots, CPV codes, a published DCE with a rectification,
published answers, a cancelled one. Rows are written directly (the services are tested in their apps)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django_scopes import scopes_disabled

from ebourgogne.consultations.models import ConsultationCpv, Lot
from ebourgogne.core import clock
from ebourgogne.dce.models import DceFile, DceVersion
from ebourgogne.questions.models import Question
from ebourgogne.testing.factories import ConsultationFactory


def with_lots(organisation: Any, **fields: Any):
    consultation = ConsultationFactory(organisation=organisation, published=True, **fields)
    with scopes_disabled():
        ConsultationCpv.objects.create(consultation=consultation, cpv_id="45260000")
        for number, (title, cpv) in enumerate((("Gros œuvre", "45210000"), ("Couverture", "45261000")), start=1):
            lot = Lot.objects.create(consultation=consultation, number=number, title=title, estimated_value=120000)
            ConsultationCpv.objects.create(consultation=consultation, lot=lot, cpv_id=cpv, is_main=True)
    return consultation


def with_dce(consultation: Any, *, rectified: bool = False) -> None:
    """Version 1 with two files; with `rectified`, version 2 replaces one of them, with its reason; and an
    unpublished version 3 (being prepared) that must stay private."""
    at = consultation.published_at or clock.now()
    with scopes_disabled():
        v1 = DceVersion.objects.create(consultation=consultation, number=1, published_at=at)
        rc = _file(consultation, v1, "RC.pdf", "application/pdf", 1234)
        _file(
            consultation,
            v1,
            "CCTP.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            56789,
        )
        if rectified:
            v2 = DceVersion.objects.create(
                consultation=consultation, number=2, published_at=at + dt.timedelta(hours=2), reason="Erreur de date"
            )
            rc.removed_in = v2
            rc.save()
            _file(consultation, v2, "RC-v2.pdf", "application/pdf", 2345)
            v3 = DceVersion.objects.create(consultation=consultation, number=3)
            _file(consultation, v3, "BROUILLON-PRIVE.pdf", "application/pdf", 10)


def _file(consultation: Any, version: DceVersion, name: str, content_type: str, size: int) -> DceFile:
    return DceFile.objects.create(
        consultation=consultation,
        name=name,
        size=size,
        content_type=content_type,
        sha256="0" * 64,
        storage_name=f"dce/{consultation.pk}/{name}",
        added_in=version,
    )


def with_questions(consultation: Any) -> None:
    at = clock.now()
    with scopes_disabled():
        Question.objects.create(
            consultation=consultation,
            number=1,
            text="Une visite est-elle obligatoire ?",
            asker_email="secret@entreprise.test",
            asked_at=at,
            answer="Non, elle est facultative.",
            published_at=at,
        )
        Question.objects.create(
            consultation=consultation, number=2, text="Question sans réponse", asker_email="x@y.test", asked_at=at
        )
        Question.objects.create(
            consultation=consultation,
            number=3,
            kind="information",
            text="La date de visite est fixée au 12 janvier.",
            asked_at=at,
            published_at=at,
        )


def cancelled(organisation: Any):
    consultation = ConsultationFactory(organisation=organisation, published=True)
    with scopes_disabled():
        consultation.state = "cancelled"
        consultation.end_reason = "Besoin redéfini"
        consultation.ended_at = clock.now()
        consultation.save()
    return consultation
