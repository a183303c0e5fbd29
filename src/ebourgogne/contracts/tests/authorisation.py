"""The contract pages' guarded operations, for the authorisation matrix
(ebourgogne/core/tests/test_authorisation_matrix.py): the buyer's (prepare, terms, sign, notify, upload)
and the holder's (list, detail, download, sign, upload, and the API's held contracts)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.testing.authorisation import Operation, World

PASSPHRASE = "une phrase secrète de signature"


def _award(world: World):
    if "contracts.award" not in world.extra:
        from ebourgogne.testing.contracts import awarded
        from ebourgogne.testing.factories import CompanyFactory

        world.extra["contracts.award"] = awarded(world.buyer, world.company, rivals=[CompanyFactory()])
    return world.extra["contracts.award"]


def _contract(world: World):
    """A contract in preparation, with its acte d'engagement (made once per world)."""
    if "contracts.contract" not in world.extra:
        from ebourgogne.contracts import services

        world.extra["contracts.contract"] = services.contract_create(
            award=_award(world), acting_user=world.buyer_admin, number="2026-900"
        )
    return world.extra["contracts.contract"]


def _signed(world: World):
    """The contract signed by both parties."""
    if "contracts.signed" not in world.extra:
        from ebourgogne.contracts import services
        from ebourgogne.signatures import services as signing

        contract = _contract(world)
        for party, user in (("buyer", world.buyer_admin), ("holder", world.company_admin)):
            certificate = signing.certificate_issue(user=user, passphrase=PASSPHRASE)
            contract = services.contract_sign(
                contract=contract, party=party, acting_user=user, certificate=certificate, secret=PASSPHRASE
            )
        world.extra["contracts.signed"] = contract
    return world.extra["contracts.signed"]


def _document(world: World):
    from ebourgogne.contracts import selectors

    return selectors.contract_document(_contract(world))


def _sign_data(world: World) -> dict:
    """A certificate of the caller (the last person made: the matrix signs its actor in just before)."""
    from django.contrib.auth import get_user_model

    from ebourgogne.signatures import services as signing

    user = get_user_model().objects.order_by("-pk").first()
    certificate = signing.certificate_issue(user=user, passphrase=PASSPHRASE)
    return {"certificate": str(certificate.pk), "secret": PASSPHRASE}


def _pdf() -> SimpleUploadedFile:
    from ebourgogne.core.pdf import Document

    doc = Document(title="Pièce")
    doc.paragraph("Pièce signée ailleurs")
    return SimpleUploadedFile("piece.pdf", doc.output(), content_type="application/pdf")


def _snapshot(world: World):
    from ebourgogne.contracts.models import Contract, ContractDocument

    with scopes_disabled():
        return {
            "contracts": sorted(
                Contract.objects.filter(organisation=world.buyer).values_list(
                    "number", "state", "price_form", "ccag", "duration_months", "notified_at"
                )
            ),
            "documents": sorted(
                ContractDocument.objects.filter(contract__organisation=world.buyer).values_list(
                    "pk", "sha256", "buyer_signed_at", "holder_signed_at", "notified_at"
                )
            ),
        }


def _unpublished(world: World):
    """A contract notified 75 days ago whose essential data were never published (made once per world)."""
    if "contracts.unpublished" not in world.extra:
        from ebourgogne.testing.contracts import contract

        world.extra["contracts.unpublished"] = contract(
            world.buyer, world.company, number="2026-902", notified_days_ago=75
        )
    return world.extra["contracts.unpublished"]


def _decp_snapshot(world: World):
    from ebourgogne.contracts.models import DecpRecord

    with scopes_disabled():
        return sorted(DecpRecord.objects.filter(contract__organisation=world.buyer).values_list("contract_id", "kind"))


def _buyer_url(name: str, world: World, *args) -> str:
    return reverse(f"contracts:{name}", args=[world.buyer.slug, *args])


def _holder_url(name: str, world: World, *args) -> str:
    return reverse(f"contracts_holder:{name}", args=[world.company.slug, *args])


TERMS = {
    "price_form": "Unitaire",
    "price_types": ["Définitif ferme"],
    "ccag": "Travaux",
    "grouping": "Pas de groupement",
    "duration_months": "18",
}


