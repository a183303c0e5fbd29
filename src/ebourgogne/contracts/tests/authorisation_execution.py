"""The state-changing operations of a contract's execution pages (buyer and holder), for the
authorisation matrix (ebourgogne/core/tests/test_authorisation_matrix.py).

Signing needs a certificate of the person signing, who is made by the matrix itself: the data of a
signing operation issues one to the most recently created user (the actor the matrix just made and
signed in), so that the member holding the signing right really signs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.testing.authorisation import Operation, World

PASSPHRASE = "une phrase secrète de signature"
SIRET = "73282932000074"


def _contract(world: World):
    """A notified framework agreement of the world's buyer held by the world's company (made once)."""
    if "execution.contract" not in world.extra:
        from ebourgogne.testing.contracts import contract

        world.extra["execution.contract"] = contract(
            world.buyer, world.company, amount=Decimal("200000"), is_framework=True, number="2026-EX"
        )
    return world.extra["execution.contract"]


def _today() -> dt.date:
    from ebourgogne.core import clock

    return clock.today_local()


def _modification(world: World):
    if "execution.modification" not in world.extra:
        from ebourgogne.contracts import execution

        world.extra["execution.modification"] = execution.modification_create(
            acting_user=world.buyer_admin,
            contract=_contract(world),
            legal_ground="R2194-1",
            object="Clause de réexamen",
            amount_change="1000",
            effective_on=_today(),
        )
    return world.extra["execution.modification"]


def _cession(world: World):
    """A draft modification on the ground R2194-6 (new holder), on a contract of its own (one modification
    in preparation a contract)."""
    if "execution.cession" not in world.extra:
        from ebourgogne.contracts import execution
        from ebourgogne.testing.contracts import contract

        other = contract(world.buyer, world.company, amount=Decimal("50000"), number="2026-EX-CES")
        world.extra["execution.cession.contract"] = other
        world.extra["execution.cession"] = execution.modification_create(
            acting_user=world.buyer_admin,
            contract=other,
            legal_ground="R2194-6",
            object="Cession du marché",
            effective_on=_today(),
        )
    return world.extra["execution.cession"]


def _cession_snapshot(world: World):
    from ebourgogne.contracts.models import ContractDocument, Modification

    cession = _cession(world)
    with scopes_disabled():
        return {
            "modification": Modification.objects.filter(pk=cession.pk)
            .values_list("state", "new_holder_name", "new_holder_siret")
            .get(),
            "document": ContractDocument.objects.filter(pk=cession.document_id).values_list("sha256").get(),
            "rest": _snapshot(world),
        }


def _signed_modification(world: World):
    """A modification signed by both parties (real certificates), ready to be notified."""
    if "execution.signed" not in world.extra:
        from ebourgogne.contracts import execution
        from ebourgogne.signatures import services as signing

        modification = _modification(world)
        for user, party in ((world.buyer_admin, "buyer"), (world.company_admin, "holder")):
            certificate = signing.certificate_issue(user=user, passphrase=PASSPHRASE)
            modification = execution.act_sign(
                acting_user=user, item=modification, party=party, certificate=certificate, secret=PASSPHRASE
            )
        world.extra["execution.signed"] = modification
    return world.extra["execution.signed"]


def _subcontract(world: World, *, notified: bool = False):
    key = "execution.subcontract.notified" if notified else "execution.subcontract"
    if key not in world.extra:
        from ebourgogne.contracts import execution
        from ebourgogne.contracts.models import Subcontract
        from ebourgogne.core import clock

        subcontract = execution.subcontract_declare(
            acting_user=world.company_admin,
            contract=_contract(world),
            subcontractor_name="Peintures de Bourgogne",
            subcontractor_siret=SIRET,
            object="Peinture",
            amount="20000",
            duration_months="6",
        )
        if notified:
            # Accepted and notified, written straight to the database (the signing is tested elsewhere).
            with scopes_disabled():
                Subcontract.objects.filter(pk=subcontract.pk).update(
                    state="accepted", decided_at=clock.now(), notified_at=clock.now()
                )
                subcontract = Subcontract.objects.get(pk=subcontract.pk)
        world.extra[key] = subcontract
    return world.extra[key]


def _milestone(world: World):
    if "execution.milestone" not in world.extra:
        from ebourgogne.contracts import execution

        world.extra["execution.milestone"] = execution.milestone_set(
            acting_user=world.buyer_admin, contract=_contract(world), title="Réception", due_on=_today()
        )
    return world.extra["execution.milestone"]


def _actor_certificate(world: World) -> dict[str, str]:
    """A certificate for the most recently created user: the actor the matrix signed in."""
    from django.contrib.auth import get_user_model

    from ebourgogne.signatures import services as signing

    user = get_user_model().objects.order_by("-pk").first()
    certificate = signing.certificate_issue(user=user, passphrase=PASSPHRASE)
    return {"certificate": str(certificate.pk), "secret": PASSPHRASE}


def _buyer_url(name: str, world: World, *args) -> str:
    return reverse(f"contracts_execution:{name}", args=[world.buyer.slug, _contract(world).pk, *args])


def _holder_url(name: str, world: World, *args) -> str:
    return reverse(f"contracts_holder_execution:{name}", args=[world.company.slug, _contract(world).pk, *args])


def _snapshot(world: World):
    from ebourgogne.contracts.models import (
        Contract,
        ContractDocument,
        Milestone,
        Modification,
        OrderForm,
        Subcontract,
        SubcontractChange,
    )

    contract = _contract(world)
    with scopes_disabled():
        return {
            "contract": Contract.objects.filter(pk=contract.pk).values_list("state", "end_reason").get(),
            "modifications": sorted(
                Modification.objects.filter(contract=contract).values_list("number", "state", "notified_at")
            ),
            "orders": sorted(OrderForm.objects.filter(contract=contract).values_list("number", "amount")),
            "subcontracts": sorted(
                Subcontract.objects.filter(contract=contract).values_list("number", "state", "document_id")
            ),
            "changes": SubcontractChange.objects.filter(subcontract__contract=contract).count(),
            "milestones": sorted(Milestone.objects.filter(contract=contract).values_list("title", "done_on")),
            "documents": sorted(
                ContractDocument.objects.filter(contract=contract).values_list(
                    "pk", "buyer_signed_at", "holder_signed_at", "notified_at"
                )
            ),
        }


def _with(setup, world: World):
    setup(world)
    return _snapshot(world)


OPERATIONS = [
    Operation(
        name="contracts_execution.modification_create",
        target="contracts_execution:modification_create",
        method="POST",
        permission="contracts.manage",
        url=lambda w: _buyer_url("modification_create", w),
        data=lambda w: {
            "legal_ground": "R2194-1",
            "object": "Révision",
            "amount_change": "500",
            "duration_change_months": "1",
            "effective_on": _today().isoformat(),
        },
        snapshot=_snapshot,
    ),
    Operation(
        name="contracts_execution.modification_new_holder",
        target="contracts_execution:modification_new_holder",
        method="POST",
        permission="contracts.manage",
        url=lambda w: reverse(
            "contracts_execution:modification_new_holder",
            args=[w.buyer.slug, _cession(w).contract_id, _cession(w).pk],
        ),
        data=lambda w: {"new_holder_name": "Repreneur SAS", "new_holder_siret": SIRET},
        snapshot=_cession_snapshot,
    ),
    Operation(
        name="contracts_execution.order_issue",
        target="contracts_execution:order_issue",
        method="POST",
        permission="contracts.manage",
        url=lambda w: _buyer_url("order_issue", w),
        data=lambda w: {"object": "Fournitures", "amount": "1200"},
        snapshot=_snapshot,
    ),
    Operation(
        name="contracts_execution.subcontract_declare",
        target="contracts_execution:subcontract_declare",
        method="POST",
        permission="contracts.manage",
        url=lambda w: _buyer_url("subcontract_declare", w),
        data=lambda w: {
            "subcontractor_name": "Peintures de Bourgogne",
            "subcontractor_siret": SIRET,
            "object": "Peinture",
            "amount": "1000",
            "duration_months": "3",
            "direct_payment": "on",
            "price_variation": "Ferme",
        },
        snapshot=_snapshot,
    ),
    Operation(
        name="contracts_execution.subcontract_decide",
        target="contracts_execution:subcontract_decide",
        method="POST",
        permission="contracts.manage",
        url=lambda w: _buyer_url("subcontract_decide", w, _subcontract(w).pk),
        data=lambda w: {"decision": "refused", "reason": "Capacités insuffisantes"},
        snapshot=lambda w: _with(_subcontract, w),
    ),
    Operation(
        name="contracts_execution.subcontract_change",
        target="contracts_execution:subcontract_change",
        method="POST",
        permission="contracts.manage",
        url=lambda w: _buyer_url("subcontract_change", w, _subcontract(w, notified=True).pk),
        data=lambda w: {"new_amount": "25000", "new_duration_months": "8", "effective_on": _today().isoformat()},
        snapshot=lambda w: _with(lambda world: _subcontract(world, notified=True), w),
    ),
    Operation(
        name="contracts_execution.milestone_set",
        target="contracts_execution:milestone_set",
        method="POST",
        permission="contracts.manage",
        url=lambda w: _buyer_url("milestone_set", w),
        data=lambda w: {"title": "Livraison", "due_on": _today().isoformat()},
        snapshot=_snapshot,
    ),
    Operation(
        name="contracts_execution.milestone_done",
        target="contracts_execution:milestone_done",
        method="POST",
        permission="contracts.manage",
        url=lambda w: _buyer_url("milestone_done", w, _milestone(w).pk),
        data=lambda w: {"done_on": _today().isoformat()},
        snapshot=lambda w: _with(_milestone, w),
    ),
    Operation(
        name="contracts_execution.end",
        target="contracts_execution:end",
        method="POST",
        permission="contracts.manage",
        url=lambda w: _buyer_url("end", w),
        data=lambda w: {"outcome": "terminated", "reason": "Défaillance du titulaire"},
        snapshot=_snapshot,
    ),
    Operation(
        name="contracts_execution.act_sign",
        target="contracts_execution:act_sign",
        method="POST",
        permission="contracts.sign",
        url=lambda w: _buyer_url("act_sign", w, "avenant", _modification(w).pk),
        data=_actor_certificate,
        snapshot=lambda w: _with(_modification, w),
    ),
    Operation(
        name="contracts_execution.act_notify",
        target="contracts_execution:act_notify",
        method="POST",
        permission="contracts.manage",
        url=lambda w: _buyer_url("act_notify", w, "avenant", _signed_modification(w).pk),
        snapshot=lambda w: _with(_signed_modification, w),
    ),
    Operation(
        name="contracts_holder_execution.overview",
        target="contracts_holder_execution:overview",
        method="GET",
        permission="contracts.holder",
        organisation=lambda w: w.company,
        url=lambda w: _holder_url("overview", w),
        snapshot=_snapshot,
        changes=False,
    ),
    Operation(
        name="contracts_holder_execution.act",
        target="contracts_holder_execution:act",
        method="GET",
        permission="contracts.holder",
        organisation=lambda w: w.company,
        url=lambda w: _holder_url("act", w, "avenant", _modification(w).pk),
        snapshot=lambda w: _with(_modification, w),
        changes=False,
    ),
    Operation(
        name="contracts_holder_execution.document",
        target="contracts_holder_execution:document",
        method="GET",
        permission="contracts.holder",
        organisation=lambda w: w.company,
        url=lambda w: _holder_url("document", w, _modification(w).document_id),
        snapshot=lambda w: _with(_modification, w),
        changes=False,
    ),
    Operation(
        name="contracts_holder_execution.subcontract_declare",
        target="contracts_holder_execution:subcontract_declare",
        method="POST",
        permission="contracts.holder",
        organisation=lambda w: w.company,
        url=lambda w: _holder_url("subcontract_declare", w),
        data=lambda w: {
            "subcontractor_name": "Plâtres de l'Auxois",
            "subcontractor_siret": SIRET,
            "object": "Plâtrerie",
            "amount": "5000",
            "duration_months": "2",
            "price_variation": "Révisable",
        },
        snapshot=_snapshot,
    ),
    Operation(
        name="contracts_holder_execution.act_sign",
        target="contracts_holder_execution:act_sign",
        method="POST",
        permission="contracts.holder_sign",
        organisation=lambda w: w.company,
        url=lambda w: _holder_url("act_sign", w, "avenant", _modification(w).pk),
        data=_actor_certificate,
        snapshot=lambda w: _with(_modification, w),
    ),
]
