"""The state-changing API operations of the consultations, DCE and questions APIs (owned with the API tokens),
and the token page, for the authorisation matrix (ebourgogne/core/tests/test_authorisation_matrix.py)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from ebourgogne.apitokens.models import ApiToken
from ebourgogne.consultations.models import Consultation
from ebourgogne.core import clock
from ebourgogne.questions.models import Question
from ebourgogne.testing.authorisation import AUTHENTICATED, Operation, World
from ebourgogne.testing.factories import ConsultationFactory

BUYERS = "/api/v1/buyers"


def _draft(world: World) -> Consultation:
    if "api_draft" not in world.extra:
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
        name="apitokens.create",
        target="apitokens:list",
        method="POST",
        policy=AUTHENTICATED,
        url=lambda w: reverse("apitokens:list"),
        data=lambda w: {"name": "Intégration", "expires_on": (clock.today_local() + dt.timedelta(days=30)).isoformat()},
        snapshot=lambda w: ApiToken.objects.count(),
    ),
]
