"""Every change of the evaluation and award: criteria, admissions, prices, abnormally-low follow-up, marks,
award decisions, supporting-document requests, letters and their readings.

Each function is one atomic step: it checks the caller's right in the consultation's organisation
(`awards.manage`; marks need `awards.view`, held by commission members too; a letter's reading needs
`letters.view` in the recipient company), checks the rules, writes, and records an audit event. A
refusal raises `DomainError` (`InvalidData` with field errors) with a translated message; nothing is
stored. The formulas are in `awards.rules`, the ranking in `awards.selectors.evaluation_view`.

The order of work: after the opening (consultation "opened"), criteria per evaluation (one per lot, or one
for the consultation), admission of each opened bid, prices and marks, ranking, award decision per
evaluation (the consultation's outcome is recorded through `consultations.services.consultation_set_outcome`
once every evaluation is decided), then the letters (`letters_send`), read by the companies on the
platform (`letter_read`). Late or unopened bids can never be admitted nor awarded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.audit.services import log_event
from ebourgogne.awards import evidence, letters, rules, selectors
from ebourgogne.awards.models import (
    Admission,
    AdmissionDecision,
    Award,
    Criterion,
    CriterionKind,
    DocumentRequest,
    Evaluation,
    Letter,
    LetterEventKind,
    LowOutcome,
    Offer,
    Outcome,
    Score,
)
from ebourgogne.consultations import services as consultation_services
from ebourgogne.consultations.models import Consultation, State
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.notifications.services import send_templated_mail
from ebourgogne.organisations.roles import roles_grant
from ebourgogne.organisations.selectors import roles_of
from ebourgogne.organisations.services import InvalidData
from ebourgogne.tenders.models import Bid
from ebourgogne.tenders.receipts import mail_recipients

MANAGE = "awards.manage"
VIEW = "awards.view"
LETTERS_VIEW = "letters.view"
REASON_MAX = 5000
MAX_SCALE = 100


# --- Access and small helpers ---------------------------------------------------------------------


def _require(acting_user: Any, organisation: Any, permission: str = MANAGE) -> None:
    if acting_user is None or not getattr(acting_user, "is_authenticated", False):
        raise PermissionRefused(_("Connectez-vous pour effectuer cette action."))
    roles = roles_of(user=acting_user, organisation=organisation) if organisation.is_active else set()
    if not roles:
        raise NotFound(_("Organisation introuvable."))
    if not roles_grant(roles, permission):
        raise PermissionRefused(
            _("Votre rôle dans cette organisation ne permet pas de conduire l'analyse des offres et l'attribution.")
        )


def _lock_consultation(consultation: Consultation) -> Consultation:
    with scopes_disabled():
        found = (
            Consultation.objects.select_for_update(of=("self",))
            .select_related("organisation")
            .filter(pk=consultation.pk)
            .first()
        )
    if found is None:
        raise NotFound(_("Consultation introuvable."))
    return found


def _require_opened(consultation: Consultation) -> None:
    if consultation.state != State.OPENED:
        if consultation.state in (State.AWARDED, State.UNSUCCESSFUL, State.ABANDONED):
            raise DomainError(
                _("L'issue de cette consultation est déjà prononcée : l'analyse ne peut plus être modifiée."),
                code="decided",
            )
        raise DomainError(
            _("L'analyse des offres commence après l'ouverture des plis."),
            code="not_opened",
        )


def _require_undecided(evaluation: Evaluation) -> None:
    with scopes_disabled():
        if Award.objects.filter(evaluation=evaluation).exists():
            raise DomainError(
                _("La décision est déjà prise pour %(what)s : l'analyse ne peut plus être modifiée.")
                % {"what": evaluation_label(evaluation)},
                code="decided",
            )


def evaluation_label(evaluation: Evaluation) -> str:
    if evaluation.lot_id:
        return _("le lot %(number)s « %(title)s »") % {"number": evaluation.lot.number, "title": evaluation.lot.title}
    return _("la consultation")


def _audit(action: str, *, actor: Any, consultation: Consultation, data: dict[str, Any], request: Any) -> None:
    log_event(
        action=action,
        actor=actor,
        organisation=consultation.organisation,
        obj=consultation,
        data={"reference": consultation.reference, **data},
        request=request,
    )


def _decimal(value: Any, field: str, message: str) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", ".").replace("\u202f", "").replace(" ", ""))
    except (InvalidOperation, ValueError):
        raise InvalidData({field: [message]}) from None
    if not number.is_finite():
        raise InvalidData({field: [message]})
    return number


def _reason(value: Any, field: str, required: str | None) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise InvalidData({field: [required]})
    if len(text) > REASON_MAX:
        raise InvalidData({field: [_("Le texte ne peut pas dépasser 5 000 caractères.")]})
    return text


# --- Evaluations ----------------------------------------------------------------------------------


@transaction.atomic
def evaluations_ensure(*, consultation: Consultation) -> list[Evaluation]:
    """One evaluation per lot (or one for the consultation without lots). Idempotent; no audit (it only
    prepares empty rows, every decision on them is audited)."""
    with scopes_disabled():
        lots = list(consultation.lots.all())
        targets = lots or [None]
        for lot in targets:
            Evaluation.objects.get_or_create(consultation=consultation, lot=lot)
    return selectors.evaluations_of(consultation)


@transaction.atomic
def criteria_set(
    *,
    acting_user: Any,
    evaluation: Evaluation,
    scale_max: Any,
    price_weight: Any,
    quality: list[dict[str, Any]],
    low_ratio: Any = "0.80",
    standstill_days: Any = None,
    price_name: str = "",
    request: Any = None,
) -> Evaluation:
    """Replace the criteria of an evaluation. `quality`: [{"name", "weight", "children": [{"name",
    "weight"}]}]. Top-level weights (price included) sum to 100; sub-criteria sum to their parent's.
    Refused once marks are recorded or the decision is taken."""
    consultation = _lock_consultation(evaluation.consultation)
    _require(acting_user, consultation.organisation)
    _require_opened(consultation)
    _require_undecided(evaluation)
    errors: dict[str, list[str]] = {}
    try:
        scale = int(str(scale_max).strip())
    except ValueError:
        scale = 0
    if not 1 <= scale <= MAX_SCALE:
        errors.setdefault("scale_max", []).append(_("La note maximale doit être un nombre entier de 1 à 100."))
    ratio_message = _("Le seuil d'offre anormalement basse est un nombre entre 0,10 et 1,00 (par exemple 0,80).")
    try:
        ratio = _decimal(low_ratio or "0.80", "low_ratio", ratio_message)
        if not Decimal("0.10") <= ratio <= Decimal(1):
            raise InvalidData({"low_ratio": [ratio_message]})
    except InvalidData as error:
        errors.update(error.errors)
        ratio = Decimal("0.80")
    days: int | None = None
    if standstill_days not in (None, ""):
        try:
            days = int(str(standstill_days).strip())
        except ValueError:
            days = -1
        if not 0 <= days <= 60:
            errors.setdefault("standstill_days", []).append(
                _(
                    "Le délai de suspension est un nombre de jours de 0 à 60 (laissez vide pour la règle de la procédure)."
                )
            )
    weight_message = _("Chaque pondération est un nombre positif (points sur 100).")
    price = Decimal(0)
    if str(price_weight or "").strip():
        try:
            price = _decimal(price_weight, "price_weight", weight_message)
            if price < 0 or price > 100:
                raise InvalidData({"price_weight": [weight_message]})
        except InvalidData as error:
            errors.update(error.errors)
    cleaned: list[tuple[str, Decimal, list[tuple[str, Decimal]]]] = []
    for index, item in enumerate(quality or [], start=1):
        name = str(item.get("name") or "").strip()[:200]
        if not name:
            errors.setdefault("quality", []).append(_("Le critère n° %(n)s n'a pas d'intitulé.") % {"n": index})
            continue
        try:
            weight = _decimal(item.get("weight"), "quality", weight_message)
        except InvalidData:
            errors.setdefault("quality", []).append(
                _("La pondération du critère « %(name)s » n'est pas un nombre.") % {"name": name}
            )
            continue
        if weight <= 0:
            errors.setdefault("quality", []).append(
                _("La pondération du critère « %(name)s » doit être positive.") % {"name": name}
            )
            continue
        children: list[tuple[str, Decimal]] = []
        for child in item.get("children") or []:
            child_name = str(child.get("name") or "").strip()[:200]
            try:
                child_weight = _decimal(child.get("weight"), "quality", weight_message)
            except InvalidData:
                child_weight = Decimal(-1)
            if not child_name or child_weight <= 0:
                errors.setdefault("quality", []).append(
                    _("Un sous-critère de « %(name)s » n'a pas d'intitulé ou de pondération positive.") % {"name": name}
                )
                continue
            children.append((child_name, child_weight))
        if children and sum(weight for _name, weight in children) != weight:
            errors.setdefault("quality", []).append(
                _(
                    "Les sous-critères de « %(name)s » totalisent %(sum)s points au lieu des %(weight)s points du critère."
                )
                % {"name": name, "sum": _fmt(sum(w for _n, w in children)), "weight": _fmt(weight)}
            )
        cleaned.append((name, weight, children))
    if not errors:
        total = price + sum(weight for _name, weight, _children in cleaned)
        if total != 100:
            errors.setdefault("quality", []).append(
                _("Les pondérations totalisent %(total)s points : elles doivent totaliser 100.")
                % {"total": _fmt(total)}
            )
    if errors:
        raise InvalidData(errors)
    with scopes_disabled():
        if Score.objects.filter(offer__evaluation=evaluation).exists():
            raise DomainError(
                _("Des notes sont déjà saisies : les critères ne peuvent plus être modifiés."), code="scored"
            )
        Criterion.objects.filter(evaluation=evaluation, parent__isnull=False).delete()
        Criterion.objects.filter(evaluation=evaluation).delete()
        position = 0
        if price > 0:
            Criterion.objects.create(
                evaluation=evaluation,
                kind=CriterionKind.PRICE,
                name=(price_name or "").strip()[:200] or _("Prix"),
                weight=price,
                position=position,
            )
        for name, weight, children in cleaned:
            position += 1
            parent = Criterion.objects.create(
                evaluation=evaluation, kind=CriterionKind.QUALITY, name=name, weight=weight, position=position
            )
            for child_position, (child_name, child_weight) in enumerate(children):
                Criterion.objects.create(
                    evaluation=evaluation,
                    parent=parent,
                    kind=CriterionKind.QUALITY,
                    name=child_name,
                    weight=child_weight,
                    position=child_position,
                )
        evaluation.scale_max = scale
        evaluation.low_ratio = ratio
        evaluation.standstill_days = days
        evaluation.criteria_set_at = clock.now()
        evaluation.save(update_fields=["scale_max", "low_ratio", "standstill_days", "criteria_set_at"])
    _audit(
        "awards.criteria_set",
        actor=acting_user,
        consultation=consultation,
        data={
            "evaluation": evaluation.pk,
            "lot": evaluation.lot_id,
            "scale_max": scale,
            "price_weight": str(price),
            "criteria": [
                {"name": name, "weight": str(weight), "children": [[n, str(w)] for n, w in children]}
                for name, weight, children in cleaned
            ],
            "low_ratio": str(ratio),
            "standstill_days": days,
        },
        request=request,
    )
    return evaluation


def _fmt(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text.replace(".", ",")


# --- Admissions -----------------------------------------------------------------------------------


def _opened_bid(consultation: Consultation, bid: Bid | int) -> Bid:
    """The bid, if it was opened in time; a clear refusal for a late, superseded or unopened one."""
    bid_id = bid if isinstance(bid, int) else bid.pk
    with scopes_disabled():
        found = Bid.objects.filter(pk=bid_id, consultation=consultation).select_related("company").first()
    if found is None:
        raise NotFound(_("Pli introuvable."))
    if found.is_late:
        raise DomainError(
            _(
                "Le pli n° %(number)s de %(company)s est arrivé hors délai : il reste fermé et ne peut être ni admis ni retenu."
            )
            % {"number": found.number, "company": found.company.name},
            code="late_bid",
        )
    if found.pk not in {opened.pk for opened in selectors.opened_bids(consultation)}:
        raise DomainError(
            _(
                "Le pli n° %(number)s de %(company)s n'a pas été ouvert (dépôt remplacé ou non ouvert) : il ne peut être ni admis ni retenu."
            )
            % {"number": found.number, "company": found.company.name},
            code="unopened_bid",
        )
    return found


@transaction.atomic
def admission_decide(
    *,
    acting_user: Any,
    consultation: Consultation,
    bid: Bid | int,
    decision: str,
    reason: str = "",
    request: Any = None,
) -> Admission:
    """Admit or reject the candidature of an opened bid (a rejection needs its reason, R2144-7). An
    admitted bid becomes an offer in each evaluation it concerns; a rejected one leaves them (marks too)."""
    consultation = _lock_consultation(consultation)
    _require(acting_user, consultation.organisation)
    _require_opened(consultation)
    if decision not in AdmissionDecision.values:
        raise InvalidData({"decision": [_("Choisissez : candidature admise ou rejetée.")]})
    text = _reason(
        reason,
        "reason",
        _("Indiquez le motif du rejet de la candidature.") if decision == AdmissionDecision.REJECTED else None,
    )
    bid = _opened_bid(consultation, bid)
    evaluations = evaluations_ensure(consultation=consultation)
    concerned = [evaluation for evaluation in evaluations if selectors.bid_in_evaluation(bid, evaluation)]
    for evaluation in concerned:
        _require_undecided(evaluation)
    with scopes_disabled():
        admission, _created = Admission.objects.update_or_create(
            bid=bid,
            defaults={
                "consultation": consultation,
                "decision": decision,
                "reason": text,
                "decided_by": acting_user,
                "decided_at": clock.now(),
            },
        )
        if decision == AdmissionDecision.ADMITTED:
            for evaluation in concerned:
                Offer.objects.get_or_create(evaluation=evaluation, bid=bid)
        else:
            Offer.objects.filter(bid=bid, evaluation__in=concerned).delete()
    _audit(
        f"awards.candidature_{decision}",
        actor=acting_user,
        consultation=consultation,
        data={"bid": bid.pk, "number": bid.number, "company": bid.company.name, "reason": text},
        request=request,
    )
    return admission


# --- Prices, abnormally low offers and marks ------------------------------------------------------


def _offer(evaluation: Evaluation, offer: Offer | int) -> Offer:
    offer_id = offer if isinstance(offer, int) else offer.pk
    with scopes_disabled():
        found = Offer.objects.filter(pk=offer_id, evaluation=evaluation).select_related("bid__company").first()
    if found is None:
        raise NotFound(_("Offre introuvable."))
    return found


@transaction.atomic
def offer_set_price(
    *, acting_user: Any, evaluation: Evaluation, offer: Offer | int, price: Any, request: Any = None
) -> Offer:
    """The offer's price (€ HT), as read in its documents; the price mark is computed from it."""
    consultation = _lock_consultation(evaluation.consultation)
    _require(acting_user, consultation.organisation)
    _require_opened(consultation)
    _require_undecided(evaluation)
    offer = _offer(evaluation, offer)
    message = _("Le prix est un montant positif en euros hors taxes (par exemple 125000,50).")
    amount = _decimal(price, "price", message)
    if amount <= 0 or amount >= Decimal("1e13"):
        raise InvalidData({"price": [message]})
    amount = amount.quantize(Decimal("0.01"))
    old = offer.price
    offer.price = amount
    with scopes_disabled():
        offer.save(update_fields=["price"])
    _audit(
        "awards.price_set",
        actor=acting_user,
        consultation=consultation,
        data={"evaluation": evaluation.pk, "bid": offer.bid_id, "price": str(amount), "old": str(old) if old else None},
        request=request,
    )
    return offer


