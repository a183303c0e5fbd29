"""What the rules of the execution share: the permissions and parties, the caller's right, the contract's
lock and state, the parsing of the input, the stored documents and the audit events.

Public within the package (the rule modules import them); callers outside the package use
`ebourgogne.contracts.execution`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.audit.services import log_event
from ebourgogne.contracts import documents
from ebourgogne.contracts.models import (
    Contract,
    ContractState,
    SubcontractChange,
)
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.organisations.roles import roles_grant
from ebourgogne.organisations.selectors import roles_of
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


# --- Access and small helpers ---------------------------------------------------------------------


def _roles(acting_user: Any, organisation: Any) -> set[str]:
    if acting_user is None or not getattr(acting_user, "is_authenticated", False):
        raise PermissionRefused(_("Connectez-vous pour effectuer cette action."))
    return roles_of(user=acting_user, organisation=organisation) if organisation.is_active else set()


def require(acting_user: Any, organisation: Any, permission: str) -> None:
    roles = _roles(acting_user, organisation)
    if not roles:
        raise NotFound(_("Marché introuvable."))
    if not roles_grant(roles, permission):
        raise PermissionRefused(_("Votre rôle dans cette organisation ne permet pas cette action sur le marché."))


def party_of(acting_user: Any, contract: Contract) -> str:
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


def lock_contract(contract: Contract) -> Contract:
    """The contract's row, locked until the transaction ends (one step at a time on a contract)."""
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


def require_running(contract: Contract) -> None:
    if contract.state in (ContractState.ENDED, ContractState.TERMINATED):
        raise DomainError(
            _("L'exécution de ce marché est terminée : il ne peut plus être modifié."), code="contract_ended"
        )
    if contract.state != ContractState.NOTIFIED:
        raise DomainError(
            _("Le marché n'est pas encore notifié : son exécution n'a pas commencé."), code="not_notified"
        )


def audit(action: str, *, actor: Any, contract: Contract, obj: Any, data: dict[str, Any], request: Any) -> None:
    log_event(
        action=action,
        actor=actor,
        organisation=contract.organisation,
        obj=obj,
        data={"contract": contract.number, "contract_id": contract.pk, **data},
        request=request,
    )


def parse_decimal(value: Any, field: str, message: str) -> Decimal:
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


def parse_integer(value: Any, field: str, message: str, *, minimum: int | None = None, maximum: int = 1200) -> int:
    try:
        number = int(str(value if value is not None else "").strip())
    except ValueError:
        raise InvalidData({field: [message]}) from None
    if abs(number) > maximum or (minimum is not None and number < minimum):
        raise InvalidData({field: [message]})
    return number


def parse_date(value: Any, field: str, message: str, *, required: bool = True) -> dt.date | None:
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


def parse_text(value: Any, field: str, required: str | None, *, maximum: int = TEXT_MAX) -> str:
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


def local_day(moment: dt.datetime | None) -> dt.date | None:
    return moment.astimezone(clock.PARIS).date() if moment else None


def next_number(model: Any, **filters: Any) -> int:
    with scopes_disabled():
        last = model.objects.filter(**filters).order_by("-number").values_list("number", flat=True).first()
    return (last or 0) + 1


def store_act_pdf(
    item: Any, contract: Contract, *, kind: str, title: str, pdf: bytes, filename: str, acting_user: Any, request: Any
) -> None:
    """Store the act's PDF as a document of the contract (`documents.add`) and attach it to the act."""
    item.document = documents.add(
        contract=contract,
        kind=kind,
        title=title,
        pdf=pdf,
        filename=filename,
        acting_user=acting_user,
        request=request,
    )
    with scopes_disabled():
        item.save(update_fields=["document"])


def contract_of(item: Any) -> Contract:
    return item.subcontract.contract if isinstance(item, SubcontractChange) else item.contract


def lock_act(item: Any) -> Any:
    """The act's row (modification, order form, subcontracting act or change), locked likewise."""
    with scopes_disabled():
        return type(item).objects.select_for_update(of=("self",)).get(pk=item.pk)


def checked_values(checks: dict[str, Callable[[], Any]], errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Each field's value from its check; the errors of all the fields at once (`InvalidData`, with
    `errors` found before) when one check or more refuses."""
    errors = dict(errors or {})
    values: dict[str, Any] = {}
    for field, check in checks.items():
        try:
            values[field] = check()
        except InvalidData as invalid:
            errors.update(invalid.errors)
    if errors:
        raise InvalidData(errors)
    return values
