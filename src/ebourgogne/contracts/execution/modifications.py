"""Modifications (avenants) of a notified contract and the contract's current terms."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.contracts import documents, pdf_execution
from ebourgogne.contracts import execution_selectors as selectors
from ebourgogne.contracts.execution.common import (
    MANAGE,
    audit,
    checked_values,
    local_day,
    lock_contract,
    next_number,
    parse_date,
    parse_decimal,
    parse_integer,
    parse_text,
    require,
    require_running,
    store_act_pdf,
)
from ebourgogne.contracts.models import (
    ChangeState,
    Contract,
    DocumentKind,
    LegalGround,
    Modification,
)
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError, NotFound
from ebourgogne.organisations.services import InvalidData

HALF = Decimal("0.50")
DE_MINIMIS = Decimal("0.10")
DE_MINIMIS_WORKS = Decimal("0.15")

# --- Current terms --------------------------------------------------------------------------------


def current_terms(contract: Contract) -> selectors.Terms:
    """The contract's current amount and duration: the initial ones plus the notified modifications."""
    return selectors.terms(contract)


# --- Modifications --------------------------------------------------------------------------------


@transaction.atomic
def modification_create(
    *,
    acting_user: Any,
    contract: Contract,
    legal_ground: str,
    object: str,  # noqa: A002 - the model's field name
    amount_change: Any = 0,
    duration_change_months: Any = 0,
    effective_on: Any,
    new_holder_name: Any = "",
    new_holder_siret: Any = "",
    request: Any = None,
) -> Modification:
    """Prepare modification n+1 of a notified contract and store its PDF (to be signed by both parties).

    `new_holder_name` and `new_holder_siret`: the new holder of a modification on the ground R2194-6,
    checked by `contracts.services.modification_set_new_holder` (the one rule) once the other fields
    pass; a refusal stores nothing."""
    contract = lock_contract(contract)
    require(acting_user, contract.organisation, MANAGE)
    require_running(contract)
    errors: dict[str, list[str]] = {}
    if legal_ground not in LegalGround.values:
        errors["legal_ground"] = [_("Choisissez le fondement juridique de la modification.")]
    values = checked_values(
        {
            "object": lambda: parse_text(object, "object", _("Décrivez l'objet de la modification.")),
            "amount_change": lambda: parse_decimal(
                amount_change if str(amount_change or "").strip() else "0",
                "amount_change",
                _("Indiquez la variation du montant en euros HT (par exemple 12 500,00 ou -3 000)."),
            ),
            "duration_change_months": lambda: parse_integer(
                duration_change_months if str(duration_change_months or "").strip() else "0",
                "duration_change_months",
                _("Indiquez la variation de la durée en nombre entier de mois (par exemple 3 ou -2)."),
            ),
            "effective_on": lambda: parse_date(
                effective_on, "effective_on", _("Indiquez la date de prise d'effet (AAAA-MM-JJ).")
            ),
        },
        errors,
    )
    text, change = values["object"], values["amount_change"]
    months, effective = values["duration_change_months"], values["effective_on"]

    with scopes_disabled():
        pending = Modification.objects.filter(contract=contract).exclude(state=ChangeState.NOTIFIED).first()
        previous = Modification.objects.filter(contract=contract).order_by("-number").first()
    if pending is not None:
        raise DomainError(
            _("La modification n° %(number)s est en cours : notifiez-la avant d'en préparer une autre.")
            % {"number": pending.number},
            code="modification_pending",
        )
    notified_on = local_day(contract.notified_at)
    if notified_on and effective < notified_on:
        raise InvalidData(
            {
                "effective_on": [
                    _(
                        "Une modification ne peut pas changer le passé d'un marché notifié : elle prend effet au plus tôt le jour de sa notification, le %(date)s."
                    )
                    % {"date": pdf_execution.day(notified_on)}
                ]
            }
        )
    if previous is not None and effective < previous.effective_on:
        raise InvalidData(
            {
                "effective_on": [
                    _(
                        "Une modification ne peut pas changer le passé d'un marché notifié : elle prend effet au plus tôt à la date de la modification n° %(number)s, le %(date)s."
                    )
                    % {"number": previous.number, "date": pdf_execution.day(previous.effective_on)}
                ]
            }
        )

    before = selectors.terms(contract)
    initial = contract.amount
    if before.amount + change <= 0:
        raise InvalidData(
            {"amount_change": [_("Après la modification, le montant du marché doit rester supérieur à zéro.")]}
        )
    if before.duration_months + months < 1:
        raise InvalidData(
            {"duration_change_months": [_("Après la modification, la durée du marché doit rester d'au moins un mois.")]}
        )
    if contract.is_framework and before.amount + change < before.ordered:
        raise InvalidData(
            {
                "amount_change": [
                    _("Le montant maximum ne peut pas descendre sous le montant déjà commandé (%(ordered)s).")
                    % {"ordered": pdf_execution.money(before.ordered)}
                ]
            }
        )
    if legal_ground in (LegalGround.ADDITIONAL_WORK, LegalGround.UNFORESEEN) and change > initial * HALF:
        raise InvalidData(
            {
                "amount_change": [
                    _(
                        "Sur ce fondement, chaque modification est limitée à 50 %% du montant initial du marché (R2194-3), soit %(limit)s."
                    )
                    % {"limit": pdf_execution.money(initial * HALF)}
                ]
            }
        )
    if legal_ground == LegalGround.DE_MINIMIS:
        rate = DE_MINIMIS_WORKS if contract.is_works else DE_MINIMIS
        with scopes_disabled():
            earlier = Modification.objects.filter(contract=contract, legal_ground=LegalGround.DE_MINIMIS)
            cumulated = sum((abs(row.amount_change) for row in earlier), Decimal("0.00")) + abs(change)
        if cumulated >= initial * rate:
            raise InvalidData(
                {
                    "legal_ground": [
                        _(
                            "Les modifications de faible montant (R2194-8) restent, cumulées, inférieures à %(rate)s %% du montant initial, soit %(limit)s ; cumulées avec celle-ci, elles atteignent %(total)s."
                        )
                        % {
                            "rate": int(rate * 100),
                            "limit": pdf_execution.money(initial * rate),
                            "total": pdf_execution.money(cumulated),
                        }
                    ]
                }
            )

    now = clock.now()
    number = next_number(Modification, contract=contract)
    with scopes_disabled():
        modification = Modification.objects.create(
            contract=contract,
            number=number,
            legal_ground=legal_ground,
            object=text,
            amount_change=change,
            duration_change_months=months,
            effective_on=effective,
            created_at=now,
            created_by=acting_user,
        )
    if str(new_holder_name or "").strip() or str(new_holder_siret or "").strip():
        modification = _set_new_holder(acting_user, modification, new_holder_name, new_holder_siret, request)
        modification.contract = contract
    after = selectors.terms_after(before, amount_change=change, duration_change_months=months)
    pdf = pdf_execution.modification_pdf(modification, before=before, after=after, now=now)
    store_act_pdf(
        modification,
        contract,
        kind=DocumentKind.MODIFICATION,
        title=_("Modification n° %(number)s") % {"number": number},
        pdf=pdf,
        filename=f"marche-{contract.number}-modification-{number}.pdf",
        acting_user=acting_user,
        request=request,
    )
    audit(
        "contracts.modification_created",
        actor=acting_user,
        contract=contract,
        obj=modification,
        data={
            "number": number,
            "legal_ground": legal_ground,
            "amount_change": str(change),
            "duration_change_months": months,
            "effective_on": effective.isoformat(),
            "amount_after": str(after.amount),
            "new_holder_siret": modification.new_holder_siret,
        },
        request=request,
    )
    return modification


