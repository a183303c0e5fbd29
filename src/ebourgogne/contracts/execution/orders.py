"""Order forms (bons de commande) under a framework agreement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.contracts import execution_selectors as selectors
from ebourgogne.contracts import pdf_execution
from ebourgogne.contracts.execution.common import (
    MANAGE,
    audit,
    checked_values,
    lock_contract,
    next_number,
    parse_date,
    parse_decimal,
    parse_text,
    require,
    require_running,
    store_act_pdf,
)
from ebourgogne.contracts.models import (
    Contract,
    DocumentKind,
    OrderForm,
)
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError
from ebourgogne.organisations.services import InvalidData

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
    contract = lock_contract(contract)
    require(acting_user, contract.organisation, MANAGE)
    require_running(contract)
    if not contract.is_framework:
        raise DomainError(
            _("Les bons de commande sont émis sur un accord-cadre à bons de commande ; ce marché n'en est pas un."),
            code="not_framework",
        )
    today = clock.today_local()

    def positive_amount() -> Decimal:
        value = parse_decimal(
            amount, "amount", _("Indiquez le montant de la commande en euros HT (par exemple 4 250,00).")
        )
        if value <= 0:
            raise InvalidData({"amount": [_("Le montant de la commande doit être supérieur à zéro.")]})
        return value

    def delivery_day() -> dt.date | None:
        delivery = parse_date(
            delivery_on, "delivery_on", _("Indiquez la date attendue au format AAAA-MM-JJ."), required=False
        )
        if delivery is not None and delivery < today:
            raise InvalidData(
                {"delivery_on": [_("La date de livraison ou d'exécution attendue ne peut pas être passée.")]}
            )
        return delivery

    values = checked_values(
        {
            "object": lambda: parse_text(object, "object", _("Décrivez l'objet de la commande.")),
            "amount": positive_amount,
            "delivery_on": delivery_day,
        }
    )
    text, value, delivery = values["object"], values["amount"], values["delivery_on"]
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
    number = next_number(OrderForm, contract=contract)
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
    store_act_pdf(
        order,
        contract,
        kind=DocumentKind.ORDER,
        title=_("Bon de commande n° %(number)s") % {"number": number},
        pdf=pdf,
        filename=f"marche-{contract.number}-bon-de-commande-{number}.pdf",
        acting_user=acting_user,
        request=request,
    )
    audit(
        "contracts.order_issued",
        actor=acting_user,
        contract=contract,
        obj=order,
        data={"number": number, "amount": str(value), "ordered_after": str(terms.ordered + value)},
        request=request,
    )
    return order
