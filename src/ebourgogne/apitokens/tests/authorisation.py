"""The state-changing API operations of the consultations, DCE and questions APIs (owned with the API tokens),
and the token page, for the authorisation matrix (ebourgogne/core/tests/test_authorisation_matrix.py)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from ebourgogne.apitokens.models import ApiToken
from ebourgogne.consultations.models import Consultation
from ebourgogne.core import clock
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
    consultation = _draft(world) if key == "draft" else _published(world)
    return (
        Consultation.objects.filter(pk=consultation.pk)
        .values("title", "state", "bids_deadline", "end_reason", "published_at")
        .get()
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
        name="apitokens.create",
        target="apitokens:list",
        method="POST",
        policy=AUTHENTICATED,
        url=lambda w: reverse("apitokens:list"),
        data=lambda w: {"name": "Intégration", "expires_on": (clock.today_local() + dt.timedelta(days=30)).isoformat()},
        snapshot=lambda w: ApiToken.objects.count(),
    ),
]