@transaction.atomic
def offer_low_outcome(
    *, acting_user: Any, evaluation: Evaluation, offer: Offer | int, outcome: str, note: str = "", request: Any = None
) -> Offer:
    """Follow-up of an abnormally-low flag: justification requested, then accepted or rejected (with the
    reasons; R2152-3: a rejection only after the justification was asked and examined)."""
    consultation = _lock_consultation(evaluation.consultation)
    _require(acting_user, consultation.organisation)
    _require_opened(consultation)
    _require_undecided(evaluation)
    offer = _offer(evaluation, offer)
    if outcome not in (LowOutcome.REQUESTED, LowOutcome.ACCEPTED, LowOutcome.REJECTED):
        raise InvalidData({"outcome": [_("Choisissez la suite donnée : justification demandée, acceptée ou rejetée.")]})
    flagged = offer.pk in {row.offer.pk for row in selectors.evaluation_view(evaluation).rows if row.low_flag}
    if not flagged and not offer.low_outcome:
        raise DomainError(_("Cette offre n'est pas signalée comme anormalement basse."), code="not_flagged")
    if outcome != LowOutcome.REQUESTED and offer.low_outcome != LowOutcome.REQUESTED and not offer.low_outcome:
        raise DomainError(
            _("Demandez d'abord à l'entreprise de justifier son prix, puis enregistrez la suite donnée."),
            code="justification_first",
        )
    text = _reason(
        note,
        "note",
        _("Indiquez pourquoi la justification n'est pas acceptée.") if outcome == LowOutcome.REJECTED else None,
    )
    offer.low_outcome = outcome
    offer.low_note = text
    offer.low_updated_at = clock.now()
    with scopes_disabled():
        offer.save(update_fields=["low_outcome", "low_note", "low_updated_at"])
    _audit(
        "awards.low_offer",
        actor=acting_user,
        consultation=consultation,
        data={"evaluation": evaluation.pk, "bid": offer.bid_id, "outcome": outcome, "note": text},
        request=request,
    )
    return offer