def _set_new_holder(acting_user: Any, modification: Modification, name: Any, siret: Any, request: Any) -> Any:
    from ebourgogne.contracts import services

    return services.modification_set_new_holder(
        acting_user=acting_user,
        modification=modification,
        name=str(name or ""),
        siret=str(siret or ""),
        request=request,
    )


@transaction.atomic
def modification_new_holder(
    *,
    acting_user: Any,
    modification: Modification,
    new_holder_name: Any = "",
    new_holder_siret: Any = "",
    request: Any = None,
) -> Modification:
    """Record (or clear, both empty) the new holder of a draft modification on the ground R2194-6 and print it
    on the modification's PDF, which is made again: only while nobody has signed it (a signed PDF never
    changes). The checks: `contracts.services.modification_set_new_holder`; a refusal stores nothing."""
    contract = lock_contract(modification.contract)
    require(acting_user, contract.organisation, MANAGE)
    require_running(contract)
    with scopes_disabled():
        current = Modification.objects.select_for_update().filter(pk=modification.pk, contract=contract).first()
    if current is None:
        raise NotFound(_("Modification introuvable."))
    # The document locked too: a signature at the same time waits, then signs the PDF made here.
    document = documents.lock(current.document) if current.document_id else None
    if current.state != ChangeState.DRAFT or (
        document is not None and (document.buyer_signed_at or document.holder_signed_at or document.notified_at)
    ):
        raise DomainError(
            _("La modification est déjà signée ou notifiée : son titulaire ne peut plus changer."), code="signed"
        )
    current = _set_new_holder(acting_user, current, new_holder_name, new_holder_siret, request)
    if document is not None:
        before = selectors.terms(contract)
        after = selectors.terms_after(
            before, amount_change=current.amount_change, duration_change_months=current.duration_change_months
        )
        current.contract = contract
        documents.replace_unsigned(
            document, pdf_execution.modification_pdf(current, before=before, after=after, now=clock.now())
        )
    return current
