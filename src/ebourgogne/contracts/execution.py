"""The execution of a notified contract: modifications (avenants), order forms under framework
agreements, subcontracting acts and their changes, milestones, and the contract's end.

Each function is one atomic step: it checks the caller's right (the buyer's staff prepare with
`contracts.manage` and sign with `contracts.sign`; the holder's members declare a subcontractor with
`contracts.holder`, its admins sign with `contracts.holder_sign`), checks the rules, writes, and
records an audit event. A refusal raises `DomainError` (`InvalidData` with field errors) with a
translated message; nothing is stored.

The acts follow the contract's own path: a PDF is generated (`pdf_execution`) and stored as a
document of the contract (`documents.add`), signed in PAdES by the parties (`documents.sign`: a
modification, a subcontracting act and its changes by both, an order form by the buyer alone), then
notified to the holder as a letter (`documents.notify`); a modification and a subcontracting act (and
its changes) then have their essential data appended to the DECP (`decp.publish_*`).

The rules (Code de la commande publique):

- a modification never changes a notified contract's past: it takes effect at the earliest on the
  day of the contract's notification and never before the previous modification; one is prepared at a
  time; the resulting amount stays above zero (and, for a framework agreement, above what is already
  ordered);
- R2194-2 (additional work) and R2194-5 (unforeseen circumstances): each modification is at most 50 %
  of the initial amount (R2194-3);
- R2194-8 (de minimis): the cumulated changes made on this ground stay below 10 % of the initial
  amount (15 % for works). The European thresholds are not recorded on the platform: only the
  percentage is checked;
- order forms are issued under a framework agreement only, and their sum never exceeds its current
  maximum amount;
- the current amounts of the subcontracts declared or accepted never exceed the contract's current
  amount; a subcontractor is identified by a valid SIRET (not the holder's own company);
- a subcontracting change takes effect at the earliest on the day its act was notified, and never
  before the previous change;
- a termination states its reason; the end of execution is never before the notification nor in the
  future, and starts the documents' retention periods (`retention.on_contract_end`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled
from stdnum.fr import siret as siret_number

from ebourgogne.audit.services import log_event
from ebourgogne.awards.models import LetterKind
from ebourgogne.contracts import decp, documents, pdf_execution, retention
from ebourgogne.contracts import execution_selectors as selectors
from ebourgogne.contracts.models import (
    ChangeState,
    Contract,
    ContractState,
    DocumentKind,
    LegalGround,
    Milestone,
    Modification,
    OrderForm,
    PriceVariation,
    Subcontract,
    SubcontractChange,
    SubcontractState,
)
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.organisations.roles import roles_grant
from ebourgogne.organisations.selectors import members_with, roles_of
from ebourgogne.organisations.services import InvalidData

MANAGE = "contracts.manage"
SIGN = "contracts.sign"
VIEW = "contracts.view"
HOLDER = "contracts.holder"
HOLDER_SIGN = "contracts.holder_sign"
BUYER = "buyer"
HOLDER_PARTY = "holder"
TEXT_MAX = 1000
REASON_MAX = 5000
MONEY_MAX = Decimal("9999999999999.99")
HALF = Decimal("0.50")
DE_MINIMIS = Decimal("0.10")
DE_MINIMIS_WORKS = Decimal("0.15")


# --- Access and small helpers ---------------------------------------------------------------------


def _roles(acting_user: Any, organisation: Any) -> set[str]:
    if acting_user is None or not getattr(acting_user, "is_authenticated", False):
        raise PermissionRefused(_("Connectez-vous pour effectuer cette action."))
    return roles_of(user=acting_user, organisation=organisation) if organisation.is_active else set()


def _require(acting_user: Any, organisation: Any, permission: str) -> None:
    roles = _roles(acting_user, organisation)
    if not roles:
        raise NotFound(_("Marché introuvable."))
    if not roles_grant(roles, permission):
        raise PermissionRefused(_("Votre rôle dans cette organisation ne permet pas cette action sur le marché."))


def _party_of(acting_user: Any, contract: Contract) -> str:
    """Who declares a subcontractor: the holder's member (contracts.holder) or the buyer's staff
    (contracts.manage)."""
    holder_roles = _roles(acting_user, contract.holder)
    if roles_grant(holder_roles, HOLDER):
        return HOLDER_PARTY
    buyer_roles = _roles(acting_user, contract.organisation)
    if roles_grant(buyer_roles, MANAGE):
        return BUYER
    if holder_roles or buyer_roles:
        raise PermissionRefused(_("Votre rôle dans cette organisation ne permet pas cette action sur le marché."))
    raise NotFound(_("Marché introuvable."))


def _lock(contract: Contract) -> Contract:
    with scopes_disabled():
        found = (
            Contract.objects.select_for_update(of=("self",))
            .select_related("organisation", "holder")
            .filter(pk=contract.pk)
            .first()
        )
    if found is None:
        raise NotFound(_("Marché introuvable."))
    return found


def _require_running(contract: Contract) -> None:
    if contract.state in (ContractState.ENDED, ContractState.TERMINATED):
        raise DomainError(
            _("L'exécution de ce marché est terminée : il ne peut plus être modifié."), code="contract_ended"
        )
    if contract.state != ContractState.NOTIFIED:
        raise DomainError(
            _("Le marché n'est pas encore notifié : son exécution n'a pas commencé."), code="not_notified"
        )


def _audit(action: str, *, actor: Any, contract: Contract, obj: Any, data: dict[str, Any], request: Any) -> None:
    log_event(
        action=action,
        actor=actor,
        organisation=contract.organisation,
        obj=obj,
        data={"contract": contract.number, "contract_id": contract.pk, **data},
        request=request,
    )


def _decimal(value: Any, field: str, message: str) -> Decimal:
    if isinstance(value, Decimal):
        number = value
    else:
        text = str(value if value is not None else "").strip()
        for space in ("\u202f", "\u00a0", " "):
            text = text.replace(space, "")
        text = text.replace(",", ".").removesuffix("€")
        try:
            number = Decimal(text)
        except (InvalidOperation, ValueError):
            raise InvalidData({field: [message]}) from None
    if not number.is_finite() or abs(number) > MONEY_MAX:
        raise InvalidData({field: [message]})
    if number.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidData({field: [_("Un montant a au plus deux décimales (les centimes).")]})
    return number.quantize(Decimal("0.01"))


def _integer(value: Any, field: str, message: str, *, minimum: int | None = None, maximum: int = 1200) -> int:
    try:
        number = int(str(value if value is not None else "").strip())
    except ValueError:
        raise InvalidData({field: [message]}) from None
    if abs(number) > maximum or (minimum is not None and number < minimum):
        raise InvalidData({field: [message]})
    return number


def _date(value: Any, field: str, message: str, *, required: bool = True) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.astimezone(clock.PARIS).date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    if not text:
        if required:
            raise InvalidData({field: [message]})
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidData({field: [message]}) from None


def _text(value: Any, field: str, required: str | None, *, maximum: int = TEXT_MAX) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise InvalidData({field: [required]})
    if len(text) > maximum:
        raise InvalidData(
            {
                field: [
                    _("Le texte ne peut pas dépasser %(count)s caractères.")
                    % {"count": f"{maximum:,}".replace(",", " ")}
                ]
            }
        )
    return text


def _local_day(moment: dt.datetime | None) -> dt.date | None:
    return moment.astimezone(clock.PARIS).date() if moment else None


def _next_number(model: Any, **filters: Any) -> int:
    with scopes_disabled():
        last = model.objects.filter(**filters).order_by("-number").values_list("number", flat=True).first()
    return (last or 0) + 1


def _store(contract: Contract, *, kind: str, title: str, pdf: bytes, filename: str, acting_user: Any, request: Any):
    return documents.add(
        contract=contract,
        kind=kind,
        title=title,
        pdf=pdf,
        filename=filename,
        acting_user=acting_user,
        request=request,
    )


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
    request: Any = None,
) -> Modification:
    """Prepare modification n+1 of a notified contract and store its PDF (to be signed by both parties)."""
    contract = _lock(contract)
    _require(acting_user, contract.organisation, MANAGE)
    _require_running(contract)
    errors: dict[str, list[str]] = {}
    if legal_ground not in LegalGround.values:
        errors["legal_ground"] = [_("Choisissez le fondement juridique de la modification.")]
    text = ""
    change = Decimal("0.00")
    months = 0
    effective = None
    for field, check in (
        ("object", lambda: _text(object, "object", _("Décrivez l'objet de la modification."))),
        (
            "amount_change",
            lambda: _decimal(
                amount_change if str(amount_change or "").strip() else "0",
                "amount_change",
                _("Indiquez la variation du montant en euros HT (par exemple 12 500,00 ou -3 000)."),
            ),
        ),
        (
            "duration_change_months",
            lambda: _integer(
                duration_change_months if str(duration_change_months or "").strip() else "0",
                "duration_change_months",
                _("Indiquez la variation de la durée en nombre entier de mois (par exemple 3 ou -2)."),
            ),
        ),
        (
            "effective_on",
            lambda: _date(effective_on, "effective_on", _("Indiquez la date de prise d'effet (AAAA-MM-JJ).")),
        ),
    ):
        try:
            value = check()
        except InvalidData as invalid:
            errors.update(invalid.errors)
            continue
        if field == "object":
            text = value
        elif field == "amount_change":
            change = value
        elif field == "duration_change_months":
            months = value
        else:
            effective = value
    if errors:
        raise InvalidData(errors)

    with scopes_disabled():
        pending = Modification.objects.filter(contract=contract).exclude(state=ChangeState.NOTIFIED).first()
        previous = Modification.objects.filter(contract=contract).order_by("-number").first()
    if pending is not None:
        raise DomainError(
            _("La modification n° %(number)s est en cours : notifiez-la avant d'en préparer une autre.")
            % {"number": pending.number},
            code="modification_pending",
        )
    notified_on = _local_day(contract.notified_at)
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
    number = _next_number(Modification, contract=contract)
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
    after = selectors.Terms(
        amount=before.amount + change,
        duration_months=before.duration_months + months,
        initial_amount=before.initial_amount,
        initial_duration_months=before.initial_duration_months,
        modifications_amount=before.modifications_amount + change,
        ordered=before.ordered,
        subcontracted=before.subcontracted,
    )
    pdf = pdf_execution.modification_pdf(modification, before=before, after=after, now=now)
    document = _store(
        contract,
        kind=DocumentKind.MODIFICATION,
        title=_("Modification n° %(number)s") % {"number": number},
        pdf=pdf,
        filename=f"marche-{contract.number}-modification-{number}.pdf",
        acting_user=acting_user,
        request=request,
    )
    with scopes_disabled():
        modification.document = document
        modification.save(update_fields=["document"])
    _audit(
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
        },
        request=request,
    )
    return modification


# --- Signing and notifying an act -----------------------------------------------------------------

# What each kind of act needs: the parties that sign it, the letter that notifies it.
_ACTS: dict[type, dict[str, Any]] = {
    Modification: {"parties": (BUYER, HOLDER_PARTY), "letter": LetterKind.MODIFICATION},
    OrderForm: {"parties": (BUYER,), "letter": LetterKind.ORDER},
    Subcontract: {"parties": (HOLDER_PARTY, BUYER), "letter": LetterKind.SUBCONTRACT},
    SubcontractChange: {"parties": (HOLDER_PARTY, BUYER), "letter": LetterKind.SUBCONTRACT},
}


def _contract_of(item: Any) -> Contract:
    return item.subcontract.contract if isinstance(item, SubcontractChange) else item.contract


def _lock_item(item: Any) -> Any:
    with scopes_disabled():
        return type(item).objects.select_for_update(of=("self",)).get(pk=item.pk)


def signing_parties(item: Any) -> tuple[str, ...]:
    """Who signs this kind of act: ("buyer", "holder"), or ("buyer",) for an order form."""
    return _ACTS[type(item)]["parties"]


def signed_by_all(item: Any) -> bool:
    document = item.document
    parties = _ACTS[type(item)]["parties"]
    return bool(
        document is not None
        and (BUYER not in parties or document.buyer_signed_at)
        and (HOLDER_PARTY not in parties or document.holder_signed_at)
    )


def _label(item: Any) -> str:
    if isinstance(item, Modification):
        return _("la modification n° %(number)s") % {"number": item.number}
    if isinstance(item, OrderForm):
        return _("le bon de commande n° %(number)s") % {"number": item.number}
    if isinstance(item, Subcontract):
        return _("l'acte spécial de sous-traitance n° %(number)s") % {"number": item.number}
    return _("l'acte modificatif n° %(number)s de sous-traitance") % {"number": item.number}


@transaction.atomic
def act_sign(
    *,
    acting_user: Any,
    item: Any,
    party: str,
    certificate: Any,
    secret: str,
    request: Any = None,
) -> Any:
    """Sign the act's document as `party` ("buyer": contracts.sign; "holder": contracts.holder_sign).
    A modification becomes "signed" once both parties signed, an order form once the buyer did."""
    contract = _lock(_contract_of(item))
    if party == BUYER:
        _require(acting_user, contract.organisation, SIGN)
    elif party == HOLDER_PARTY:
        _require(acting_user, contract.holder, HOLDER_SIGN)
    else:
        raise DomainError(_("Partie signataire inconnue."), code="invalid")
    _require_running(contract)
    item = _lock_item(item)
    if party not in _ACTS[type(item)]["parties"]:
        raise DomainError(
            _("%(what)s est signé par l'acheteur seul.") % {"what": _label(item).capitalize()}, code="not_a_signer"
        )
    if isinstance(item, Subcontract) and item.state != SubcontractState.ACCEPTED:
        raise DomainError(_("L'acte spécial est signé une fois le sous-traitant accepté."), code="not_accepted")
    if item.document_id is None:
        raise DomainError(_("Cet acte n'a pas de document à signer."), code="no_document")
    if item.notified_at is not None:
        raise DomainError(
            _("%(what)s est déjà notifié.") % {"what": _label(item).capitalize()}, code="already_notified"
        )
    with scopes_disabled():
        document = item.document
    document = documents.sign(
        document=document,
        party=party,
        acting_user=acting_user,
        certificate=certificate,
        secret=secret,
        request=request,
    )
    item.document = document
    if isinstance(item, (Modification, OrderForm)) and signed_by_all(item) and item.state == ChangeState.DRAFT:
        item.state = ChangeState.SIGNED
        with scopes_disabled():
            item.save(update_fields=["state"])
    return item


@transaction.atomic
def act_notify(*, acting_user: Any, item: Any, request: Any = None) -> Any:
    """Notify the signed act to the holder (a letter with proof of sending and reading), then append its
    essential data to the DECP (modifications, subcontracting acts and their changes)."""
    contract = _lock(_contract_of(item))
    _require(acting_user, contract.organisation, MANAGE)
    _require_running(contract)
    item = _lock_item(item)
    if item.notified_at is not None:
        raise DomainError(
            _("%(what)s est déjà notifié.") % {"what": _label(item).capitalize()}, code="already_notified"
        )
    if isinstance(item, Subcontract) and item.state != SubcontractState.ACCEPTED:
        raise DomainError(_("Seul un sous-traitant accepté fait l'objet d'une notification."), code="not_accepted")
    if not signed_by_all(item):
        parties = _ACTS[type(item)]["parties"]
        raise DomainError(
            (
                _("%(what)s doit d'abord être signé par l'acheteur et par le titulaire.")
                if len(parties) == 2
                else _("%(what)s doit d'abord être signé par l'acheteur.")
            )
            % {"what": _label(item).capitalize()},
            code="not_signed",
        )
    subject = _("Marché %(contract)s : %(what)s") % {"contract": contract.number, "what": _label(item)}
    summary = getattr(item, "object", "") or ""
    with scopes_disabled():
        document = item.document
    documents.notify(
        document=document,
        letter_kind=_ACTS[type(item)]["letter"],
        subject=subject[:300],
        summary=summary,
        acting_user=acting_user,
        request=request,
    )
    now = clock.now()
    item.notified_at = now
    fields = ["notified_at"]
    if isinstance(item, (Modification, OrderForm)):
        item.state = ChangeState.NOTIFIED
        fields.append("state")
    with scopes_disabled():
        item.save(update_fields=fields)
    # documents.notify wrote the audit event of the notification (its action follows the letter kind).
    if isinstance(item, Modification):
        record = decp.publish_modification(item, now=now)
    elif isinstance(item, Subcontract):
        record = decp.publish_subcontract(item, now=now)
    elif isinstance(item, SubcontractChange):
        record = decp.publish_subcontract_change(item, now=now)
    else:
        record = None
    if record is not None and hasattr(item, "decp_published_at") and item.decp_published_at is None:
        item.decp_published_at = record.published_at
        with scopes_disabled():
            item.save(update_fields=["decp_published_at"])
    return item


def modification_sign(
    *, acting_user: Any, modification: Modification, party: str, certificate: Any, secret: str, request: Any = None
) -> Modification:
    return act_sign(
        acting_user=acting_user, item=modification, party=party, certificate=certificate, secret=secret, request=request
    )


def modification_notify(*, acting_user: Any, modification: Modification, request: Any = None) -> Modification:
    return act_notify(acting_user=acting_user, item=modification, request=request)


def order_sign(*, acting_user: Any, order: OrderForm, certificate: Any, secret: str, request: Any = None) -> OrderForm:
    return act_sign(
        acting_user=acting_user, item=order, party=BUYER, certificate=certificate, secret=secret, request=request
    )


def order_notify(*, acting_user: Any, order: OrderForm, request: Any = None) -> OrderForm:
    return act_notify(acting_user=acting_user, item=order, request=request)


def subcontract_sign(
    *, acting_user: Any, subcontract: Subcontract, party: str, certificate: Any, secret: str, request: Any = None
) -> Subcontract:
    return act_sign(
        acting_user=acting_user, item=subcontract, party=party, certificate=certificate, secret=secret, request=request
    )


def subcontract_notify(*, acting_user: Any, subcontract: Subcontract, request: Any = None) -> Subcontract:
    return act_notify(acting_user=acting_user, item=subcontract, request=request)


def subcontract_change_sign(
    *, acting_user: Any, change: SubcontractChange, party: str, certificate: Any, secret: str, request: Any = None
) -> SubcontractChange:
    return act_sign(
        acting_user=acting_user, item=change, party=party, certificate=certificate, secret=secret, request=request
    )


def subcontract_change_notify(*, acting_user: Any, change: SubcontractChange, request: Any = None) -> SubcontractChange:
    return act_notify(acting_user=acting_user, item=change, request=request)


# --- Order forms ----------------------------------------------------------------------------------


@transaction.atomic
def order_issue(
    *,
    acting_user: Any,
    contract: Contract,
    object: str,  # noqa: A002 - the model's field name
    amount: Any,
    delivery_on: Any = None,
    request: Any = None,
) -> OrderForm:
    """Issue order form n+1 under a framework agreement and store its PDF (signed by the buyer)."""
    contract = _lock(contract)
    _require(acting_user, contract.organisation, MANAGE)
    _require_running(contract)
    if not contract.is_framework:
        raise DomainError(
            _("Les bons de commande sont émis sur un accord-cadre à bons de commande ; ce marché n'en est pas un."),
            code="not_framework",
        )
    errors: dict[str, list[str]] = {}
    text = value = delivery = None
    try:
        text = _text(object, "object", _("Décrivez l'objet de la commande."))
    except InvalidData as invalid:
        errors.update(invalid.errors)
    try:
        value = _decimal(amount, "amount", _("Indiquez le montant de la commande en euros HT (par exemple 4 250,00)."))
        if value <= 0:
            raise InvalidData({"amount": [_("Le montant de la commande doit être supérieur à zéro.")]})
    except InvalidData as invalid:
        errors.update(invalid.errors)
    today = clock.today_local()
    try:
        delivery = _date(
            delivery_on, "delivery_on", _("Indiquez la date attendue au format AAAA-MM-JJ."), required=False
        )
        if delivery is not None and delivery < today:
            raise InvalidData(
                {"delivery_on": [_("La date de livraison ou d'exécution attendue ne peut pas être passée.")]}
            )
    except InvalidData as invalid:
        errors.update(invalid.errors)
    if errors:
        raise InvalidData(errors)
    terms = selectors.terms(contract)
    if terms.ordered + value > terms.amount:
        raise InvalidData(
            {
                "amount": [
                    _(
                        "Cette commande dépasserait le montant maximum de l'accord-cadre (%(maximum)s) : %(ordered)s sont déjà commandés, il reste %(left)s."
                    )
                    % {
                        "maximum": pdf_execution.money(terms.amount),
                        "ordered": pdf_execution.money(terms.ordered),
                        "left": pdf_execution.money(terms.available_to_order),
                    }
                ]
            }
        )
    now = clock.now()
    number = _next_number(OrderForm, contract=contract)
    with scopes_disabled():
        order = OrderForm.objects.create(
            contract=contract,
            number=number,
            object=text,
            amount=value,
            issued_on=today,
            delivery_on=delivery,
            created_at=now,
            created_by=acting_user,
        )
    pdf = pdf_execution.order_pdf(order, maximum=terms.amount, ordered_before=terms.ordered, now=now)
    document = _store(
        contract,
        kind=DocumentKind.ORDER,
        title=_("Bon de commande n° %(number)s") % {"number": number},
        pdf=pdf,
        filename=f"marche-{contract.number}-bon-de-commande-{number}.pdf",
        acting_user=acting_user,
        request=request,
    )
    with scopes_disabled():
        order.document = document
        order.save(update_fields=["document"])
    _audit(
        "contracts.order_issued",
        actor=acting_user,
        contract=contract,
        obj=order,
        data={"number": number, "amount": str(value), "ordered_after": str(terms.ordered + value)},
        request=request,
    )
    return order


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
    contract = _lock(contract)
    party = _party_of(acting_user, contract)
    _require_running(contract)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    checks = {
        "subcontractor_name": lambda: _text(
            subcontractor_name, "subcontractor_name", _("Indiquez le nom du sous-traitant."), maximum=255
        ),
        "subcontractor_siret": lambda: _siret(subcontractor_siret, contract),
        "object": lambda: _text(object, "object", _("Décrivez les prestations sous-traitées.")),
        "amount": lambda: _positive(
            amount, "amount", _("Indiquez le montant maximum sous-traité en euros HT (par exemple 15 000,00).")
        ),
        "duration_months": lambda: _integer(
            duration_months,
            "duration_months",
            _("Indiquez la durée en nombre entier de mois (au moins 1)."),
            minimum=1,
        ),
    }
    for field, check in checks.items():
        try:
            values[field] = check()
        except InvalidData as invalid:
            errors.update(invalid.errors)
    if price_variation not in PriceVariation.values:
        errors["price_variation"] = [_("Choisissez la variation des prix : ferme, actualisable ou révisable.")]
    if errors:
        raise InvalidData(errors)
    _check_room(contract, values["amount"])
    number = _next_number(Subcontract, contract=contract)
    with scopes_disabled():
        subcontract = Subcontract.objects.create(
            contract=contract,
            number=number,
            direct_payment=bool(direct_payment),
            price_variation=price_variation,
            declared_at=clock.now(),
            declared_by=acting_user,
            **values,
        )
    _audit(
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
    number = _decimal(value, field, message)
    if number <= 0:
        raise InvalidData({field: [_("Le montant doit être supérieur à zéro.")]})
    return number


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
    contract = _lock(subcontract.contract)
    _require(acting_user, contract.organisation, MANAGE)
    _require_running(contract)
    subcontract = _lock_item(subcontract)
    if subcontract.state != SubcontractState.DECLARED:
        raise DomainError(_("La décision sur ce sous-traitant est déjà prise."), code="decided")
    if decision not in (SubcontractState.ACCEPTED, SubcontractState.REFUSED):
        raise InvalidData({"decision": [_("Choisissez : sous-traitant accepté ou refusé.")]})
    text = _text(
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
        document = _store(
            contract,
            kind=DocumentKind.SUBCONTRACT,
            title=_("Acte spécial de sous-traitance n° %(number)s — %(name)s")
            % {"number": subcontract.number, "name": subcontract.subcontractor_name},
            pdf=pdf,
            filename=f"marche-{contract.number}-sous-traitance-{subcontract.number}.pdf",
            acting_user=acting_user,
            request=request,
        )
        subcontract.document = document
        with scopes_disabled():
            subcontract.save(update_fields=["document"])
    _audit(
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
    contract = _lock(subcontract.contract)
    _require(acting_user, contract.organisation, MANAGE)
    _require_running(contract)
    subcontract = _lock_item(subcontract)
    if subcontract.state != SubcontractState.ACCEPTED or subcontract.notified_at is None:
        raise DomainError(_("Seul un acte spécial accepté et notifié peut être modifié."), code="not_notified")
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    checks = {
        "object": lambda: _text(object, "object", None),
        "new_amount": lambda: _positive(
            new_amount, "new_amount", _("Indiquez le nouveau montant maximum en euros HT (par exemple 18 000,00).")
        ),
        "new_duration_months": lambda: _integer(
            new_duration_months,
            "new_duration_months",
            _("Indiquez la nouvelle durée en nombre entier de mois (au moins 1)."),
            minimum=1,
        ),
        "effective_on": lambda: _date(
            effective_on, "effective_on", _("Indiquez la date de prise d'effet (AAAA-MM-JJ).")
        ),
    }
    for field, check in checks.items():
        try:
            values[field] = check()
        except InvalidData as invalid:
            errors.update(invalid.errors)
    if errors:
        raise InvalidData(errors)
    with scopes_disabled():
        pending = SubcontractChange.objects.filter(subcontract=subcontract, notified_at__isnull=True).first()
        previous = SubcontractChange.objects.filter(subcontract=subcontract).order_by("-number").first()
    if pending is not None:
        raise DomainError(
            _("L'acte modificatif n° %(number)s est en cours : notifiez-le avant d'en préparer un autre.")
            % {"number": pending.number},
            code="change_pending",
        )
    floor = _local_day(subcontract.notified_at)
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
    number = _next_number(SubcontractChange, subcontract=subcontract)
    with scopes_disabled():
        change = SubcontractChange.objects.create(
            subcontract=subcontract, number=number, created_at=now, created_by=acting_user, **values
        )
    pdf = pdf_execution.subcontract_change_pdf(
        change, now=now, previous_amount=amount_before, previous_duration=duration_before
    )
    document = _store(
        contract,
        kind=DocumentKind.SUBCONTRACT,
        title=_("Acte modificatif n° %(number)s de la sous-traitance n° %(act)s")
        % {"number": number, "act": subcontract.number},
        pdf=pdf,
        filename=f"marche-{contract.number}-sous-traitance-{subcontract.number}-modification-{number}.pdf",
        acting_user=acting_user,
        request=request,
    )
    with scopes_disabled():
        change.document = document
        change.save(update_fields=["document"])
    _audit(
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


# --- Milestones -----------------------------------------------------------------------------------


@transaction.atomic
def milestone_set(
    *,
    acting_user: Any,
    contract: Contract,
    title: str,
    due_on: Any,
    note: str = "",
    milestone: Milestone | None = None,
    request: Any = None,
) -> Milestone:
    """Add an execution milestone (or change one: title, planned date, observations)."""
    contract = _lock(contract)
    _require(acting_user, contract.organisation, MANAGE)
    _require_running(contract)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    checks = {
        "title": lambda: _text(title, "title", _("Indiquez l'intitulé du jalon."), maximum=255),
        "due_on": lambda: _date(due_on, "due_on", _("Indiquez la date prévue (AAAA-MM-JJ).")),
        "note": lambda: _text(note, "note", None, maximum=REASON_MAX),
    }
    for field, check in checks.items():
        try:
            values[field] = check()
        except InvalidData as invalid:
            errors.update(invalid.errors)
    if errors:
        raise InvalidData(errors)
    with scopes_disabled():
        if milestone is None:
            milestone = Milestone.objects.create(contract=contract, created_at=clock.now(), **values)
        else:
            milestone = Milestone.objects.select_for_update().filter(contract=contract, pk=milestone.pk).first()
            if milestone is None:
                raise NotFound(_("Jalon introuvable."))
            for field, value in values.items():
                setattr(milestone, field, value)
            milestone.save(update_fields=list(values))
    _audit(
        "contracts.milestone_set",
        actor=acting_user,
        contract=contract,
        obj=milestone,
        data={"milestone": milestone.pk, "title": milestone.title, "due_on": milestone.due_on.isoformat()},
        request=request,
    )
    return milestone


@transaction.atomic
def milestone_done(
    *, acting_user: Any, milestone: Milestone, done_on: Any, note: str | None = None, request: Any = None
) -> Milestone:
    """Record that a milestone was reached (on a day that is not in the future)."""
    contract = _lock(milestone.contract)
    _require(acting_user, contract.organisation, MANAGE)
    _require_running(contract)
    day = _date(done_on, "done_on", _("Indiquez la date de réalisation (AAAA-MM-JJ)."))
    if day > clock.today_local():
        raise InvalidData({"done_on": [_("La date de réalisation ne peut pas être dans le futur.")]})
    notified_on = _local_day(contract.notified_at)
    if notified_on and day < notified_on:
        raise InvalidData(
            {
                "done_on": [
                    _("La date de réalisation ne peut pas précéder la notification du marché (%(date)s).")
                    % {"date": pdf_execution.day(notified_on)}
                ]
            }
        )
    with scopes_disabled():
        milestone = Milestone.objects.select_for_update().get(pk=milestone.pk)
        milestone.done_on = day
        fields = ["done_on"]
        if note is not None:
            milestone.note = _text(note, "note", None, maximum=REASON_MAX)
            fields.append("note")
        milestone.save(update_fields=fields)
    _audit(
        "contracts.milestone_set",
        actor=acting_user,
        contract=contract,
        obj=milestone,
        data={"milestone": milestone.pk, "title": milestone.title, "done_on": day.isoformat()},
        request=request,
    )
    return milestone


# --- End of the contract --------------------------------------------------------------------------


@transaction.atomic
def contract_end(
    *,
    acting_user: Any,
    contract: Contract,
    outcome: str,
    ended_on: Any = None,
    reason: str = "",
    request: Any = None,
) -> Contract:
    """End the execution ("ended") or terminate the contract ("terminated", with its reason), on
    `ended_on` (today by default; never before the notification, never in the future). The documents'
    retention periods start from that day."""
    contract = _lock(contract)
    _require(acting_user, contract.organisation, MANAGE)
    _require_running(contract)
    if outcome not in (ContractState.ENDED, ContractState.TERMINATED):
        raise InvalidData({"outcome": [_("Choisissez : exécution terminée ou marché résilié.")]})
    text = _text(
        reason,
        "reason",
        _("Indiquez le motif de la résiliation.") if outcome == ContractState.TERMINATED else None,
        maximum=REASON_MAX,
    )
    today = clock.today_local()
    day = _date(ended_on, "ended_on", _("Indiquez la date de fin (AAAA-MM-JJ)."), required=False) or today
    if day > today:
        raise InvalidData({"ended_on": [_("La date de fin ne peut pas être dans le futur.")]})
    notified_on = _local_day(contract.notified_at)
    if notified_on and day < notified_on:
        raise InvalidData(
            {
                "ended_on": [
                    _("La date de fin ne peut pas précéder la notification du marché (%(date)s).")
                    % {"date": pdf_execution.day(notified_on)}
                ]
            }
        )
    now = clock.now()
    contract.state = outcome
    contract.ended_at = now if day == today else dt.datetime.combine(day, dt.time(12, 0), tzinfo=clock.PARIS)
    contract.end_reason = text
    with scopes_disabled():
        contract.save(update_fields=["state", "ended_at", "end_reason"])
    _audit(
        "contracts.ended",
        actor=acting_user,
        contract=contract,
        obj=contract,
        data={"outcome": outcome, "ended_on": day.isoformat(), "reason": text},
        request=request,
    )
    retention.on_contract_end(contract, ended_on=day)
    return contract