@transaction.atomic
def scores_set(
    *,
    acting_user: Any,
    evaluation: Evaluation,
    offer: Offer | int,
    marks: dict[int, Any],
    comments: dict[int, str] | None = None,
    request: Any = None,
) -> list[Score]:
    """The acting evaluator's marks of one offer: {leaf quality criterion id: mark}; an empty mark removes
    theirs. Each mark within 0 … scale; refused whole when one is out of range."""
    consultation = _lock_consultation(evaluation.consultation)
    _require(acting_user, consultation.organisation, VIEW)
    _require_opened(consultation)
    _require_undecided(evaluation)
    offer = _offer(evaluation, offer)
    leaves = {
        leaf.pk: leaf
        for leaf in selectors.leaves_of(selectors.criteria_tree(evaluation))
        if leaf.kind == CriterionKind.QUALITY
    }
    if not leaves:
        raise DomainError(_("Définissez d'abord les critères de l'analyse."), code="no_criteria")
    errors: dict[str, list[str]] = {}
    values: dict[int, Decimal | None] = {}
    for key, raw in marks.items():
        criterion = leaves.get(int(key))
        if criterion is None:
            raise DomainError(_("Ce critère n'est pas noté par les évaluateurs (prix ou critère inconnu)."))
        text = str(raw if raw is not None else "").strip()
        if not text:
            values[criterion.pk] = None
            continue
        message = _("La note de « %(name)s » doit être un nombre de 0 à %(max)s.") % {
            "name": criterion.name,
            "max": evaluation.scale_max,
        }
        try:
            value = _decimal(text, f"mark_{criterion.pk}", message)
        except InvalidData:
            errors.setdefault(f"mark_{criterion.pk}", []).append(message)
            continue
        if not 0 <= value <= evaluation.scale_max or value != value.quantize(Decimal("0.01")):
            errors.setdefault(f"mark_{criterion.pk}", []).append(message)
            continue
        values[criterion.pk] = value
    if errors:
        raise InvalidData(errors)
    now = clock.now()
    saved: list[Score] = []
    with scopes_disabled():
        for criterion_id, value in values.items():
            if value is None:
                Score.objects.filter(offer=offer, criterion_id=criterion_id, evaluator=acting_user).delete()
                continue
            score, _created = Score.objects.update_or_create(
                offer=offer,
                criterion_id=criterion_id,
                evaluator=acting_user,
                defaults={
                    "value": value,
                    "comment": str((comments or {}).get(criterion_id, ""))[:REASON_MAX],
                    "updated_at": now,
                },
            )
            saved.append(score)
    _audit(
        "awards.scores_set",
        actor=acting_user,
        consultation=consultation,
        data={
            "evaluation": evaluation.pk,
            "bid": offer.bid_id,
            "marks": {str(key): (str(value) if value is not None else None) for key, value in values.items()},
        },
        request=request,
    )
    return saved


