"""A small hand-made data set for the indicators tests, whose figures are computed by hand below.

Clock: 2026-06-15 10:00 UTC. Three buyers (A and B in Côte-d'Or 21, C in Yonne 89), three companies
(S1 and S2 SMEs, N1 not). Expected figures (period 2026-01 .. 2026-06):

Buyer A: A1 (March, open, 45, deadline +30 d, passed): S1 twice (first superseded), N1, S2 late -> 2 bids, 1 SME,
         2 downloads; A2 (published 2026-03-31 22:30 UTC = 1 April 00:30 in Paris -> April, MAPA, 72, +30 d,
         passed, no bid); A3 (May, MAPA, 45, +60 d, still open; S1's bid not counted); A6 (April, open, 45,
         +30 d, cancelled: published but not closed); a practice consultation and a draft, both with bids,
         never counted.
  -> published 4 (March 1, April 2, May 1), closed 2, bids 2 (SME 1), distribution 0:1 2:1,
     downloads 2, answer days (30+30+60+30)/4 = 37.5, procedures open 2 / MAPA 2, CPV 45: 3, 72: 1.
Buyer B: B1 (April, open, 45, +20 d, awarded): S1, S2, N1 -> 3 bids, 2 SME; 1 download; awarded to S2 (SME)
         10 days after the deadline, award letter sent 2 days later, contract (100 000 € HT) notified
         12 days after the award; modifications notified +7 500.00 and -2 500.00, a third (+40 000) still a
         draft (not counted) -> amendments 5 000 / 100 000 = 5.0 %.
Buyer C: C1 (March, MAPA, 72, +30 d, closed): N1 -> 1 bid, 0 SME; awarded to N1 20 days after the deadline,
         letter not sent yet, contract (250 000.50 € HT) notified 30 days after the award; one modification
         notified +20 000.25 -> 20 000.25 / 250 000.50 = 8.0 %.
Department 21 = A + B: published 5, closed 3, bids 5, SME 3 (60 %), mean 5/3, answer (150+20)/5 = 34 days.
           Winners 1, SME winners 100 %, deadline -> award 10 days, award -> notification 12 days;
           1 contract, 100 000 €, 2 modifications, 5 000 €, 5.0 %.
Region = A + B + C: published 6, closed 4, bids 6, SME 3 (50 %), answer 200/6 days, distribution 0,1,2,3: 1 each;
         winners 2, SME winners 50 %, deadline -> award (10+20)/2 = 15 days, award -> notification
         (12+30)/2 = 21 days; 2 contracts, 350 000.50 €, 3 modifications, 25 000.25 €,
         25 000.25 / 350 000.50 = 7.1428... %.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django_scopes import scopes_disabled

from ebourgogne.testing.factories import BuyerFactory, CompanyFactory, ConsultationFactory

NOW = dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.UTC)


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@dataclass
class World:
    a: object
    b: object
    c: object
    s1: object
    s2: object
    n1: object
    consultations: dict


def _consultation(buyer, reference, published_at, days, procedure, cpv, state="closed", **extra):
    return ConsultationFactory(
        organisation=buyer,
        reference=reference,
        published_at=published_at,
        questions_deadline=published_at + dt.timedelta(days=days - 5),
        bids_deadline=published_at + dt.timedelta(days=days),
        procedure=procedure,
        main_cpv_id=cpv,
        state=state,
        **extra,
    )


def _bid(consultation, company, number, *, kind="bid", is_late=False, superseded_by=None):
    from ebourgogne.tenders.models import Bid

    return Bid.objects.create(
        consultation=consultation,
        company=company,
        kind=kind,
        state="deposited",
        number=number,
        deposited_at=consultation.bids_deadline - dt.timedelta(hours=1 if not is_late else -1),
        is_late=is_late,
        superseded_by=superseded_by,
    )


def _downloads(consultation, count):
    from ebourgogne.dce.models import DceVersion, Download

    version = DceVersion.objects.create(consultation=consultation, number=1, published_at=consultation.published_at)
    for index in range(count):
        Download.objects.create(
            consultation=consultation,
            version=version,
            downloaded_at=consultation.published_at + dt.timedelta(days=index + 1),
        )


def _award(consultation, bid, *, decided_days, notified_days):
    """An award decision won by `bid`, `decided_days` after the deadline; the award letter sent
    `notified_days` after the decision (None: not sent). Returns the award."""
    from ebourgogne.awards.models import Award, Evaluation, Letter, Offer

    evaluation = Evaluation.objects.create(consultation=consultation)
    offer = Offer.objects.create(evaluation=evaluation, bid=bid, price=100000)
    decided = consultation.bids_deadline + dt.timedelta(days=decided_days)
    award = Award.objects.create(evaluation=evaluation, outcome="awarded", winner=offer, decided_at=decided)
    Letter.objects.create(
        award=award,
        consultation=consultation,
        company=bid.company,
        bid=bid,
        kind="award",
        subject="Attribution",
        storage_name="letters/x.pdf",
        sha256="0" * 64,
        size=1,
        created_at=decided,
        sent_at=None if notified_days is None else decided + dt.timedelta(days=notified_days),
    )
    return award


def _contract(award, number, amount, *, notified_days, changes=()):
    """The contract of `award` (`amount` € HT), notified `notified_days` after the decision (None: signed,
    not notified); `changes`: (amount change, notified?) of its modifications."""
    from decimal import Decimal

    from ebourgogne.contracts.models import Contract, Modification

    consultation, bid = award.evaluation.consultation, award.winner.bid
    notified = None if notified_days is None else award.decided_at + dt.timedelta(days=notified_days)
    contract = Contract.objects.create(
        organisation=consultation.organisation,
        consultation=consultation,
        award=award,
        holder=bid.company,
        bid=bid,
        number=number,
        title=consultation.title,
        object=consultation.title,
        contract_type="works",
        procedure=consultation.procedure,
        cpv_code=consultation.main_cpv_id,
        amount=Decimal(amount),
        duration_months=12,
        state="notified" if notified else "signed",
        created_at=award.decided_at,
        signed_at=award.decided_at + dt.timedelta(days=1),
        notified_at=notified,
    )
    for index, (change, is_notified) in enumerate(changes, start=1):
        Modification.objects.create(
            contract=contract,
            number=index,
            legal_ground="R2194-7",
            object=f"Modification {index}",
            amount_change=Decimal(change),
            effective_on=dt.date(2026, 6, 1),
            state="notified" if is_notified else "draft",
            created_at=NOW - dt.timedelta(days=5),
            notified_at=NOW - dt.timedelta(days=4) if is_notified else None,
        )
    return contract


def build() -> World:
    with scopes_disabled():
        a = BuyerFactory(name="Commune de Beaune", slug="commune-de-beaune", department="21")
        b = BuyerFactory(name="Commune de Dijon", slug="commune-de-dijon", department="21")
        c = BuyerFactory(name="Commune d'Auxerre", slug="commune-d-auxerre", department="89")
        s1 = CompanyFactory(name="Menuiserie PME Un", is_sme=True)
        s2 = CompanyFactory(name="Charpente PME Deux", is_sme=True)
        n1 = CompanyFactory(name="Grand Groupe BTP", is_sme=False)
        a1 = _consultation(a, "A1", utc(2026, 3, 10, 9), 30, "open", "45000000")
        a2 = _consultation(a, "A2", utc(2026, 3, 31, 22, 30), 30, "mapa", "72000000")
        a3 = _consultation(a, "A3", utc(2026, 5, 5, 9), 60, "mapa", "45000000", state="published")
        a6 = _consultation(a, "A6", utc(2026, 4, 1, 9), 30, "open", "45000000", state="cancelled")
        practice = _consultation(a, "A4", utc(2026, 3, 1, 9), 20, "open", "45000000", is_practice=True)
        draft = ConsultationFactory(organisation=a, reference="A5", state="draft")
        b1 = _consultation(b, "B1", utc(2026, 4, 15, 9), 20, "open", "45000000", state="awarded")
        c1 = _consultation(c, "C1", utc(2026, 3, 15, 9), 30, "mapa", "72000000")
        later = _bid(a1, s1, 2)
        _bid(a1, s1, 1, superseded_by=later)
        _bid(a1, n1, 3)
        _bid(a1, s2, 4, is_late=True)
        _bid(a1, s1, 5, kind="backup")
        _bid(a3, s1, 1)
        _bid(practice, s1, 1)
        _bid(practice, n1, 2)
        _bid(b1, s1, 1)
        b1_s2 = _bid(b1, s2, 2)
        _bid(b1, n1, 3)
        c1_n1 = _bid(c1, n1, 1)
        b1_award = _award(b1, b1_s2, decided_days=10, notified_days=2)
        c1_award = _award(c1, c1_n1, decided_days=20, notified_days=None)
        _contract(
            b1_award,
            "B1-2026",
            "100000.00",
            notified_days=12,
            changes=[("7500", True), ("-2500", True), ("40000", False)],
        )
        _contract(c1_award, "C1-2026", "250000.50", notified_days=30, changes=[("20000.25", True)])
        _downloads(a1, 2)
        _downloads(b1, 1)
        _downloads(practice, 5)
        _ = draft
    return World(a, b, c, s1, s2, n1, {"A1": a1, "A2": a2, "A3": a3, "A6": a6, "B1": b1, "C1": c1})
