"""Milestones of the execution and the contract's end (ended or terminated)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.contracts import pdf_execution, retention
from ebourgogne.contracts.execution.common import (
    MANAGE,
    REASON_MAX,
    audit,
    checked_values,
    local_day,
    lock_contract,
    parse_date,
    parse_text,
    require,
    require_running,
)
from ebourgogne.contracts.models import (
    Contract,
    ContractState,
    Milestone,
)
from ebourgogne.core import clock
from ebourgogne.core.errors import NotFound
from ebourgogne.organisations.services import InvalidData


def _past_day(contract: Contract, day: dt.date, field: str, *, future: str, before: str) -> dt.date:
    """`day` when it is neither in the future nor before the contract's notification (`before` names the
    notification's date as %(date)s)."""
    if day > clock.today_local():
        raise InvalidData({field: [future]})
    notified_on = local_day(contract.notified_at)
    if notified_on and day < notified_on:
        raise InvalidData({field: [before % {"date": pdf_execution.day(notified_on)}]})
    return day


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
    contract = lock_contract(contract)
    require(acting_user, contract.organisation, MANAGE)
    require_running(contract)
    values = checked_values(
        {
            "title": lambda: parse_text(title, "title", _("Indiquez l'intitulé du jalon."), maximum=255),
            "due_on": lambda: parse_date(due_on, "due_on", _("Indiquez la date prévue (AAAA-MM-JJ).")),
            "note": lambda: parse_text(note, "note", None, maximum=REASON_MAX),
        }
    )
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
    audit(
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
    contract = lock_contract(milestone.contract)
    require(acting_user, contract.organisation, MANAGE)
    require_running(contract)
    day = _past_day(
        contract,
        parse_date(done_on, "done_on", _("Indiquez la date de réalisation (AAAA-MM-JJ).")),
        "done_on",
        future=_("La date de réalisation ne peut pas être dans le futur."),
        before=_("La date de réalisation ne peut pas précéder la notification du marché (%(date)s)."),
    )
    with scopes_disabled():
        milestone = Milestone.objects.select_for_update().get(pk=milestone.pk)
        milestone.done_on = day
        fields = ["done_on"]
        if note is not None:
            milestone.note = parse_text(note, "note", None, maximum=REASON_MAX)
            fields.append("note")
        milestone.save(update_fields=fields)
    audit(
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
    contract = lock_contract(contract)
    require(acting_user, contract.organisation, MANAGE)
    require_running(contract)
    if outcome not in (ContractState.ENDED, ContractState.TERMINATED):
        raise InvalidData({"outcome": [_("Choisissez : exécution terminée ou marché résilié.")]})
    text = parse_text(
        reason,
        "reason",
        _("Indiquez le motif de la résiliation.") if outcome == ContractState.TERMINATED else None,
        maximum=REASON_MAX,
    )
    today = clock.today_local()
    day = _past_day(
        contract,
        parse_date(ended_on, "ended_on", _("Indiquez la date de fin (AAAA-MM-JJ)."), required=False) or today,
        "ended_on",
        future=_("La date de fin ne peut pas être dans le futur."),
        before=_("La date de fin ne peut pas précéder la notification du marché (%(date)s)."),
    )
    now = clock.now()
    contract.state = outcome
    contract.ended_at = now if day == today else dt.datetime.combine(day, dt.time(12, 0), tzinfo=clock.PARIS)
    contract.end_reason = text
    with scopes_disabled():
        contract.save(update_fields=["state", "ended_at", "end_reason"])
    audit(
        "contracts.ended",
        actor=acting_user,
        contract=contract,
        obj=contract,
        data={"outcome": outcome, "ended_on": day.isoformat(), "reason": text},
        request=request,
    )
    retention.on_contract_end(contract, ended_on=day)
    return contract
