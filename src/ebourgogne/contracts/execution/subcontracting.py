"""Subcontracting: the declaration of a subcontractor, the buyer's decision, the changes of the act."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled
from stdnum.fr import siret as siret_number

from ebourgogne.contracts import execution_selectors as selectors
from ebourgogne.contracts import pdf_execution
from ebourgogne.contracts.execution.common import (
    HOLDER_PARTY,
    MANAGE,
    REASON_MAX,
    audit,
    checked_values,
    local_day,
    lock_act,
    lock_contract,
    next_number,
    parse_date,
    parse_decimal,
    parse_integer,
    parse_text,
    party_of,
    require,
    require_running,
    store_act_pdf,
)
from ebourgogne.contracts.models import (
    Contract,
    DocumentKind,
    PriceVariation,
    Subcontract,
    SubcontractChange,
    SubcontractState,
)
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError
from ebourgogne.organisations.selectors import members_with
from ebourgogne.organisations.services import InvalidData

# --- Subcontracting -------------------------------------------------------------------------------


def _check_room(contract: Contract, amount: Decimal, *, exclude: int | None = None, field: str = "amount") -> None:
    terms = selectors.terms(contract)
    others = selectors.subcontract_amounts(contract, exclude_subcontract=exclude)
    if others + amount > terms.amount:
        raise InvalidData(
            {
                field: [
                    _(
                        "La sous-traitance dépasserait le montant du marché (%(amount)s) : %(others)s sont déjà sous-traités, il reste %(left)s."
                    )
                    % {
                        "amount": pdf_execution.money(terms.amount),
                        "others": pdf_execution.money(others),
                        "left": pdf_execution.money(max(terms.amount - others, Decimal("0.00"))),
                    }
                ]
            }
        )


@transaction.atomic
def subcontract_declare(
    *,
    acting_user: Any,
    contract: Contract,
    subcontractor_name: str,
    subcontractor_siret: str,
    object: str,  # noqa: A002 - the model's field name
    amount: Any,
    duration_months: Any,
    direct_payment: bool = True,
    price_variation: str = PriceVariation.FIRM,
    request: Any = None,
) -> Subcontract:
    """Declare a subcontractor (the holder, or the buyer on its behalf) for the buyer's acceptance."""
    contract = lock_contract(contract)
    party = party_of(acting_user, contract)
    require_running(contract)
    values = checked_values(
        {
            "subcontractor_name": lambda: parse_text(
                subcontractor_name, "subcontractor_name", _("Indiquez le nom du sous-traitant."), maximum=255
            ),
            "subcontractor_siret": lambda: _siret(subcontractor_siret, contract),
            "object": lambda: parse_text(object, "object", _("Décrivez les prestations sous-traitées.")),
            "amount": lambda: _positive(
                amount, "amount", _("Indiquez le montant maximum sous-traité en euros HT (par exemple 15 000,00).")
            ),
            "duration_months": lambda: parse_integer(
                duration_months,
                "duration_months",
                _("Indiquez la durée en nombre entier de mois (au moins 1)."),
                minimum=1,
            ),
            "price_variation": lambda: _price_variation(price_variation),
        }
    )
    _check_room(contract, values["amount"])
    number = next_number(Subcontract, contract=contract)
    with scopes_disabled():
        subcontract = Subcontract.objects.create(
            contract=contract,
            number=number,
            direct_payment=bool(direct_payment),
            declared_at=clock.now(),
            declared_by=acting_user,
            **values,
        )
    audit(
        "contracts.subcontract_declared",
        actor=acting_user,
        contract=contract,
        obj=subcontract,
        data={
            "number": number,
            "by": party,
            "subcontractor": subcontract.subcontractor_name,
            "siret": subcontract.subcontractor_siret,
            "amount": str(subcontract.amount),
        },
        request=request,
    )
    if party == HOLDER_PARTY:
        _tell_buyer_of_declaration(contract, subcontract)
    return subcontract


