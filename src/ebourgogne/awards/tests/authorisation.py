"""The state-changing operations of the award pages, for the authorisation matrix
(ebourgogne/core/tests/test_authorisation_matrix.py)."""

from __future__ import annotations

from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.testing.authorisation import Operation, World


def _opened(world: World):
    """An opened consultation of the world's buyer with three opened bids (made once per world)."""
    if "awards.opened" not in world.extra:
        from ebourgogne.testing.awards import opened_consultation
        from ebourgogne.testing.factories import CompanyFactory

        others = [CompanyFactory(name="Charpentes de l'Yonne"), CompanyFactory(name="Bâtiments du Morvan")]
        world.extra["awards.opened"] = opened_consultation(world.buyer, companies=[world.company, *others])
    return world.extra["awards.opened"]


def _ready(world: World):
    """Admitted bids, a price-only criterion and prices 100, 100, 10 (the last one flagged as abnormally low)."""
    if "awards.evaluation" not in world.extra:
        from ebourgogne.awards import selectors, services

        opened = _opened(world)
        services.evaluations_ensure(consultation=opened.consultation)
        evaluation = selectors.evaluations_of(opened.consultation)[0]
        for bid in opened.bids:
            services.admission_decide(
                acting_user=world.buyer_admin, consultation=opened.consultation, bid=bid, decision="admitted"
            )
        services.criteria_set(
            acting_user=world.buyer_admin, evaluation=evaluation, scale_max=20, price_weight=100, quality=[]
        )
        offers = [row.offer for row in selectors.evaluation_view(evaluation).rows]
        offers.sort(key=lambda offer: offer.bid.number)
        for offer, price in zip(offers, ["100", "100", "10"], strict=True):
            services.offer_set_price(acting_user=world.buyer_admin, evaluation=evaluation, offer=offer, price=price)
        world.extra["awards.evaluation"] = evaluation
        world.extra["awards.offers"] = offers
    return world.extra["awards.evaluation"]


def _decided(world: World):
    if "awards.award" not in world.extra:
        from ebourgogne.awards import services

        world.extra["awards.award"] = services.award_decide(
            acting_user=world.buyer_admin, evaluation=_ready(world), outcome="abandoned", reason="Besoin disparu"
        )
    return world.extra["awards.award"]


def _url(name: str, world: World, *args) -> str:
    opened = _opened(world)
    return reverse(f"awards:{name}", args=[world.buyer.slug, opened.consultation.pk, *args])


def _snapshot(world: World):
    from ebourgogne.awards.models import Admission, Award, Criterion, Letter, Offer

    with scopes_disabled():
        consultation = _opened(world).consultation
        return {
            "admissions": sorted(Admission.objects.filter(consultation=consultation).values_list("bid_id", "decision")),
            "criteria": sorted(
                Criterion.objects.filter(evaluation__consultation=consultation).values_list("name", "weight")
            ),
            "offers": sorted(
                Offer.objects.filter(evaluation__consultation=consultation).values_list(
                    "bid_id", "price", "low_outcome"
                )
            ),
            "awards": sorted(
                Award.objects.filter(evaluation__consultation=consultation).values_list("outcome", "reason")
            ),
            "letters": Letter.objects.filter(consultation=consultation).count(),
        }


OPERATIONS = [
    Operation(
        name="awards.admission",
        target="awards:admission",
        method="POST",
        permission="awards.manage",
        url=lambda w: _url("admission", w, _opened(w).bids[0].pk),
        data=lambda w: {"decision": "rejected", "reason": "Kbis absent"},
        snapshot=lambda w: (_opened(w), _snapshot(w))[1],
    ),
    Operation(
        name="awards.criteria",
        target="awards:criteria",
        method="POST",
        permission="awards.manage",
        url=lambda w: _url("criteria", w, (_opened(w), _ensure(w))[1].pk),
        data=lambda w: {
            "scale_max": "20",
            "price_weight": "40",
            "quality": "Valeur technique ; 60",
            "low_ratio": "0,8",
        },
        snapshot=lambda w: (_ensure(w), _snapshot(w))[1],
    ),
    Operation(
        name="awards.price",
        target="awards:price",
        method="POST",
        permission="awards.manage",
        url=lambda w: _url("price", w, _ready(w).pk, w.extra["awards.offers"][0].pk),
        data=lambda w: {"price": "95"},
        snapshot=lambda w: (_ready(w), _snapshot(w))[1],
    ),
    Operation(
        name="awards.low",
        target="awards:low",
        method="POST",
        permission="awards.manage",
        url=lambda w: _url("low", w, _ready(w).pk, w.extra["awards.offers"][2].pk),
        data=lambda w: {"outcome": "requested", "note": ""},
        snapshot=lambda w: (_ready(w), _snapshot(w))[1],
    ),
    Operation(
        name="awards.decide",
        target="awards:decide",
        method="POST",
        permission="awards.manage",
        url=lambda w: _url("decide", w, _ready(w).pk),
        data=lambda w: {"outcome": "unsuccessful", "reason": "Offres inacceptables"},
        snapshot=lambda w: (_ready(w), _snapshot(w))[1],
    ),
    Operation(
        name="awards.send_letters",
        target="awards:send_letters",
        method="POST",
        permission="awards.manage",
        url=lambda w: _url("send_letters", w, _decided(w).evaluation_id),
        snapshot=lambda w: (_decided(w), _snapshot(w))[1],
    ),
]


def _ensure(world: World):
    from ebourgogne.awards import selectors, services

    consultation = _opened(world).consultation
    services.evaluations_ensure(consultation=consultation)
    return selectors.evaluations_of(consultation)[0]