OPERATIONS = [
    Operation(
        name="contracts.prepare",
        target="contracts:prepare",
        method="POST",
        permission="contracts.manage",
        url=lambda w: _buyer_url("prepare", w, _award(w).pk),
        data=lambda w: {"number": "2026-901"},
        snapshot=lambda w: (_award(w), _snapshot(w))[1],
    ),
    Operation(
        name="contracts.terms",
        target="contracts:terms",
        method="POST",
        permission="contracts.manage",
        url=lambda w: _buyer_url("terms", w, _contract(w).pk),
        data=lambda w: dict(TERMS),
        snapshot=lambda w: (_contract(w), _snapshot(w))[1],
    ),
    Operation(
        name="contracts.sign",
        target="contracts:sign",
        method="POST",
        permission="contracts.sign",
        url=lambda w: _buyer_url("sign", w, _contract(w).pk),
        data=_sign_data,
        snapshot=lambda w: (_contract(w), _snapshot(w))[1],
    ),
    Operation(
        name="contracts.notify",
        target="contracts:notify",
        method="POST",
        permission="contracts.manage",
        url=lambda w: _buyer_url("notify", w, _signed(w).pk),
        snapshot=lambda w: (_signed(w), _snapshot(w))[1],
    ),
    Operation(
        name="contracts.decp_publish",
        target="contracts:decp_publish",
        method="POST",
        permission="contracts.manage",
        url=lambda w: _buyer_url("decp_publish", w, _unpublished(w).pk),
        snapshot=lambda w: (_unpublished(w), _decp_snapshot(w))[1],
    ),
    Operation(
        name="contracts.upload",
        target="contracts:upload",
        method="POST",
        permission="contracts.manage",
        url=lambda w: _buyer_url("upload", w, _contract(w).pk),
        data=lambda w: {"title": "Mémoire technique", "kind": "other", "file": _pdf()},
        snapshot=lambda w: (_contract(w), _snapshot(w))[1],
    ),
    Operation(
        name="contracts_holder.list",
        target="contracts_holder:list",
        method="GET",
        permission="contracts.holder",
        organisation=lambda w: w.company,
        url=lambda w: _holder_url("list", w),
        snapshot=lambda w: (_contract(w), _snapshot(w))[1],
        changes=False,
    ),
    Operation(
        name="contracts_holder.detail",
        target="contracts_holder:detail",
        method="GET",
        permission="contracts.holder",
        organisation=lambda w: w.company,
        url=lambda w: _holder_url("detail", w, _contract(w).pk),
        snapshot=lambda w: (_contract(w), _snapshot(w))[1],
        changes=False,
    ),
    Operation(
        name="contracts_holder.download",
        target="contracts_holder:download",
        method="GET",
        permission="contracts.holder",
        organisation=lambda w: w.company,
        url=lambda w: _holder_url("download", w, _contract(w).pk, _document(w).pk),
        snapshot=lambda w: (_contract(w), _snapshot(w))[1],
        changes=False,
    ),
    Operation(
        name="contracts_holder.sign",
        target="contracts_holder:sign",
        method="POST",
        permission="contracts.holder_sign",
        organisation=lambda w: w.company,
        url=lambda w: _holder_url("sign", w, _contract(w).pk),
        data=_sign_data,
        snapshot=lambda w: (_contract(w), _snapshot(w))[1],
    ),
    Operation(
        name="contracts_holder.upload",
        target="contracts_holder:upload",
        method="POST",
        permission="contracts.holder",
        organisation=lambda w: w.company,
        url=lambda w: _holder_url("upload", w, _contract(w).pk),
        data=lambda w: {"title": "Acte spécial DC4", "kind": "subcontract", "file": _pdf()},
        snapshot=lambda w: (_contract(w), _snapshot(w))[1],
    ),
    Operation(
        name="contracts.api_held",
        target="api GET /api/v1/contracts/{org_slug}/held",
        method="GET",
        permission="contracts.holder",
        organisation=lambda w: w.company,
        url=lambda w: f"/api/v1/contracts/{w.company.slug}/held",
        snapshot=lambda w: (_contract(w), _snapshot(w))[1],
        api=True,
        changes=False,
    ),
]