def _tell_buyer_of_declaration(contract: Contract, subcontract: Subcontract) -> None:
    """A subcontractor declared by the holder waits for the buyer's decision: the buyer's staff who manage
    contracts get a mail with the link (once each, in their language; queued with the transaction)."""
    from django.urls import reverse

    from ebourgogne.notifications.services import send_templated_mail

    path = reverse(
        "contracts_execution:act", args=[contract.organisation.slug, contract.pk, "sous-traitance", subcontract.pk]
    )
    for person in members_with(organisation=contract.organisation, permission=MANAGE):
        language = getattr(person, "language", "fr")
        with translation.override(language):
            amount = pdf_execution.money(subcontract.amount)
        send_templated_mail(
            template="contracts/email/subcontract_declared",
            to=[person.email],
            context={"contract": contract, "subcontract": subcontract, "amount": amount, "path": path},
            language=language,
        )


def _positive(value: Any, field: str, message: str) -> Decimal:
    number = parse_decimal(value, field, message)
    if number <= 0:
        raise InvalidData({field: [_("Le montant doit être supérieur à zéro.")]})
    return number


def _price_variation(value: Any) -> str:
    if value not in PriceVariation.values:
        raise InvalidData(
            {"price_variation": [_("Choisissez la variation des prix : ferme, actualisable ou révisable.")]}
        )
    return value


def _siret(value: Any, contract: Contract) -> str:
    compact = siret_number.compact(str(value or ""))
    if not compact:
        raise InvalidData({"subcontractor_siret": [_("Indiquez le SIRET du sous-traitant (14 chiffres).")]})
    if not siret_number.is_valid(compact):
        raise InvalidData(
            {
                "subcontractor_siret": [
                    _("Ce SIRET n'est pas valide : vérifiez ses 14 chiffres (la clé de contrôle ne correspond pas).")
                ]
            }
        )
    holder = contract.holder
    if (holder.siren and compact[:9] == holder.siren) or (holder.siret and compact == holder.siret):
        raise InvalidData(
            {
                "subcontractor_siret": [
                    _("Ce SIRET est celui du titulaire : un titulaire n'est pas son propre sous-traitant.")
                ]
            }
        )
    return compact


@transaction.atomic
def subcontract_decide(
    *,
    acting_user: Any,
    subcontract: Subcontract,
    decision: str,
    reason: str = "",
    request: Any = None,
) -> Subcontract:
    """The buyer accepts the subcontractor and its payment terms (the acte spécial is generated, to be
    signed by the holder and the buyer, then notified) or refuses it with a reason."""
    contract = lock_contract(subcontract.contract)
    require(acting_user, contract.organisation, MANAGE)
    require_running(contract)
    subcontract = lock_act(subcontract)
    if subcontract.state != SubcontractState.DECLARED:
        raise DomainError(_("La décision sur ce sous-traitant est déjà prise."), code="decided")
    if decision not in (SubcontractState.ACCEPTED, SubcontractState.REFUSED):
        raise InvalidData({"decision": [_("Choisissez : sous-traitant accepté ou refusé.")]})
    text = parse_text(
        reason,
        "reason",
        _("Indiquez le motif du refus.") if decision == SubcontractState.REFUSED else None,
        maximum=REASON_MAX,
    )
    now = clock.now()
    if decision == SubcontractState.ACCEPTED:
        _check_room(contract, subcontract.amount, exclude=subcontract.pk, field="decision")
    subcontract.state = decision
    subcontract.decision_reason = text
    subcontract.decided_at = now
    subcontract.decided_by = acting_user
    with scopes_disabled():
        subcontract.save(update_fields=["state", "decision_reason", "decided_at", "decided_by"])
    if decision == SubcontractState.ACCEPTED:
        pdf = pdf_execution.subcontract_pdf(subcontract, now=now)
        store_act_pdf(
            subcontract,
            contract,
            kind=DocumentKind.SUBCONTRACT,
            title=_("Acte spécial de sous-traitance n° %(number)s — %(name)s")
            % {"number": subcontract.number, "name": subcontract.subcontractor_name},
            pdf=pdf,
            filename=f"marche-{contract.number}-sous-traitance-{subcontract.number}.pdf",
            acting_user=acting_user,
            request=request,
        )
    audit(
        "contracts.subcontract_decided",
        actor=acting_user,
        contract=contract,
        obj=subcontract,
        data={
            "number": subcontract.number,
            "subcontractor": subcontract.subcontractor_name,
            "decision": decision,
            "reason": text,
        },
        request=request,
    )
    return subcontract


