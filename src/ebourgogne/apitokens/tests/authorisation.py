"""The state-changing API operations of the consultations, DCE and questions APIs (owned with the API tokens),
and the token page, for the authorisation matrix (ebourgogne/core/tests/test_authorisation_matrix.py)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from ebourgogne.apitokens.models import ApiToken
from ebourgogne.consultations.models import Consultation
from ebourgogne.core import clock
from ebourgogne.dce.models import DceFile, DceVersion
from ebourgogne.questions.models import Question
from ebourgogne.testing.authorisation import AUTHENTICATED, Operation, World
from ebourgogne.testing.factories import ConsultationFactory
from ebourgogne.testing.sealing import with_opening_keys

BUYERS = "/api/v1/buyers"


def _draft(world: World) -> Consultation:
    if "api_draft" not in world.extra:
        with_opening_keys(world.buyer)  # publication needs an opening commission whose members hold keys
        world.extra["api_draft"] = ConsultationFactory(
            organisation=world.buyer, reference="API-BROUILLON", procedure="mapa", title="Réfection de la toiture"
        )
    return world.extra["api_draft"]


def _published(world: World) -> Consultation:
    if "api_published" not in world.extra:
        world.extra["api_published"] = ConsultationFactory(
            organisation=world.buyer, reference="API-PUBLIEE", published=True
        )
    return world.extra["api_published"]


def _row(world: World, key: str):
    # The consultations are made on first use (the snapshot is taken before the URL is built).
    consultation = _draft(world) if key == "draft" else _published(world)
    return (
        Consultation.objects.filter(pk=consultation.pk)
        .values("title", "state", "bids_deadline", "end_reason", "published_at")
        .get()
    )


def _question(world: World) -> Question:
    if "api_question" not in world.extra:
        world.extra["api_question"] = Question.objects.create(
            consultation=_published(world),
            number=1,
            text="Une visite est-elle obligatoire ?",
            asker_email="entreprise@exemple.test",
            asked_at=clock.now(),
        )
    return world.extra["api_question"]


def _questions(world: World):
    _question(world)  # made before the first snapshot
    return sorted(
        Question.objects.filter(consultation=_published(world)).values_list("number", "kind", "answer", "published_at")
    )


def _dce_published(world: World):
    """A published consultation with a file waiting in the DCE being prepared (made on first use)."""
    if "api_dce" not in world.extra:
        from django.core.files.uploadedfile import SimpleUploadedFile

        from ebourgogne.dce import services

        consultation = ConsultationFactory(organisation=world.buyer, reference="API-DCE", published=True)
        services.upload_file(
            acting_user=world.buyer_admin,
            consultation=consultation,
            uploaded=SimpleUploadedFile("RC.pdf", b"%PDF-1.7 reglement", content_type="application/pdf"),
        )
        world.extra["api_dce"] = consultation
    return world.extra["api_dce"]


def _first_file(world: World) -> int:
    from django_scopes import scopes_disabled

    with scopes_disabled():
        return DceFile.objects.filter(consultation=_dce_published(world)).values_list("pk", flat=True).first()


def _dce_files(world: World):
    return sorted(
        DceFile.objects.filter(consultation=_dce_published(world)).values_list("name", "added_in_id", "removed_in_id")
    )


def _dce_versions(world: World):
    return sorted(
        DceVersion.objects.filter(consultation=_dce_published(world)).values_list("number", "published_at", "reason")
    )


def _later(world: World) -> str:
    return (_published(world).bids_deadline + dt.timedelta(days=7)).isoformat()


OPERATIONS = [
    Operation(
        name="api.consultation_create",
        target="api POST /api/v1/buyers/{org_slug}/consultations",
        method="POST",
        api=True,
        permission="consultations.manage",
        url=lambda w: f"{BUYERS}/{w.buyer.slug}/consultations",
        data=lambda w: {
            "reference": "API-2027-001",
            "title": "Entretien des espaces verts",
            "contract_type": "services",
            "procedure": "mapa",
            "main_cpv": "77310000",
        },
        snapshot=lambda w: sorted(
            Consultation.objects.filter(organisation=w.buyer).values_list("reference", flat=True)
        ),
    ),
    Operation(
        name="api.consultation_update",
        target="api PATCH /api/v1/buyers/{org_slug}/consultations/{int:consultation_id}",
        method="PATCH",
        api=True,
        permission="consultations.manage",
        url=lambda w: f"{BUYERS}/{w.buyer.slug}/consultations/{_draft(w).pk}",
        data=lambda w: {"title": "Réfection de la toiture de la mairie"},
        snapshot=lambda w: _row(w, "draft"),
    ),
    Operation(
        name="api.consultation_publish",
        target="api POST /api/v1/buyers/{org_slug}/consultations/{int:consultation_id}/publish",
        method="POST",
        api=True,
        permission="consultations.manage",
        url=lambda w: f"{BUYERS}/{w.buyer.slug}/consultations/{_draft(w).pk}/publish",
        snapshot=lambda w: _row(w, "draft"),
    ),
    Operation(
        name="api.consultation_postpone",
        target="api POST /api/v1/buyers/{org_slug}/consultations/{int:consultation_id}/postpone",
        method="POST",
        api=True,
        permission="consultations.manage",
        url=lambda w: f"{BUYERS}/{w.buyer.slug}/consultations/{_published(w).pk}/postpone",
        data=lambda w: {"bids_deadline": _later(w), "reason": "Demandes des entreprises"},
        snapshot=lambda w: _row(w, "published"),
    ),
    Operation(
        name="api.consultation_cancel",
        target="api POST /api/v1/buyers/{org_slug}/consultations/{int:consultation_id}/cancel",
        method="POST",
        api=True,
        permission="consultations.manage",
        url=lambda w: f"{BUYERS}/{w.buyer.slug}/consultations/{_published(w).pk}/cancel",
        data=lambda w: {"reason": "Besoin redéfini"},
        snapshot=lambda w: _row(w, "published"),
    ),
    Operation(
        name="api.buyer_questions",
        target="api GET /api/v1/buyers/{org_slug}/consultations/{int:consultation_id}/questions",
        method="GET",
        api=True,
        permission="questions.answer",
        url=lambda w: f"{BUYERS}/{w.buyer.slug}/consultations/{_question(w).consultation_id}/questions",
        snapshot=lambda w: _questions(w),
        changes=False,
    ),
    Operation(
        name="api.question_answer",
        target="api POST /api/v1/buyers/{org_slug}/consultations/{int:consultation_id}/questions/{int:number}/answer",
        method="POST",
        api=True,
        permission="questions.answer",
        url=lambda w: f"{BUYERS}/{w.buyer.slug}/consultations/{_question(w).consultation_id}/questions/1/answer",
        data=lambda w: {"answer": "Non, elle est facultative."},
        snapshot=lambda w: _questions(w),
    ),
    Operation(
        name="api.information_publish",
        target="api POST /api/v1/buyers/{org_slug}/consultations/{int:consultation_id}/information",
        method="POST",
        api=True,
        permission="questions.answer",
        url=lambda w: f"{BUYERS}/{w.buyer.slug}/consultations/{_published(w).pk}/information",
        data=lambda w: {"text": "La visite aura lieu le 12 janvier."},
        snapshot=lambda w: _questions(w),
    ),
    Operation(
        name="api.dce_upload",
        target="api POST /api/v1/buyers/{org_slug}/consultations/{int:consultation_id}/documents",
        method="POST",
        api=True,
        permission="dce.manage",
        url=lambda w: f"{BUYERS}/{w.buyer.slug}/consultations/{_dce_published(w).pk}/documents",
        data=lambda w: {"name": "CCTP.txt", "content_base64": "Y2xhdXNlcw=="},
        snapshot=lambda w: _dce_files(w),
    ),
    Operation(
        name="api.dce_remove",
        target="api DELETE /api/v1/buyers/{org_slug}/consultations/{int:consultation_id}/documents/{int:file_id}",
        method="DELETE",
        api=True,
        permission="dce.manage",
        url=lambda w: f"{BUYERS}/{w.buyer.slug}/consultations/{_dce_published(w).pk}/documents/{_first_file(w)}",
        snapshot=lambda w: _dce_files(w),
    ),
    Operation(
        name="api.dce_publish",
        target="api POST /api/v1/buyers/{org_slug}/consultations/{int:consultation_id}/documents/publish",
        method="POST",
        api=True,
        permission="dce.manage",
        url=lambda w: f"{BUYERS}/{w.buyer.slug}/consultations/{_dce_published(w).pk}/documents/publish",
        data=lambda w: {"reason": "Ajout du règlement de la consultation"},
        snapshot=lambda w: _dce_versions(w),
    ),
    Operation(
        name="apitokens.create",
        target="apitokens:list",
        method="POST",
        policy=AUTHENTICATED,
        url=lambda w: reverse("apitokens:list"),
        data=lambda w: {"name": "Intégration", "expires_on": (clock.today_local() + dt.timedelta(days=30)).isoformat()},
        snapshot=lambda w: ApiToken.objects.count(),
    ),
]
