"""Every change to a buyer's commissions and their members (permission `commissions.manage`).

- `commission_create` / `commission_update`: name, kind, opening threshold k (1 to 20), escrow holder (a
  member of the buyer), default commission (one per buyer: choosing one unsets the other), policy after the
  opening (keep the opening key or erase it).
- `member_add` / `member_remove`: a person of the buyer seated with a voice, a seat, president or not and
  the dates of the mandate. Removing a member does not take back the shares they already hold (the keys of
  published consultations do not change); they receive none for later publications.

Each refusal raises `DomainError` (`InvalidData` with messages per field) with a translated message.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.audit.services import log_event
from ebourgogne.commissions.models import (
    DEFAULT_CONVOCATION_DELAY_DAYS,
    Commission,
    CommissionKind,
    CommissionMember,
    Seat,
    Voice,
)
from ebourgogne.core.errors import NotFound, PermissionRefused
from ebourgogne.organisations.models import Membership, Organisation
from ebourgogne.organisations.roles import OrganisationKind, roles_grant
from ebourgogne.organisations.selectors import roles_of
from ebourgogne.organisations.services import InvalidData

MANAGE = "commissions.manage"
MAX_THRESHOLD = 20
MAX_CONVOCATION_DELAY_DAYS = 60
NAME_MAX_LENGTH = 200


def _require(acting_user: Any, organisation: Organisation) -> None:
    if acting_user is None or not getattr(acting_user, "is_authenticated", False):
        raise PermissionRefused(_("Connectez-vous pour effectuer cette action."))
    roles = roles_of(user=acting_user, organisation=organisation) if organisation.is_active else set()
    if not roles:
        raise NotFound(_("Organisation introuvable."))
    if not roles_grant(roles, MANAGE):
        raise PermissionRefused(_("Votre rôle dans cette organisation ne permet pas de gérer ses commissions."))
    if organisation.kind != OrganisationKind.BUYER:
        raise NotFound(_("Seuls les acheteurs ont des commissions."))


def _is_member_of(organisation: Organisation, user: Any) -> bool:
    if user is None or not getattr(user, "pk", None):
        return False
    with scopes_disabled():
        return Membership.objects.filter(organisation=organisation, user=user).exists()


def _clean(organisation: Organisation, data: dict[str, Any], *, current: Commission | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors.setdefault("name", []).append(_("Donnez un nom à la commission."))
    elif len(name) > NAME_MAX_LENGTH:
        errors.setdefault("name", []).append(_("Le nom ne peut pas dépasser 200 caractères."))
    cleaned["name"] = name
    kind = data.get("kind") or CommissionKind.CAO
    if kind not in CommissionKind.values:
        errors.setdefault("kind", []).append(_("Choisissez une nature de commission de la liste."))
    cleaned["kind"] = kind
    try:
        threshold = int(data.get("opening_threshold"))
    except (TypeError, ValueError):
        threshold = 0
    if not 1 <= threshold <= MAX_THRESHOLD:
        errors.setdefault("opening_threshold", []).append(
            _("Le nombre de membres nécessaires à l'ouverture doit être compris entre 1 et %(max)d.")
            % {"max": MAX_THRESHOLD}
        )
    cleaned["opening_threshold"] = threshold
    escrow = data.get("escrow_holder")
    if escrow is not None and not _is_member_of(organisation, escrow):
        errors.setdefault("escrow_holder", []).append(
            _("Le détenteur de la part de secours doit être membre de l'organisation.")
        )
    cleaned["escrow_holder"] = escrow
    cleaned["is_default"] = bool(data.get("is_default"))
    cleaned["keep_identity_after_opening"] = bool(data.get("keep_identity_after_opening"))
    # Convocations of the commission's meetings (meetings.delays): clear days; left out = unchanged.
    delay = data.get("convocation_delay_days")
    if delay is None or delay == "":
        delay = current.convocation_delay_days if current is not None else DEFAULT_CONVOCATION_DELAY_DAYS
    try:
        delay = int(delay)
    except (TypeError, ValueError):
        delay = -1
    if not 1 <= delay <= MAX_CONVOCATION_DELAY_DAYS:
        errors.setdefault("convocation_delay_days", []).append(
            _("Le délai de convocation doit être compris entre 1 et %(max)d jours francs.")
            % {"max": MAX_CONVOCATION_DELAY_DAYS}
        )
    cleaned["convocation_delay_days"] = delay
    if errors:
        raise InvalidData(errors)
    return cleaned


def _duplicate_name() -> InvalidData:
    return InvalidData({"name": [_("Une autre commission de l'acheteur porte déjà ce nom.")]})


def _audit(action: str, *, actor: Any, commission: Commission, data: dict[str, Any], request: Any) -> None:
    log_event(
        action=action, actor=actor, organisation=commission.organisation, obj=commission, data=data, request=request
    )


@transaction.atomic
def commission_create(*, acting_user: Any, organisation: Organisation, request: Any = None, **data: Any) -> Commission:
    _require(acting_user, organisation)
    cleaned = _clean(organisation, data, current=None)
    with scopes_disabled():
        if cleaned["is_default"]:
            Commission.objects.filter(organisation=organisation, is_default=True).update(is_default=False)
        try:
            with transaction.atomic():
                commission = Commission.objects.create(organisation=organisation, **cleaned)
        except IntegrityError:
            raise _duplicate_name() from None
    _audit(
        "commission.created",
        actor=acting_user,
        commission=commission,
        data=editable_fields(commission),
        request=request,
    )
    return commission


@transaction.atomic
def commission_update(*, acting_user: Any, commission: Commission, request: Any = None, **data: Any) -> Commission:
    organisation = commission.organisation
    _require(acting_user, organisation)
    with scopes_disabled():
        commission = Commission.objects.select_for_update().get(pk=commission.pk)
    cleaned = _clean(organisation, data, current=commission)
    before = editable_fields(commission)
    with scopes_disabled():
        if cleaned["is_default"] and not commission.is_default:
            Commission.objects.filter(organisation=organisation, is_default=True).update(is_default=False)
        for name, value in cleaned.items():
            setattr(commission, name, value)
        try:
            with transaction.atomic():
                commission.save()
        except IntegrityError:
            raise _duplicate_name() from None
    after = editable_fields(commission)
    changes = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    if changes:
        _audit("commission.updated", actor=acting_user, commission=commission, data=changes, request=request)
    return commission


def editable_fields(commission: Commission) -> dict[str, Any]:
    """The fields a buyer admin edits, as stored: the audit events' before/after and the edit form's initial."""
    return {
        "name": commission.name,
        "kind": commission.kind,
        "opening_threshold": commission.opening_threshold,
        "escrow_holder": commission.escrow_holder_id,
        "is_default": commission.is_default,
        "keep_identity_after_opening": commission.keep_identity_after_opening,
        "convocation_delay_days": commission.convocation_delay_days,
    }


@transaction.atomic
def member_add(
    *,
    acting_user: Any,
    commission: Commission,
    user: Any,
    voice: str = Voice.DELIBERATIVE,
    seat: str = Seat.TITULAR,
    is_president: bool = False,
    mandate_start: dt.date | None = None,
    mandate_end: dt.date | None = None,
    request: Any = None,
) -> CommissionMember:
    organisation = commission.organisation
    _require(acting_user, organisation)
    errors: dict[str, list[str]] = {}
    if not _is_member_of(organisation, user):
        errors["user"] = [_("Choisissez une personne membre de l'organisation.")]
    if voice not in Voice.values:
        errors["voice"] = [_("Choisissez une voix de la liste.")]
    if seat not in Seat.values:
        errors["seat"] = [_("Choisissez un siège de la liste.")]
    if mandate_start and mandate_end and mandate_end < mandate_start:
        errors["mandate_end"] = [_("La fin du mandat ne peut pas précéder son début.")]
    if errors:
        raise InvalidData(errors)
    with scopes_disabled():
        if is_president:
            CommissionMember.objects.filter(commission=commission, is_president=True).update(is_president=False)
        try:
            with transaction.atomic():
                member = CommissionMember.objects.create(
                    commission=commission,
                    user=user,
                    voice=voice,
                    seat=seat,
                    is_president=bool(is_president),
                    mandate_start=mandate_start,
                    mandate_end=mandate_end,
                )
        except IntegrityError:
            raise InvalidData({"user": [_("Cette personne siège déjà dans la commission.")]}) from None
    _audit(
        "commission.member.added",
        actor=acting_user,
        commission=commission,
        data={
            "user": user.pk,
            "email": user.email,
            "voice": voice,
            "seat": seat,
            "is_president": bool(is_president),
            "mandate_start": mandate_start.isoformat() if mandate_start else None,
            "mandate_end": mandate_end.isoformat() if mandate_end else None,
        },
        request=request,
    )
    return member


@transaction.atomic
def member_remove(*, acting_user: Any, commission: Commission, member_id: int, request: Any = None) -> None:
    organisation = commission.organisation
    _require(acting_user, organisation)
    with scopes_disabled():
        member = CommissionMember.objects.select_related("user").filter(commission=commission, pk=member_id).first()
        if member is None:
            raise NotFound(_("Ce membre ne siège pas dans la commission."))
        member.delete()
    _audit(
        "commission.member.removed",
        actor=acting_user,
        commission=commission,
        data={"user": member.user_id, "email": member.user.email},
        request=request,
    )