@transaction.atomic
def subcontract_change(
    *,
    acting_user: Any,
    subcontract: Subcontract,
    new_amount: Any,
    new_duration_months: Any,
    effective_on: Any,
    object: str = "",  # noqa: A002 - the model's field name
    request: Any = None,
) -> SubcontractChange:
    """Change a notified subcontracting act (new amount and/or duration): an acte modificatif, signed
    by the holder and the buyer, then notified and published."""
    contract = lock_contract(subcontract.contract)
    require(acting_user, contract.organisation, MANAGE)
    require_running(contract)
    subcontract = lock_act(subcontract)
    if subcontract.state != SubcontractState.ACCEPTED or subcontract.notified_at is None:
        raise DomainError(_("Seul un acte spécial accepté et notifié peut être modifié."), code="not_notified")
    values = checked_values(
        {
            "object": lambda: parse_text(object, "object", None),
            "new_amount": lambda: _positive(
                new_amount, "new_amount", _("Indiquez le nouveau montant maximum en euros HT (par exemple 18 000,00).")
            ),
            "new_duration_months": lambda: parse_integer(
                new_duration_months,
                "new_duration_months",
                _("Indiquez la nouvelle durée en nombre entier de mois (au moins 1)."),
                minimum=1,
            ),
            "effective_on": lambda: parse_date(
                effective_on, "effective_on", _("Indiquez la date de prise d'effet (AAAA-MM-JJ).")
            ),
        }
    )
    with scopes_disabled():
        pending = SubcontractChange.objects.filter(subcontract=subcontract, notified_at__isnull=True).first()
        previous = SubcontractChange.objects.filter(subcontract=subcontract).order_by("-number").first()
    if pending is not None:
        raise DomainError(
            _("L'acte modificatif n° %(number)s est en cours : notifiez-le avant d'en préparer un autre.")
            % {"number": pending.number},
            code="change_pending",
        )
    floor = local_day(subcontract.notified_at)
    if previous is not None and previous.effective_on > floor:
        floor = previous.effective_on
    if values["effective_on"] < floor:
        raise InvalidData(
            {
                "effective_on": [
                    _(
                        "Un acte modificatif ne peut pas changer le passé de l'acte de sous-traitance : il prend effet au plus tôt le %(date)s."
                    )
                    % {"date": pdf_execution.day(floor)}
                ]
            }
        )
    amount_before, duration_before = selectors.subcontract_current(subcontract)
    _check_room(contract, values["new_amount"], exclude=subcontract.pk, field="new_amount")
    now = clock.now()
    number = next_number(SubcontractChange, subcontract=subcontract)
    with scopes_disabled():
        change = SubcontractChange.objects.create(
            subcontract=subcontract, number=number, created_at=now, created_by=acting_user, **values
        )
    pdf = pdf_execution.subcontract_change_pdf(
        change, now=now, previous_amount=amount_before, previous_duration=duration_before
    )
    store_act_pdf(
        change,
        contract,
        kind=DocumentKind.SUBCONTRACT,
        title=_("Acte modificatif n° %(number)s de la sous-traitance n° %(act)s")
        % {"number": number, "act": subcontract.number},
        pdf=pdf,
        filename=f"marche-{contract.number}-sous-traitance-{subcontract.number}-modification-{number}.pdf",
        acting_user=acting_user,
        request=request,
    )
    audit(
        "contracts.subcontract_changed",
        actor=acting_user,
        contract=contract,
        obj=change,
        data={
            "subcontract": subcontract.number,
            "number": number,
            "new_amount": str(change.new_amount),
            "new_duration_months": change.new_duration_months,
            "effective_on": change.effective_on.isoformat(),
        },
        request=request,
    )
    return change
