"""The execution of a notified contract: modifications (avenants), order forms under framework
agreements, subcontracting acts and their changes, milestones, and the contract's end.

One module a rule: `modifications`, `orders`, `subcontracting`, `milestones` (and the end), `acts` (the
signatures and notification every act goes through), on `common` (the caller's right, the lock, the
parsing of the input). Callers import this package: `from ebourgogne.contracts import execution`.

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

from ebourgogne.contracts.execution.acts import (
    act_notify,
    act_sign,
    modification_notify,
    modification_sign,
    order_notify,
    order_sign,
    signed_by_all,
    signing_parties,
    subcontract_change_notify,
    subcontract_change_sign,
    subcontract_notify,
    subcontract_sign,
)
from ebourgogne.contracts.execution.common import (
    BUYER,
    HOLDER,
    HOLDER_PARTY,
    HOLDER_SIGN,
    MANAGE,
    SIGN,
    VIEW,
)
from ebourgogne.contracts.execution.milestones import (
    contract_end,
    milestone_done,
    milestone_set,
)
from ebourgogne.contracts.execution.modifications import (
    current_terms,
    modification_create,
    modification_new_holder,
)
from ebourgogne.contracts.execution.orders import (
    order_issue,
)
from ebourgogne.contracts.execution.subcontracting import (
    subcontract_change,
    subcontract_decide,
    subcontract_declare,
)

__all__ = [
    "BUYER",
    "HOLDER",
    "HOLDER_PARTY",
    "HOLDER_SIGN",
    "MANAGE",
    "SIGN",
    "VIEW",
    "act_notify",
    "act_sign",
    "contract_end",
    "current_terms",
    "milestone_done",
    "milestone_set",
    "modification_create",
    "modification_new_holder",
    "modification_notify",
    "modification_sign",
    "order_issue",
    "order_notify",
    "order_sign",
    "signed_by_all",
    "signing_parties",
    "subcontract_change",
    "subcontract_change_notify",
    "subcontract_change_sign",
    "subcontract_decide",
    "subcontract_declare",
    "subcontract_notify",
    "subcontract_sign",
]