# --- Award decision -------------------------------------------------------------------------------


def _meeting_decision(consultation: Consultation, decision: Any) -> Any:
    if decision in (None, ""):
        return None
    from ebourgogne.meetings.models import Decision

    decision_id = decision if isinstance(decision, int) else getattr(decision, "pk", None)
    if decision_id is None:
        try:
            decision_id = int(str(decision))
        except ValueError:
            decision_id = 0
    with scopes_disabled():
        found = (
            Decision.objects.filter(pk=decision_id, agenda_item__meeting__organisation=consultation.organisation)
            .select_related("agenda_item")
            .first()
        )
    if found is None or (found.agenda_item.consultation_id not in (None, consultation.pk)):
        raise InvalidData({"meeting_decision": [_("Cette décision de commission ne concerne pas cette consultation.")]})
    return found


def _deadline(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time(23, 59, 59), tzinfo=clock.PARIS)
    else:
        try:
            moment = dt.datetime.combine(
                dt.date.fromisoformat(str(value).strip()), dt.time(23, 59, 59), tzinfo=clock.PARIS
            )
        except ValueError:
            raise InvalidData(
                {"documents_deadline": [_("Indiquez la date limite de remise des pièces (AAAA-MM-JJ).")]}
            ) from None
    if moment.tzinfo is None:
        raise InvalidData({"documents_deadline": [_("Indiquez la date limite de remise des pièces (AAAA-MM-JJ).")]})
    if moment <= clock.now():
        raise InvalidData({"documents_deadline": [_("La date limite de remise des pièces doit être à venir.")]})
    return moment


