"""Demo contracts: for the demo data's first awarded consultation, a contract prepared, signed by both
parties with platform-issued certificates, and notified (core.demo calls `create_demo_contracts`).

The demo's awarded consultations record their outcome without an evaluation (no bids were opened in the
demo): the evaluation, the winning bid's offer and the award decision are written here, as the analysis
would have left them, then everything else goes through the real services (preparation, PAdES
signatures, notification letter with its proof of sending, essential data).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django_scopes import scopes_disabled

from ebourgogne.core import clock

# The signing passphrase of the demo certificates (written in the README's demo section).
DEMO_PASSPHRASE = "démonstration e-bourgogne"  # noqa: S105 - public demo data, documented


def _admin(organisation: Any, role: str) -> Any:
    from ebourgogne.organisations.models import Membership

    membership = (
        Membership.objects.filter(organisation=organisation, role=role).select_related("user").order_by("id").first()
    )
    return membership.user if membership else None


def _award_for(consultation: Any, company: Any, depositor: Any) -> Any:
    """The award decision of `consultation`, won by `company`: an existing one, or one written as the
    analysis would have left it (one opened bid, its offer at 90 % of the estimate)."""
    from ebourgogne.awards.models import Award, Evaluation, Offer, Outcome
    from ebourgogne.tenders.models import Bid, BidState

    existing = (
        Award.objects.filter(evaluation__consultation=consultation, outcome=Outcome.AWARDED, contract__isnull=True)
        .select_related("winner__bid__company")
        .first()
    )
    if existing is not None:
        return existing
    if Award.objects.filter(evaluation__consultation=consultation).exists():
        return None
    deadline = consultation.bids_deadline or clock.now() - dt.timedelta(days=30)
    decided = (consultation.ended_at or clock.now()) - dt.timedelta(days=1)
    bid = Bid.objects.create(
        consultation=consultation,
        company=company,
        state=BidState.DEPOSITED,
        upload_started_at=deadline - dt.timedelta(days=2, minutes=5),
        deposited_at=deadline - dt.timedelta(days=2),
        deposited_by=depositor,
        number=(Bid.objects.filter(consultation=consultation).count() + 1),
        opened_at=deadline + dt.timedelta(days=1),
    )
    lot = consultation.lots.order_by("number").first()
    evaluation, _created = Evaluation.objects.get_or_create(
        consultation=consultation, lot=lot, defaults={"criteria_set_at": decided}
    )
    estimate = consultation.estimated_value or Decimal("100000")
    offer = Offer.objects.create(
        evaluation=evaluation, bid=bid, price=(estimate * Decimal("0.9")).quantize(Decimal("1"))
    )
    return Award.objects.create(
        evaluation=evaluation,
        outcome=Outcome.AWARDED,
        winner=offer,
        winner_total=Decimal("100"),
        reason=consultation.end_reason or "Offre économiquement la plus avantageuse.",
        decided_at=decided,
        letters_sent_at=decided,
        standstill_ends_at=decided + dt.timedelta(days=11),
    )


def create_demo_contracts(organisations: dict[str, Any], *, holder_key: str = "tp-auxois") -> list[Any]:
    """One notified contract with its signed acte d'engagement, for the first awarded consultation of the
    demo buyers in `organisations` (key → Organisation); the holder is `organisations[holder_key]` (or
    the first company). Returns the contracts made (none when there is no awarded consultation)."""
    from ebourgogne.consultations.models import Consultation, State
    from ebourgogne.contracts import services
    from ebourgogne.organisations.roles import Role
    from ebourgogne.signatures import services as signing

    buyers = [organisation for organisation in organisations.values() if organisation.is_buyer]
    companies = [organisation for organisation in organisations.values() if not organisation.is_buyer]
    holder = organisations.get(holder_key) or (companies[0] if companies else None)
    if holder is None or not buyers:
        return []
    made = []
    with scopes_disabled():
        consultation = (
            Consultation.objects.filter(organisation__in=buyers, state=State.AWARDED, is_practice=False)
            .order_by("id")
            .first()
        )
        if consultation is None:
            return []
        buyer_admin = _admin(consultation.organisation, Role.BUYER_ADMIN)
        holder_admin = _admin(holder, Role.COMPANY_ADMIN)
        if buyer_admin is None or holder_admin is None:
            return []
        award = _award_for(consultation, holder, holder_admin)
        if award is None:
            return []
        holder = award.winner.bid.company
        holder_admin = _admin(holder, Role.COMPANY_ADMIN) or holder_admin
        contract = services.contract_create(
            award=award, acting_user=buyer_admin, number=consultation.reference[:16] or "DEMO-001"
        )
        services.contract_update_terms(
            contract=contract,
            acting_user=buyer_admin,
            price_form="Forfaitaire",
            price_types=["Définitif révisable"],
            ccag="Fournitures courantes et services" if contract.contract_type != "works" else "Travaux",
        )
        for party, user in (("buyer", buyer_admin), ("holder", holder_admin)):
            certificate = signing.certificate_issue(
                user=user, passphrase=DEMO_PASSPHRASE, label="Certificat de démonstration"
            )
            contract = services.contract_sign(
                contract=contract, party=party, acting_user=user, certificate=certificate, secret=DEMO_PASSPHRASE
            )
        made.append(services.contract_notify(contract=contract, acting_user=buyer_admin))
    return made
