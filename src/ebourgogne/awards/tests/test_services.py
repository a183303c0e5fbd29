"""Evaluation and award through the services: criteria and their weights, admissions, marks, ranking and
the price formula with hand-computed values, abnormally-low offers, award decisions and the refusals
for late or unopened bids, the consultation's outcome."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django_scopes import scopes_disabled

from ebourgogne.audit.models import AuditEvent
from ebourgogne.awards import selectors, services
from ebourgogne.awards.models import Admission, Award, Criterion, Offer, Score
from ebourgogne.consultations.models import State
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.organisations.services import InvalidData
from ebourgogne.testing.awards import criteria, opened_consultation

pytestmark = pytest.mark.django_db


def _evaluation(opened):
    services.evaluations_ensure(consultation=opened.consultation)
    return selectors.evaluations_of(opened.consultation)[0]


def _admit_all(opened, user):
    for bid in opened.bids:
        services.admission_decide(acting_user=user, consultation=opened.consultation, bid=bid, decision="admitted")


def _quality_leaves(evaluation):
    return [leaf for leaf in selectors.leaves_of(selectors.criteria_tree(evaluation)) if leaf.kind == "quality"]


def _score_everything(evaluation, user, prices, marks):
    """prices: per offer in deposit order; marks: per offer, a list per quality leaf."""
    view = selectors.evaluation_view(evaluation)
    offers = sorted((row.offer for row in view.rows), key=lambda offer: offer.bid.number)
    leaves = _quality_leaves(evaluation)
    for offer, price, offer_marks in zip(offers, prices, marks, strict=True):
        services.offer_set_price(acting_user=user, evaluation=evaluation, offer=offer, price=price)
        services.scores_set(
            acting_user=user,
            evaluation=evaluation,
            offer=offer,
            marks={leaf.pk: value for leaf, value in zip(leaves, offer_marks, strict=True)},
        )
    return offers


# --- Criteria ---------------------------------------------------------------------------------------


def test_criteria_with_sub_criteria_are_stored(opened, buyer_agent):
    evaluation = _evaluation(opened)
    services.criteria_set(acting_user=buyer_agent, evaluation=evaluation, **criteria())
    tree = selectors.criteria_tree(evaluation)
    assert [(parent.name, parent.weight, [(c.name, c.weight) for c in children]) for parent, children in tree] == [
        ("Prix", D(40), []),
        ("Valeur technique", D(60), [("Méthodologie", D(35)), ("Moyens", D(25))]),
    ]
    assert AuditEvent.objects.filter(action="awards.criteria_set").count() == 1


@pytest.mark.parametrize(
    ("arguments", "field", "fragment"),
    [
        ({"price_weight": 30, "quality": [{"name": "Technique", "weight": 60}]}, "quality", "90"),
        (
            {
                "price_weight": 40,
                "quality": [
                    {
                        "name": "Technique",
                        "weight": 60,
                        "children": [{"name": "A", "weight": 20}, {"name": "B", "weight": 30}],
                    }
                ],
            },
            "quality",
            "50",
        ),
        ({"price_weight": "abc", "quality": [{"name": "Technique", "weight": 60}]}, "price_weight", "nombre"),
        ({"price_weight": 40, "quality": [{"name": "", "weight": 60}]}, "quality", "intitulé"),
        ({"price_weight": 40, "quality": [{"name": "Technique", "weight": -60}]}, "quality", "positive"),
        ({"scale_max": 0, "price_weight": 100, "quality": []}, "scale_max", "1 à 100"),
        ({"price_weight": 100, "quality": [], "low_ratio": "3"}, "low_ratio", "0,80"),
    ],
)
def test_bad_weights_are_refused_with_a_clear_message(opened, buyer_agent, arguments, field, fragment):
    evaluation = _evaluation(opened)
    with pytest.raises(InvalidData) as refused:
        services.criteria_set(acting_user=buyer_agent, evaluation=evaluation, **{"scale_max": 20, **arguments})
    assert fragment in " ".join(refused.value.errors[field])
    with scopes_disabled():
        assert not Criterion.objects.filter(evaluation=evaluation).exists()


def test_criteria_are_locked_once_marks_are_recorded(opened, buyer_agent):
    evaluation = _evaluation(opened)
    _admit_all(opened, buyer_agent)
    services.criteria_set(acting_user=buyer_agent, evaluation=evaluation, **criteria())
    _score_everything(evaluation, buyer_agent, ["1", "2", "3"], [[10, 10]] * 3)
    with pytest.raises(DomainError, match="notes sont déjà saisies"):
        services.criteria_set(acting_user=buyer_agent, evaluation=evaluation, **criteria(price=50))


def test_commission_members_may_not_set_criteria_and_strangers_are_not_told(opened, commission_member, outsider):
    evaluation = _evaluation(opened)
    with pytest.raises(PermissionRefused):
        services.criteria_set(acting_user=commission_member, evaluation=evaluation, **criteria())
    with pytest.raises(NotFound):
        services.criteria_set(acting_user=outsider, evaluation=evaluation, **criteria())


# --- Admissions -------------------------------------------------------------------------------------


def test_admission_and_rejection_with_reason(opened, buyer_agent):
    consultation = opened.consultation
    first, second, _third = opened.bids
    services.admission_decide(acting_user=buyer_agent, consultation=consultation, bid=first, decision="admitted")
    with pytest.raises(InvalidData) as refused:
        services.admission_decide(acting_user=buyer_agent, consultation=consultation, bid=second, decision="rejected")
    assert "motif" in refused.value.errors["reason"][0]
    services.admission_decide(
        acting_user=buyer_agent, consultation=consultation, bid=second, decision="rejected", reason="Kbis absent"
    )
    with scopes_disabled():
        assert Admission.objects.get(bid=second).reason == "Kbis absent"
        assert list(Offer.objects.values_list("bid_id", flat=True)) == [first.pk]
    # Reversing an admission removes the offer (and its marks).
    services.admission_decide(
        acting_user=buyer_agent, consultation=consultation, bid=first, decision="rejected", reason="Hors champ"
    )
    with scopes_disabled():
        assert not Offer.objects.exists()


def test_late_and_superseded_bids_can_never_be_admitted(buyer, company, rivals, latecomer, buyer_agent):
    made = opened_consultation(buyer, companies=[company, rivals[0]], late=[latecomer], superseded=[company])
    consultation = made.consultation
    with pytest.raises(DomainError, match="hors délai") as late:
        services.admission_decide(
            acting_user=buyer_agent, consultation=consultation, bid=made.late[0], decision="admitted"
        )
    assert late.value.code == "late_bid"
    from ebourgogne.tenders.models import Bid

    earlier = Bid.objects.filter(consultation=consultation, company=company).order_by("number").first()
    with pytest.raises(DomainError, match="n'a pas été ouvert") as unopened:
        services.admission_decide(acting_user=buyer_agent, consultation=consultation, bid=earlier, decision="admitted")
    assert unopened.value.code == "unopened_bid"
    with scopes_disabled():
        assert not Admission.objects.exists()


def test_nothing_before_the_opening(buyer, buyer_agent, company):
    from ebourgogne.testing.factories import ConsultationFactory

    consultation = ConsultationFactory(organisation=buyer, published=True)
    with pytest.raises(DomainError, match="après l'ouverture"):
        services.evaluations_ensure(consultation=consultation)
        evaluation = selectors.evaluations_of(consultation)[0]
        services.criteria_set(acting_user=buyer_agent, evaluation=evaluation, **criteria())


# --- Marks, ranking, abnormally low ---------------------------------------------------------------


def test_marks_out_of_the_scale_are_refused_whole(opened, buyer_agent):
    evaluation = _evaluation(opened)
    _admit_all(opened, buyer_agent)
    services.criteria_set(acting_user=buyer_agent, evaluation=evaluation, **criteria())
    method, means = _quality_leaves(evaluation)
    offer = selectors.evaluation_view(evaluation).rows[0].offer
    for bad in ("21", "-1", "douze", "12.345"):
        with pytest.raises(InvalidData) as refused:
            services.scores_set(
                acting_user=buyer_agent, evaluation=evaluation, offer=offer, marks={method.pk: "15", means.pk: bad}
            )
        assert "de 0 à 20" in refused.value.errors[f"mark_{means.pk}"][0]
    with scopes_disabled():
        assert not Score.objects.exists()
    price = next(leaf for leaf in selectors.leaves_of(selectors.criteria_tree(evaluation)) if leaf.kind == "price")
    with pytest.raises(DomainError, match="pas noté"):
        services.scores_set(acting_user=buyer_agent, evaluation=evaluation, offer=offer, marks={price.pk: "15"})


def test_ranking_with_two_evaluators_by_hand(opened, buyer_agent, second_evaluator):
    evaluation = _evaluation(opened)
    _admit_all(opened, buyer_agent)
    services.criteria_set(acting_user=buyer_agent, evaluation=evaluation, **criteria())
    a, b, c = _score_everything(evaluation, buyer_agent, ["100000", "80000", "125000"], [[16, 12], [10, 10], [20, 20]])
    method, means = _quality_leaves(evaluation)
    # The commission member marks too: consolidated = mean of the two.
    services.scores_set(
        acting_user=second_evaluator, evaluation=evaluation, offer=a, marks={method.pk: "12", means.pk: "8"}
    )
    view = selectors.evaluation_view(evaluation)
    rows = {row.offer.pk: row for row in view.rows}
    # a: method (16+12)/2 = 14 → 24.5; means (12+8)/2 = 10 → 12.5; price 80/100×20 = 16 → 32: 69
    assert rows[a.pk].marks[method.pk] == D(14)
    assert rows[a.pk].total == D(69)
    # b: 40 + 17.5 + 12.5 = 70; c: 25.6 + 35 + 25 = 85.6
    assert rows[b.pk].total == D(70)
    assert rows[c.pk].total.quantize(D("0.01")) == D("85.60")
    assert [(row.company_name, row.rank) for row in view.ranked] == [
        (c.bid.company.name, 1),
        (b.bid.company.name, 2),
        (a.bid.company.name, 3),
    ]
    assert set(rows[a.pk].by_evaluator[method.pk]) == {buyer_agent.pk, second_evaluator.pk}
    assert view.complete


def test_abnormally_low_offer_flag_and_follow_up(opened, buyer_agent):
    evaluation = _evaluation(opened)
    _admit_all(opened, buyer_agent)
    services.criteria_set(acting_user=buyer_agent, evaluation=evaluation, **criteria())
    a, b, c = _score_everything(evaluation, buyer_agent, ["100000", "110000", "60000"], [[10, 10], [10, 10], [20, 20]])
    view = selectors.evaluation_view(evaluation)
    flagged = {row.offer.pk: row.low_flag for row in view.rows if row.low_flag}
    assert flagged == {c.pk: D(105000)}
    assert view.best.offer.pk == c.pk
    with pytest.raises(DomainError, match="pas signalée"):
        services.offer_low_outcome(acting_user=buyer_agent, evaluation=evaluation, offer=a, outcome="requested")
    with pytest.raises(DomainError, match="Demandez d'abord"):
        services.offer_low_outcome(
            acting_user=buyer_agent, evaluation=evaluation, offer=c, outcome="rejected", note="x"
        )
    services.offer_low_outcome(acting_user=buyer_agent, evaluation=evaluation, offer=c, outcome="requested")
    with pytest.raises(InvalidData):
        services.offer_low_outcome(acting_user=buyer_agent, evaluation=evaluation, offer=c, outcome="rejected")
    services.offer_low_outcome(
        acting_user=buyer_agent, evaluation=evaluation, offer=c, outcome="rejected", note="Prix du bois non justifié"
    )
    view = selectors.evaluation_view(evaluation)
    excluded = [row for row in view.rows if row.excluded]
    assert [row.offer.pk for row in excluded] == [c.pk]
    # The lowest price is now a's: a gets the full price mark. a: 40 + 17.5 + 12.5 = 70;
    # b: 100/110×20 = 18.18… → 36.36 + 30 = 66.36
    rows = {row.offer.pk: row for row in view.ranked}
    assert rows[a.pk].total == D(70) and rows[a.pk].rank == 1
    assert rows[b.pk].total.quantize(D("0.01")) == D("66.36")


# --- Award decisions --------------------------------------------------------------------------------


def _ready(opened, user):
    evaluation = _evaluation(opened)
    _admit_all(opened, user)
    services.criteria_set(acting_user=user, evaluation=evaluation, **criteria())
    offers = _score_everything(evaluation, user, ["100000", "80000", "125000"], [[16, 12], [10, 10], [20, 20]])
    return evaluation, offers


def test_award_to_the_best_ranked_by_default_records_the_consultation_outcome(opened, buyer_agent):
    evaluation, (_a, _b, c) = _ready(opened, buyer_agent)
    award = services.award_decide(acting_user=buyer_agent, evaluation=evaluation, outcome="awarded")
    assert award.winner_id == c.pk and award.winner_total == D("85.60")
    opened.consultation.refresh_from_db()
    assert opened.consultation.state == State.AWARDED
    assert AuditEvent.objects.filter(action="awards.awarded").exists()
    assert AuditEvent.objects.filter(action="consultation.awarded").exists()
    with pytest.raises(DomainError):
        services.award_decide(acting_user=buyer_agent, evaluation=evaluation, outcome="abandoned", reason="x")


def test_another_winner_needs_a_reason(opened, buyer_agent):
    evaluation, (a, _b, _c) = _ready(opened, buyer_agent)
    with pytest.raises(InvalidData) as refused:
        services.award_decide(acting_user=buyer_agent, evaluation=evaluation, outcome="awarded", winner_bid=a.bid)
    assert "pas la mieux classée" in refused.value.errors["choice_reason"][0]
    award = services.award_decide(
        acting_user=buyer_agent,
        evaluation=evaluation,
        outcome="awarded",
        winner_bid=a.bid,
        choice_reason="Offre c retirée par son auteur",
    )
    assert award.winner_id == a.pk and award.choice_reason


def test_award_to_a_late_or_unopened_bid_is_refused(buyer, company, rivals, latecomer, buyer_agent):
    made = opened_consultation(buyer, companies=[company, rivals[0]], late=[latecomer], superseded=[rivals[0]])
    evaluation = _evaluation(made)
    _admit_all(made, buyer_agent)
    services.criteria_set(acting_user=buyer_agent, evaluation=evaluation, **criteria(price=100, quality=[]))
    for row, price in zip(selectors.evaluation_view(evaluation).rows, ["10", "20"], strict=True):
        services.offer_set_price(acting_user=buyer_agent, evaluation=evaluation, offer=row.offer, price=price)
    with pytest.raises(DomainError, match="hors délai") as late:
        services.award_decide(
            acting_user=buyer_agent, evaluation=evaluation, outcome="awarded", winner_bid=made.late[0]
        )
    assert late.value.code == "late_bid"
    from ebourgogne.tenders.models import Bid

    superseded = Bid.objects.filter(consultation=made.consultation, company=rivals[0]).order_by("number").first()
    with pytest.raises(DomainError, match="n'a pas été ouvert"):
        services.award_decide(
            acting_user=buyer_agent, evaluation=evaluation, outcome="awarded", winner_bid=superseded, choice_reason="x"
        )
    with scopes_disabled():
        assert not Award.objects.exists()
    made.consultation.refresh_from_db()
    assert made.consultation.state == State.OPENED


def test_award_refused_while_the_ranking_is_incomplete_or_admissions_pending(opened, buyer_agent):
    evaluation = _evaluation(opened)
    services.admission_decide(
        acting_user=buyer_agent, consultation=opened.consultation, bid=opened.bids[0], decision="admitted"
    )
    services.criteria_set(acting_user=buyer_agent, evaluation=evaluation, **criteria())
    with pytest.raises(DomainError, match="en attente"):
        services.award_decide(acting_user=buyer_agent, evaluation=evaluation, outcome="awarded")
    for bid in opened.bids[1:]:
        services.admission_decide(
            acting_user=buyer_agent,
            consultation=opened.consultation,
            bid=bid,
            decision="rejected",
            reason="Capacités insuffisantes",
        )
    with pytest.raises(DomainError, match="pas complet"):
        services.award_decide(acting_user=buyer_agent, evaluation=evaluation, outcome="awarded")


def test_unsuccessful_and_abandoned_need_a_reason(opened, buyer_agent):
    evaluation = _evaluation(opened)
    with pytest.raises(InvalidData):
        services.award_decide(acting_user=buyer_agent, evaluation=evaluation, outcome="unsuccessful")
    services.award_decide(
        acting_user=buyer_agent,
        evaluation=evaluation,
        outcome="unsuccessful",
        reason="Toutes les offres dépassent le budget",
    )
    opened.consultation.refresh_from_db()
    assert opened.consultation.state == State.UNSUCCESSFUL
    assert opened.consultation.end_reason == "Toutes les offres dépassent le budget"


def test_lots_are_decided_one_by_one(buyer, company, rivals, buyer_agent):
    made = opened_consultation(buyer, companies=[company, *rivals], lots=2, bid_lots={0: [1], 1: [2], 2: [1, 2]})
    evaluations = services.evaluations_ensure(consultation=made.consultation)
    assert [evaluation.lot.number for evaluation in evaluations] == [1, 2]
    _admit_all(made, buyer_agent)
    lot1, lot2 = evaluations
    assert {row.company_name for row in selectors.evaluation_view(lot1).rows} == {company.name, rivals[1].name}
    services.award_decide(acting_user=buyer_agent, evaluation=lot2, outcome="abandoned", reason="Besoin disparu")
    made.consultation.refresh_from_db()
    assert made.consultation.state == State.OPENED  # lot 1 still open
    services.criteria_set(acting_user=buyer_agent, evaluation=lot1, **criteria(price=100, quality=[]))
    for row, price in zip(selectors.evaluation_view(lot1).rows, ["500", "400"], strict=True):
        services.offer_set_price(acting_user=buyer_agent, evaluation=lot1, offer=row.offer, price=price)
    award = services.award_decide(acting_user=buyer_agent, evaluation=lot1, outcome="awarded")
    assert award.winner.bid.company == rivals[1]
    made.consultation.refresh_from_db()
    assert made.consultation.state == State.AWARDED
    assert "Lot 2 : Sans suite — Besoin disparu" in made.consultation.end_reason
    outcomes = selectors.public_outcomes(made.consultation)
    assert [(item.lot.number, item.outcome, item.winner) for item in outcomes] == [
        (1, "awarded", ""),
        (2, "abandoned", ""),
    ]


def test_award_linked_to_the_commission_decision_of_the_same_buyer_only(opened, buyer_agent, other_buyer):
    from ebourgogne.core import clock
    from ebourgogne.meetings.models import Decision, DecisionKind
    from ebourgogne.testing.meetings import add_item, make_meeting

    with scopes_disabled():
        from ebourgogne.commissions.models import Commission

        ours = Commission.objects.create(organisation=opened.consultation.organisation, name="CAO")
        theirs = Commission.objects.create(organisation=other_buyer, name="CAO d'Auxerre")
        item = add_item(make_meeting(ours), kind="award", consultation=opened.consultation)
        other_item = add_item(make_meeting(theirs), kind="award")
        decision = Decision.objects.create(
            agenda_item=item, kind=DecisionKind.WINNER, text="Lot unique : X", recorded_at=clock.now()
        )
        foreign = Decision.objects.create(
            agenda_item=other_item, kind=DecisionKind.WINNER, text="Y", recorded_at=clock.now()
        )
    evaluation, _offers = _ready(opened, buyer_agent)
    with pytest.raises(InvalidData):
        services.award_decide(
            acting_user=buyer_agent, evaluation=evaluation, outcome="awarded", meeting_decision=foreign.pk
        )
    award = services.award_decide(
        acting_user=buyer_agent, evaluation=evaluation, outcome="awarded", meeting_decision=decision.pk
    )
    assert award.meeting_decision_id == decision.pk