@transaction.atomic
def award_decide(
    *,
    acting_user: Any,
    evaluation: Evaluation,
    outcome: str,
    winner_bid: Bid | int | None = None,
    reason: str = "",
    choice_reason: str = "",
    meeting_decision: Any = None,
    documents: list[str] | None = None,
    documents_deadline: Any = None,
    request: Any = None,
) -> Award:
    """Decide one evaluation: awarded (the best-ranked offer by default; another needs `choice_reason`),
    unsuccessful or abandoned (with `reason`). Optionally linked to the commission's decision. When
    awarded, `documents` (one per item) are asked of the winner by `documents_deadline`. Once every
    evaluation of the consultation is decided, the consultation's outcome is recorded."""
    consultation = _lock_consultation(evaluation.consultation)
    _require(acting_user, consultation.organisation)
    _require_opened(consultation)
    _require_undecided(evaluation)
    if outcome not in Outcome.values:
        raise InvalidData({"outcome": [_("Choisissez l'issue : attribué, infructueux ou sans suite.")]})
    decision = _meeting_decision(consultation, meeting_decision)
    opened = selectors.opened_bids(consultation)
    admissions = selectors.admissions_of(consultation)
    pending = [bid for bid in opened if selectors.bid_in_evaluation(bid, evaluation) and bid.pk not in admissions]
    winner = None
    choice = ""
    total = None
    items = [str(item).strip()[:300] for item in (documents or []) if str(item).strip()]
    deadline = None
    if outcome == Outcome.AWARDED:
        text = _reason(reason, "reason", None)
        if winner_bid not in (None, ""):
            bid = _opened_bid(consultation, int(getattr(winner_bid, "pk", winner_bid)))
        else:
            bid = None
        if pending:
            raise DomainError(
                _("Décidez d'abord de l'admission de chaque candidature (%(count)s en attente).")
                % {"count": len(pending)},
                code="admissions_pending",
            )
        view = selectors.evaluation_view(evaluation)
        if not view.has_criteria:
            raise DomainError(_("Définissez d'abord les critères de l'analyse."), code="no_criteria")
        if not view.complete:
            raise DomainError(
                _(
                    "Le classement n'est pas complet : chaque offre doit avoir son prix et au moins une note par critère."
                ),
                code="ranking_incomplete",
            )
        best = view.best
        chosen = best if bid is None else view.row_for_bid(bid.pk)
        if chosen is None or chosen.excluded:
            raise DomainError(
                _(
                    "Cette offre ne figure pas au classement (candidature non admise ou offre rejetée) : elle ne peut pas être retenue."
                ),
                code="not_ranked",
            )
        if best is not None and chosen.offer.pk != best.offer.pk:
            choice = _reason(
                choice_reason,
                "choice_reason",
                _("Vous retenez une offre qui n'est pas la mieux classée : indiquez pourquoi."),
            )
        winner = chosen.offer
        total = rules.two(chosen.total)
        if items:
            deadline = _deadline(documents_deadline)
    else:
        text = _reason(reason, "reason", _("Indiquez le motif de cette issue."))
    now = clock.now()
    with scopes_disabled():
        award = Award.objects.create(
            evaluation=evaluation,
            outcome=outcome,
            winner=winner,
            winner_total=total,
            reason=text,
            choice_reason=choice,
            meeting_decision=decision,
            decided_by=acting_user,
            decided_at=now,
        )
    _audit(
        f"awards.{outcome}",
        actor=acting_user,
        consultation=consultation,
        data={
            "evaluation": evaluation.pk,
            "lot": evaluation.lot_id,
            "winner_bid": winner.bid_id if winner else None,
            "winner": winner.bid.company.name if winner else None,
            "total": str(total) if total is not None else None,
            "reason": text,
            "choice_reason": choice,
            "meeting_decision": decision.pk if decision else None,
        },
        request=request,
    )
    if winner is not None and items:
        document_request(
            acting_user=acting_user, award=award, items=items, deadline=deadline, request=request, _checked=True
        )
    _record_consultation_outcome(acting_user, consultation, request)
    return award


