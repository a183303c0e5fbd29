"""The state-changing operations of the consultations pages, for the authorisation matrix
(ebourgogne/core/tests/test_authorisation_matrix.py). The API's operations are in H5's registry
(consultations/tests/authorisation_api.py or the apitokens app)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.consultations.models import Consultation, Lot
from ebourgogne.core import clock
from ebourgogne.testing.authorisation import Operation, World
from ebourgogne.testing.factories import ConsultationFactory, LotFactory
from ebourgogne.testing.sealing import with_opening_keys


def _consultation(world: World, key: str, **fields: Any) -> Consultation:
    """One consultation of the world's buyer per operation, made on first use."""
    if key not in world.extra:
        with scopes_disabled():
            world.extra[key] = ConsultationFactory(organisation=world.buyer, **fields)
    return world.extra[key]


def _draft(world: World) -> Consultation:
    with_opening_keys(world.buyer)  # publication needs an opening commission whose members hold keys
    consultation = _consultation(world, "draft")
    if "draft_lot" not in world.extra:
        with scopes_disabled():
            world.extra["draft_lot"] = LotFactory(consultation=consultation, number=1, title="Lot existant")
    return consultation


def _published(world: World) -> Consultation:
    return _consultation(world, "published", published=True)


def _closed(world: World) -> Consultation:
    now = clock.now()
    return _consultation(
        world,
        "closed",
        state="closed",
        published_at=now - dt.timedelta(days=40),
        questions_deadline=now - dt.timedelta(days=20),
        bids_deadline=now - dt.timedelta(days=1),
        closed_at=now - dt.timedelta(days=1),
    )


def _opened(world: World) -> Consultation:
    now = clock.now()
    return _consultation(
        world,
        "opened",
        state="opened",
        published_at=now - dt.timedelta(days=40),
        questions_deadline=now - dt.timedelta(days=20),
        bids_deadline=now - dt.timedelta(days=2),
        closed_at=now - dt.timedelta(days=2),
        opened_at=now - dt.timedelta(days=1),
    )


def _row(consultation: Consultation) -> dict[str, Any]:
    with scopes_disabled():
        row = Consultation.objects.filter(pk=consultation.pk).values().first()
        lots = list(Lot.objects.filter(consultation_id=consultation.pk).values_list("number", "title"))
    if row:
        row.pop("updated_at", None)
    return {"row": row, "lots": lots}


def _all(world: World) -> list[Any]:
    with scopes_disabled():
        return sorted(Consultation.objects.filter(organisation=world.buyer).values_list("reference", "title"))


def _url(name: str, world: World, consultation: Consultation | None = None) -> str:
    args = [world.buyer.slug] + ([consultation.pk] if consultation is not None else [])
    return reverse(f"consultations_buyer:{name}", args=args)


def _dt(prefix: str, moment: dt.datetime) -> dict[str, str]:
    local = moment.astimezone(ZoneInfo("Europe/Paris"))
    return {f"{prefix}_0": local.strftime("%Y-%m-%d"), f"{prefix}_1": "12:00"}


LOTS_NONE = {"lots-TOTAL_FORMS": "0", "lots-INITIAL_FORMS": "0", "lots-MIN_NUM_FORMS": "0", "lots-MAX_NUM_FORMS": "500"}


def _create_data(world: World) -> dict[str, str]:
    now = clock.now()
    return {
        "reference": "MATRICE-1",
        "title": "Entretien des espaces verts",
        "contract_type": "services",
        "procedure": "mapa",
        "main_cpv": "77310000",
        "save": "1",
        **_dt("questions_deadline", now + dt.timedelta(days=10)),
        **_dt("bids_deadline", now + dt.timedelta(days=20)),
        **LOTS_NONE,
    }


def _edit_data(world: World) -> dict[str, str]:
    consultation = _draft(world)
    lot = world.extra["draft_lot"]
    return {
        "reference": consultation.reference,
        "title": "Titre modifié par la matrice",
        "contract_type": consultation.contract_type,
        "procedure": consultation.procedure,
        "main_cpv": "45000000",
        "save": "1",
        "lots-TOTAL_FORMS": "1",
        "lots-INITIAL_FORMS": "1",
        "lots-MIN_NUM_FORMS": "0",
        "lots-MAX_NUM_FORMS": "500",
        "lots-0-id": str(lot.pk),
        "lots-0-title": "Lot renommé",
    }


OPERATIONS = [
    Operation(
        name="consultations.create",
        target="consultations_buyer:create",
        method="POST",
        permission="consultations.manage",
        url=lambda w: _url("create", w),
        data=_create_data,
        snapshot=_all,
    ),
    Operation(
        name="consultations.edit",
        target="consultations_buyer:edit",
        method="POST",
        permission="consultations.manage",
        url=lambda w: _url("edit", w, _draft(w)),
        data=_edit_data,
        snapshot=lambda w: _row(_draft(w)),
    ),
    Operation(
        name="consultations.publish",
        target="consultations_buyer:publish",
        method="POST",
        permission="consultations.manage",
        url=lambda w: _url("publish", w, _draft(w)),
        snapshot=lambda w: _row(_draft(w)),
    ),
    Operation(
        name="consultations.postpone",
        target="consultations_buyer:postpone",
        method="POST",
        permission="consultations.manage",
        url=lambda w: _url("postpone", w, _published(w)),
        data=lambda w: {**_dt("bids_deadline", _published(w).bids_deadline + dt.timedelta(days=7)), "reason": "Report"},
        snapshot=lambda w: _row(_published(w)),
    ),
    Operation(
        name="consultations.open",
        target="consultations_buyer:open",
        method="POST",
        permission="consultations.manage",
        url=lambda w: _url("open", w, _closed(w)),
        snapshot=lambda w: _row(_closed(w)),
    ),
    Operation(
        name="consultations.outcome",
        target="consultations_buyer:outcome",
        method="POST",
        permission="consultations.manage",
        url=lambda w: _url("outcome", w, _opened(w)),
        data=lambda w: {"outcome": "unsuccessful", "reason": "Aucune offre"},
        snapshot=lambda w: _row(_opened(w)),
    ),
    Operation(
        name="consultations.cancel",
        target="consultations_buyer:cancel",
        method="POST",
        permission="consultations.manage",
        url=lambda w: _url("cancel", w, _published(w)),
        data=lambda w: {"reason": "Besoin disparu"},
        snapshot=lambda w: _row(_published(w)),
    ),
    Operation(
        name="consultations.delete_draft",
        target="consultations_buyer:delete",
        method="POST",
        permission="consultations.manage",
        url=lambda w: _url("delete", w, _draft(w)),
        snapshot=lambda w: _row(_draft(w)),
    ),
]
