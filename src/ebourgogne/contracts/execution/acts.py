"""Signing and notifying an act of the execution (modification, order form, subcontracting act and its
changes): who signs each kind, the signatures, the notification to the holder and the DECP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.awards.models import LetterKind
from ebourgogne.contracts import decp, documents
from ebourgogne.contracts.execution.common import (
    BUYER,
    HOLDER_PARTY,
    HOLDER_SIGN,
    MANAGE,
    SIGN,
    contract_of,
    lock_act,
    lock_contract,
    require,
    require_running,
)
from ebourgogne.contracts.models import (
    ChangeState,
    Modification,
    OrderForm,
    Subcontract,
    SubcontractChange,
    SubcontractState,
)
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError

# --- Signing and notifying an act -----------------------------------------------------------------

# What each kind of act needs: the parties that sign it, the letter that notifies it.
_ACTS: dict[type, dict[str, Any]] = {
    Modification: {"parties": (BUYER, HOLDER_PARTY), "letter": LetterKind.MODIFICATION},
    OrderForm: {"parties": (BUYER,), "letter": LetterKind.ORDER},
    Subcontract: {"parties": (HOLDER_PARTY, BUYER), "letter": LetterKind.SUBCONTRACT},
    SubcontractChange: {"parties": (HOLDER_PARTY, BUYER), "letter": LetterKind.SUBCONTRACT},
}


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
    contract = lock_contract(contract_of(item))
    if party == BUYER:
        require(acting_user, contract.organisation, SIGN)
    elif party == HOLDER_PARTY:
        require(acting_user, contract.holder, HOLDER_SIGN)
    else:
        raise DomainError(_("Partie signataire inconnue."), code="invalid")
    require_running(contract)
    item = lock_act(item)
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
    contract = lock_contract(contract_of(item))
    require(acting_user, contract.organisation, MANAGE)
    require_running(contract)
    item = lock_act(item)
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


def _for_kind(step: Callable[..., Any], keyword: str, **fixed: Any) -> Callable[..., Any]:
    """`step` (act_sign or act_notify) for one kind of act, the act given by its own keyword."""

    def for_kind(*, acting_user: Any, request: Any = None, **given: Any) -> Any:
        if keyword not in given:
            raise TypeError(f"{keyword}=... is required")
        item = given.pop(keyword)
        return step(acting_user=acting_user, item=item, request=request, **fixed, **given)

    for_kind.__name__ = for_kind.__qualname__ = f"{keyword}_{step.__name__.removeprefix('act_')}"
    for_kind.__doc__ = f"`{step.__name__}` for the act given as `{keyword}`."
    return for_kind


# The same steps by kind of act (modification_sign(acting_user=..., modification=..., party=...), ...);
# an order form is signed by the buyer alone.
modification_sign = _for_kind(act_sign, "modification")
modification_notify = _for_kind(act_notify, "modification")
order_sign = _for_kind(act_sign, "order", party=BUYER)
order_notify = _for_kind(act_notify, "order")
subcontract_sign = _for_kind(act_sign, "subcontract")
subcontract_notify = _for_kind(act_notify, "subcontract")
subcontract_change_sign = _for_kind(act_sign, "change")
subcontract_change_notify = _for_kind(act_notify, "change")