def _record_consultation_outcome(acting_user: Any, consultation: Consultation, request: Any) -> None:
    """When every evaluation is decided: awarded if any lot is, else unsuccessful if any lot is, else
    abandoned; the reason lists each lot's outcome (shown on the public page)."""
    evaluations = selectors.evaluations_of(consultation)
    with scopes_disabled():
        awards = {award.evaluation_id: award for award in Award.objects.filter(evaluation__consultation=consultation)}
    if any(evaluation.pk not in awards for evaluation in evaluations):
        return
    outcomes = {award.outcome for award in awards.values()}
    if Outcome.AWARDED in outcomes:
        target = State.AWARDED
    elif Outcome.UNSUCCESSFUL in outcomes:
        target = State.UNSUCCESSFUL
    else:
        target = State.ABANDONED
    parts = []
    for evaluation in evaluations:
        award = awards[evaluation.pk]
        if evaluation.lot_id:
            parts.append(
                _("Lot %(number)s : %(outcome)s%(reason)s")
                % {
                    "number": evaluation.lot.number,
                    "outcome": award.get_outcome_display(),
                    "reason": f" — {award.reason}" if award.reason else "",
                }
            )
        elif award.reason:
            parts.append(award.reason)
    consultation_services.consultation_set_outcome(
        acting_user=acting_user, consultation=consultation, outcome=target, reason="\n".join(parts), request=request
    )


@transaction.atomic
def document_request(
    *,
    acting_user: Any,
    award: Award,
    items: list[str],
    deadline: Any,
    request: Any = None,
    _checked: bool = False,
) -> DocumentRequest:
    """Ask the winner for its supporting documents (R2144-4: certificates, attestations) by `deadline`:
    an e-mail and a page in the company's letters."""
    consultation = award.evaluation.consultation
    if not _checked:
        consultation = _lock_consultation(consultation)
        _require(acting_user, consultation.organisation)
    if award.outcome != Outcome.AWARDED or award.winner is None:
        raise DomainError(_("Les pièces justificatives sont demandées à l'attributaire d'un lot attribué."))
    items = [str(item).strip()[:300] for item in items if str(item).strip()]
    if not items:
        raise InvalidData({"documents": [_("Indiquez au moins une pièce à fournir.")]})
    moment = deadline if isinstance(deadline, dt.datetime) else _deadline(deadline)
    company = award.winner.bid.company
    with scopes_disabled():
        row = DocumentRequest.objects.create(
            award=award,
            company=company,
            items=items,
            deadline=moment,
            requested_at=clock.now(),
            requested_by=acting_user,
        )
    link = settings.BASE_URL + reverse("awards_company:list", args=[company.slug])
    for address, language in mail_recipients(award.winner.bid):
        send_templated_mail(
            template="awards/email/documents",
            to=[address],
            language=language,
            context={
                "consultation": consultation,
                "buyer": consultation.organisation.name,
                "lot": award.evaluation.lot,
                "items": items,
                "deadline": consultation_services.local_display(moment),
                "link": link,
            },
        )
    _audit(
        "awards.documents_requested",
        actor=acting_user,
        consultation=consultation,
        data={"award": award.pk, "company": company.name, "items": items, "deadline": moment.isoformat()},
        request=request,
    )
    return row


# --- Letters --------------------------------------------------------------------------------------


@transaction.atomic
def letters_send(*, acting_user: Any, award: Award, request: Any = None) -> list[Letter]:
    """Write, store and send the letters of a decision: to the winner its award letter, to every other
    bidder (admitted or not, late included) its rejection letter with the reasons, the winner's name, the
    retained offer's characteristics and relative advantages and the standstill end (R2181-1 to -4,
    R2182-1); for an unsuccessful or abandoned outcome, the outcome letter to every bidder. Once only."""
    evaluation = award.evaluation
    consultation = _lock_consultation(evaluation.consultation)
    _require(acting_user, consultation.organisation)
    with scopes_disabled():
        award = (
            Award.objects.select_for_update(of=("self",))
            .select_related("evaluation__lot", "winner__bid__company")
            .get(pk=award.pk)
        )
    if award.letters_sent_at is not None:
        raise DomainError(_("Les courriers de cette décision sont déjà envoyés."), code="already_sent")
    now = clock.now()
    days = rules.standstill_days(formalised=consultation.is_formalised, configured=evaluation.standstill_days)
    signing_from = rules.signing_allowed_from(now, days) if (days and award.outcome == Outcome.AWARDED) else None
    drafts = letters.compose(consultation=consultation, award=award, now=now, days=days, signing_from=signing_from)
    if not drafts:
        raise DomainError(_("Aucun soumissionnaire à informer pour cette décision."), code="nobody")
    sent: list[Letter] = []
    for draft in drafts:
        pdf = letters.render_pdf(draft)
        digest = hashlib.sha256(pdf).hexdigest()
        with scopes_disabled():
            letter = Letter(
                award=award,
                consultation=consultation,
                company=draft.bid.company,
                bid=draft.bid,
                kind=draft.kind,
                subject=draft.subject,
                summary=draft.summary,
                sha256=digest,
                size=len(pdf),
                created_at=now,
                sent_at=now,
                standstill_ends_at=signing_from,
            )
            letter.storage_name = default_storage.save(
                f"awards/letters/{consultation.pk}/{letter.uid}.pdf", ContentFile(pdf)
            )
            letter.save()
        recipients = mail_recipients(draft.bid)
        link = settings.BASE_URL + reverse("awards_company:letter", args=[draft.bid.company.slug, letter.pk])
        for address, language in recipients:
            send_templated_mail(
                template="awards/email/letter",
                to=[address],
                language=language,
                context={
                    "letter": letter,
                    "consultation": consultation,
                    "buyer": consultation.organisation.name,
                    "link": link,
                },
            )
        evidence.record(
            letter,
            LetterEventKind.SENT,
            {"recipients": [address for address, _language in recipients], "subject": letter.subject, "link": link},
        )
        sent.append(letter)
    with scopes_disabled():
        award.letters_sent_at = now
        award.standstill_ends_at = signing_from
        award.save(update_fields=["letters_sent_at", "standstill_ends_at"])
        # The public page names the winner from now on: a new `updated_at` changes the page's stamp on every
        # node (consultations.selectors.public_consultation_row), so its kept copy is not served again.
        Consultation.objects.filter(pk=consultation.pk).update(updated_at=now)
    _audit(
        "awards.letters_sent",
        actor=acting_user,
        consultation=consultation,
        data={
            "award": award.pk,
            "letters": [
                {"company": letter.company.name, "kind": letter.kind, "sha256": letter.sha256} for letter in sent
            ],
            "signing_allowed_from": signing_from.isoformat() if signing_from else None,
        },
        request=request,
    )
    return sent


@transaction.atomic
def letter_read(*, acting_user: Any, letter: Letter, request: Any = None) -> Letter:
    """A member of the recipient company opens the letter on the platform: the first reading of each
    person is recorded with its timestamp token; the letter keeps the first reading of all."""
    _require(acting_user, letter.company, LETTERS_VIEW)
    with scopes_disabled():
        letter = Letter.objects.select_for_update().get(pk=letter.pk)
        already = letter.events.filter(kind=LetterEventKind.READ, detail__user=acting_user.pk).exists()
    if already:
        return letter
    event = evidence.record(letter, LetterEventKind.READ, {"user": acting_user.pk, "email": acting_user.email})
    if letter.first_read_at is None:
        letter.first_read_at = event.at
        letter.first_read_by = acting_user
        with scopes_disabled():
            letter.save(update_fields=["first_read_at", "first_read_by"])
    log_event(
        action="awards.letter_read",
        actor=acting_user,
        organisation=letter.company,
        obj=letter,
        data={"letter": str(letter.uid), "sha256": letter.sha256},
        request=request,
    )
    return letter


def letter_content(letter: Letter) -> bytes:
    """The stored PDF, checked against its SHA-256 (a changed file is refused, never served). DomainError
    "purged" once the retention purge deleted it (contracts.retention: the row stays, the file is gone)."""
    if not letter.storage_name:
        raise DomainError(
            _("Ce courrier a été supprimé au terme de sa durée de conservation ; sa trace (envoi, lecture) reste."),
            code="purged",
        )
    with default_storage.open(letter.storage_name, "rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != letter.sha256:
        raise DomainError(_("Le fichier du courrier ne correspond plus à son empreinte : il n'est pas servi."))
    return data
