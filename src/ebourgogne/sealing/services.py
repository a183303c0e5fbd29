"""Every change to opening keys.

Personal keys (a person's own, under /compte/cle-ouverture/):
- `personal_key_create`: an age X25519 identity sealed with the person's passphrase (age scrypt, at least
  12 characters). `replace_lost=True` retires a forgotten key: the shares it held stay unreadable (that is
  what the k of n slack is for) and a new key receives the shares of later consultations.
- `personal_key_rotate`: the old passphrase opens the old key; every share the person holds is re-encrypted
  to the new key, the old key is retired. A wrong old passphrase changes nothing.

Consultation keys:
- `create_consultation_key`: at publication (`consultations.services.consultation_publish`, same
  transaction). The holders are the opening commission's deliberative members with a current mandate and an
  active personal key, plus the commission's escrow holder (one share) when they hold a key. The identity is
  generated, split k of n, each share encrypted to its holder's personal recipient, and then dropped: it is
  written nowhere (database, logs, files). From then on the platform alone cannot decrypt a bid.
- `rebuild_identity`: after the bid deadline, k holders' passphrases rebuild the identity in memory, with
  every check first (deadline, k distinct holders, each passphrase, each share's envelope, the rebuilt
  identity's recipient); the refused attempts and the success are audit events (never a passphrase).
- `after_opening`: the buyer's policy (`Commission.keep_identity_after_opening`): keep the identity
  encrypted with the platform key (SECRET_KEY), or erase it.

Each refusal raises `DomainError` (or `PermissionRefused` / `NotFound`) with a translated message.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.audit.services import log_event
from ebourgogne.commissions.models import Commission, CommissionMember, Voice
from ebourgogne.core import clock
from ebourgogne.core.clock import PARIS
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.organisations.roles import roles_grant
from ebourgogne.organisations.selectors import roles_of
from ebourgogne.sealing import crypto
from ebourgogne.sealing.models import ConsultationKey, KeyShare, KeyState, PersonalKey

logger = logging.getLogger("ebourgogne.sealing")

PASSPHRASE_MIN_LENGTH = 12
PASSPHRASE_MAX_LENGTH = 1024
OPEN = "bids.open"


def work_factor() -> int:
    """The age scrypt work factor (log2 N) for new personal keys: 18 in production (about a second per
    encryption and per decryption), lower in the test settings."""
    return int(getattr(settings, "SEALING_SCRYPT_WORK_FACTOR", crypto.PRODUCTION_WORK_FACTOR))


# --- Helpers ----------------------------------------------------------------------------------------


def _require_signed_in(user: Any) -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionRefused(_("Connectez-vous pour effectuer cette action."))


def _check_passphrase(passphrase: Any, *, field_name: str | None = None) -> str:
    value = passphrase if isinstance(passphrase, str) else ""
    if len(value) < PASSPHRASE_MIN_LENGTH:
        raise DomainError(
            _("La phrase secrète doit compter au moins %(min)d caractères.") % {"min": PASSPHRASE_MIN_LENGTH},
            code="weak_passphrase",
        )
    if len(value) > PASSPHRASE_MAX_LENGTH:
        raise DomainError(
            _("La phrase secrète ne peut pas dépasser %(max)d caractères.") % {"max": PASSPHRASE_MAX_LENGTH},
            code="invalid",
        )
    if "\x00" in value:
        raise DomainError(_("La phrase secrète contient un caractère non autorisé."), code="invalid")
    return value


def active_key(user: Any) -> PersonalKey | None:
    if user is None or not getattr(user, "pk", None):
        return None
    return PersonalKey.objects.filter(user=user, retired_at__isnull=True).first()


def _seal_identity(identity: str, passphrase: str, *, factor: int | None = None) -> bytes:
    return crypto.passphrase_encrypt(identity.encode("ascii"), passphrase, work_factor=factor or work_factor())


def _open_personal_key(key: PersonalKey, passphrase: str) -> str | None:
    """The personal identity, or None when the passphrase does not open it."""
    try:
        return crypto.passphrase_decrypt(bytes(key.sealed_identity), passphrase).decode("ascii")
    except (crypto.SealingCryptoError, UnicodeDecodeError):
        return None


# --- Personal keys ----------------------------------------------------------------------------------


@transaction.atomic
def personal_key_create(
    *,
    user: Any,
    passphrase: str,
    replace_lost: bool = False,
    request: Any = None,
    scrypt_work_factor: int | None = None,
) -> PersonalKey:
    """Set up the person's opening key, protected by `passphrase` (never stored). `scrypt_work_factor`
    overrides the setting: for the demo data only, whose passphrase is public anyway."""
    _require_signed_in(user)
    passphrase = _check_passphrase(passphrase)
    current = PersonalKey.objects.select_for_update().filter(user=user, retired_at__isnull=True).first()
    lost_shares = 0
    if current is not None:
        if not replace_lost:
            raise DomainError(
                _("Vous avez déjà une clé d'ouverture. Pour changer de phrase secrète, utilisez « Changer ma clé »."),
                code="key_exists",
            )
        lost_shares = current.shares.count()
        current.retired_at = clock.now()
        current.save(update_fields=["retired_at"])
    identity = crypto.new_identity()
    try:
        key = PersonalKey.objects.create(
            user=user,
            recipient=crypto.recipient_of(identity),
            sealed_identity=_seal_identity(identity, passphrase, factor=scrypt_work_factor),
        )
    except IntegrityError as error:  # another request created one at the same moment
        raise DomainError(_("Vous avez déjà une clé d'ouverture."), code="key_exists") from error
    del identity
    log_event(
        action="sealing.personal_key.replaced_lost" if current is not None else "sealing.personal_key.created",
        actor=user,
        obj=key,
        data={"recipient": key.recipient, "shares_left_unreadable": lost_shares}
        if current
        else {"recipient": key.recipient},
        request=request,
    )
    return key


@transaction.atomic
def personal_key_rotate(*, user: Any, old_passphrase: str, new_passphrase: str, request: Any = None) -> PersonalKey:
    """Replace the person's key by a new one under `new_passphrase`; every share they hold follows."""
    _require_signed_in(user)
    old = PersonalKey.objects.select_for_update().filter(user=user, retired_at__isnull=True).first()
    if old is None:
        raise DomainError(_("Vous n'avez pas encore de clé d'ouverture."), code="no_key")
    old_identity = _open_personal_key(old, old_passphrase if isinstance(old_passphrase, str) else "")
    if old_identity is None:
        raise DomainError(
            _("La phrase secrète actuelle est incorrecte. Rien n'a été modifié."), code="wrong_passphrase"
        )
    new_passphrase = _check_passphrase(new_passphrase)
    identity = crypto.new_identity()
    new_recipient = crypto.recipient_of(identity)
    old.retired_at = clock.now()
    old.save(update_fields=["retired_at"])
    key = PersonalKey.objects.create(
        user=user, recipient=new_recipient, sealed_identity=_seal_identity(identity, new_passphrase)
    )
    del identity
    moved = 0
    with scopes_disabled():
        shares = list(KeyShare.objects.select_for_update().filter(personal_key=old))
    for share in shares:
        try:
            plain = crypto.decrypt_with(old_identity, bytes(share.sealed_share))
        except crypto.SealingCryptoError:
            logger.warning("share %s could not be re-encrypted during a key rotation", share.pk)
            continue  # a damaged share stays as it is (tied to the retired key); the rebuild reports it
        share.sealed_share = crypto.encrypt_to(new_recipient, plain)
        share.personal_key = key
        share.save(update_fields=["sealed_share", "personal_key"])
        moved += 1
    del old_identity
    log_event(
        action="sealing.personal_key.rotated",
        actor=user,
        obj=key,
        data={"recipient": key.recipient, "previous_recipient": old.recipient, "shares_moved": moved},
        request=request,
    )
    return key


# --- Consultation keys: who holds the shares --------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    user: Any
    personal_key: PersonalKey
    is_escrow: bool


def opening_commission(consultation: Any) -> Commission | None:
    """The consultation's opening commission: its own, or the buyer's active default commission."""
    with scopes_disabled():
        if consultation.commission_id:
            return Commission.objects.filter(pk=consultation.commission_id).first()
        return (
            Commission.objects.filter(organisation_id=consultation.organisation_id, is_default=True, is_active=True)
            .order_by("id")
            .first()
        )


def _people_of_buyer(commission: Commission) -> set[int]:
    """Who still belongs to the commission's buyer (someone who left it holds no new share)."""
    from ebourgogne.organisations.models import Membership

    with scopes_disabled():
        return set(
            Membership.objects.filter(organisation_id=commission.organisation_id).values_list("user_id", flat=True)
        )


def current_members(commission: Commission, *, on: dt.date | None = None):
    """The commission's members with a deliberative voice whose mandate covers `on` (today in Paris), who
    still belong to the buyer and whose account is active."""
    day = on or clock.now().astimezone(PARIS).date()
    people = _people_of_buyer(commission)
    with scopes_disabled():
        return [
            member
            for member in CommissionMember.objects.filter(
                commission=commission, voice=Voice.DELIBERATIVE, user_id__in=people
            )
            .select_related("user")
            .order_by("id")
            if (member.mandate_start is None or member.mandate_start <= day)
            and (member.mandate_end is None or day <= member.mandate_end)
            and member.user.is_active
        ]


def key_holders(commission: Commission, *, on: dt.date | None = None) -> list[Holder]:
    """Who would receive a share if a consultation of this commission were published now: the current
    deliberative members holding an active personal key, then the escrow holder (if they hold a key and
    are not already a holder as a member)."""
    members = current_members(commission, on=on)
    user_ids = {member.user_id for member in members}
    escrow_id = commission.escrow_holder_id
    if escrow_id and (not commission.escrow_holder.is_active or escrow_id not in _people_of_buyer(commission)):
        escrow_id = None
    if escrow_id:
        user_ids.add(escrow_id)
    keys = {key.user_id: key for key in PersonalKey.objects.filter(user_id__in=user_ids, retired_at__isnull=True)}
    holders = [Holder(member.user, keys[member.user_id], False) for member in members if member.user_id in keys]
    held = {holder.user.pk for holder in holders}
    if escrow_id and escrow_id in keys and escrow_id not in held:
        holders.append(Holder(commission.escrow_holder, keys[escrow_id], True))
    return holders


def opening_key_problem(consultation: Any) -> str | None:
    """Why the consultation could not get an opening key now (shown before publishing), or None."""
    if consultation.is_practice:
        return None
    commission = opening_commission(consultation)
    if commission is None:
        return _(
            "Choisissez la commission d'ouverture des plis (ou désignez une commission par défaut) : ses membres "
            "détiendront les parts de la clé d'ouverture."
        )
    if not commission.is_active:
        return _("La commission « %(name)s » n'est plus active : choisissez-en une autre.") % {"name": commission.name}
    holders = key_holders(commission)
    if len(holders) < commission.opening_threshold:
        return _(
            "La commission « %(name)s » exige %(k)d membres pour ouvrir les plis, mais seuls %(n)d de ses membres "
            "(voix délibérative, mandat en cours) ont créé leur clé d'ouverture personnelle. Demandez aux membres "
            "de créer leur clé, ou ajoutez des membres."
        ) % {"name": commission.name, "k": commission.opening_threshold, "n": len(holders)}
    return None


def create_consultation_key(consultation: Any, *, acting_user: Any = None, request: Any = None) -> ConsultationKey:
    """Make the consultation's opening key at publication (call inside the publication's transaction).

    The identity lives only in this function's memory: it is split, each share encrypted to its holder,
    and the variable is dropped. Python cannot wipe a string's memory; it is never written anywhere."""
    if ConsultationKey.objects.filter(consultation=consultation).exists():
        raise DomainError(_("Cette consultation a déjà une clé d'ouverture."), code="key_exists")
    if consultation.is_practice:
        return _create_practice_key(consultation)
    problem = opening_key_problem(consultation)
    if problem:
        raise DomainError(problem, code="commission")
    commission = opening_commission(consultation)
    assert commission is not None  # opening_key_problem said so
    if consultation.commission_id != commission.pk:
        consultation.commission = commission
        with scopes_disabled():
            type(consultation).objects.filter(pk=consultation.pk).update(commission=commission)
    holders = key_holders(commission)
    threshold = commission.opening_threshold
    identity = crypto.new_identity()
    recipient = crypto.recipient_of(identity)
    key_fingerprint = crypto.fingerprint(recipient)
    pieces = crypto.split(identity.encode("ascii"), len(holders), threshold)
    del identity
    key = ConsultationKey.objects.create(
        consultation=consultation,
        recipient=recipient,
        fingerprint=key_fingerprint,
        threshold=threshold,
        share_count=len(holders),
        commission=commission,
        state=KeyState.SEALED,
    )
    KeyShare.objects.bulk_create(
        [
            KeyShare(
                consultation_key=key,
                holder=holder.user,
                personal_key=holder.personal_key,
                index=x,
                is_escrow=holder.is_escrow,
                sealed_share=crypto.encrypt_to(
                    holder.personal_key.recipient,
                    crypto.pack_share(x=x, y=y, threshold=threshold, key_fingerprint=key_fingerprint),
                ),
            )
            for holder, (x, y) in zip(holders, pieces, strict=True)
        ]
    )
    del pieces
    log_event(
        action="sealing.consultation_key.created",
        actor=acting_user,
        organisation=consultation.organisation,
        obj=key,
        data={
            "recipient": recipient,
            "fingerprint": key_fingerprint,
            "threshold": threshold,
            "share_count": len(holders),
            "commission": commission.pk,
            "holders": [holder.user.pk for holder in holders],
            "escrow": any(holder.is_escrow for holder in holders),
        },
        request=request,
    )
    return key


def _create_practice_key(consultation: Any) -> ConsultationKey:
    """The practice consultation's key: a training key kept by the platform from the start (its bids are
    practice bids, opened by the mock opening), marked `is_practice`."""
    identity = crypto.new_identity()
    recipient = crypto.recipient_of(identity)
    key = ConsultationKey.objects.create(
        consultation=consultation,
        recipient=recipient,
        fingerprint=crypto.fingerprint(recipient),
        threshold=0,
        share_count=0,
        state=KeyState.RETAINED,
        is_practice=True,
    )
    key.retained_identity = crypto.platform_seal(identity, secret_key=settings.SECRET_KEY, context=_context(key))
    key.save(update_fields=["retained_identity"])
    return key


def _context(key: ConsultationKey) -> bytes:
    return f"consultation-key:{key.pk}:{key.fingerprint}".encode("ascii")


# --- Opening ----------------------------------------------------------------------------------------


def _refuse(message: str, *, code: str, consultation: Any, acting_user: Any, request: Any, data: dict) -> None:
    """Record a refused rebuild (in its own transaction when the caller has none) and raise."""
    log_event(
        action="sealing.rebuild.refused",
        actor=acting_user,
        organisation=consultation.organisation,
        obj=consultation,
        data={"reason": code, **data},
        request=request,
    )
    raise DomainError(message, code=code)


def rebuild_identity(
    *, consultation: Any, contributions: list[tuple[Any, str]], acting_user: Any, request: Any = None
) -> str:
    """The consultation's AGE-SECRET-KEY-1... identity, rebuilt in memory from k holders' shares.

    `contributions`: (holder, passphrase) pairs. Refused, with nothing decrypted and an audit event: before
    the bid deadline (to the second), fewer than k distinct holders, someone who holds no share, a wrong
    passphrase (the member is named), a tampered share or a wrong combination. The caller keeps the string
    in memory only, and calls `after_opening` when done."""
    _require_signed_in(acting_user)
    with scopes_disabled():
        consultation = type(consultation).objects.select_related("organisation").get(pk=consultation.pk)
    roles = roles_of(user=acting_user, organisation=consultation.organisation)
    if not roles:
        raise NotFound(_("Consultation introuvable."))
    if not roles_grant(roles, OPEN):
        raise PermissionRefused(_("Votre rôle dans cette organisation ne permet pas d'ouvrir les plis."))
    key = ConsultationKey.objects.filter(consultation=consultation).first()
    if key is None:
        raise NotFound(_("Cette consultation n'a pas de clé d'ouverture."))
    refuse = {"consultation": consultation, "acting_user": acting_user, "request": request}
    members = sorted({getattr(user, "pk", None) for user, _ in contributions if user is not None} - {None})
    log_event(
        action="sealing.rebuild.attempted",
        actor=acting_user,
        organisation=consultation.organisation,
        obj=consultation,
        data={"members": members, "fingerprint": key.fingerprint},
        request=request,
    )
    if not consultation.deadline_passed:
        _refuse(
            _("Les plis ne peuvent pas être ouverts avant la date limite de remise des plis."),
            code="before_deadline",
            data={"members": members},
            **refuse,
        )
    with scopes_disabled():
        shares = {share.holder_id: share for share in key.shares.select_related("holder", "personal_key")}
    passphrases: dict[int, str] = {}
    strangers = []
    for user, passphrase in contributions:
        pk = getattr(user, "pk", None)
        if pk not in shares:
            strangers.append(str(user))
            continue
        passphrases.setdefault(pk, passphrase if isinstance(passphrase, str) else "")
    if strangers:
        _refuse(
            _("%(names)s ne détient pas de part de la clé d'ouverture de cette consultation.")
            % {"names": ", ".join(strangers)},
            code="not_a_holder",
            data={"members": members},
            **refuse,
        )
    if len(passphrases) < key.threshold:
        _refuse(
            _(
                "Il faut les phrases secrètes de %(k)d membres différents pour ouvrir les plis ; %(given)d ont été "
                "données."
            )
            % {"k": key.threshold, "given": len(passphrases)},
            code="too_few",
            data={"members": members},
            **refuse,
        )
    opened: list[tuple[int, bytes]] = []
    for pk, passphrase in passphrases.items():
        share = shares[pk]
        personal = _open_personal_key(share.personal_key, passphrase)
        if personal is None and share.personal_key.retired_at is not None:
            _refuse(
                _(
                    "La part de %(name)s est liée à une clé personnelle remplacée après sa perte : elle ne peut plus "
                    "servir. Aucun pli n'a été déchiffré ; il faut les phrases secrètes d'autres membres."
                )
                % {"name": share.holder.full_name or share.holder.email},
                code="lost_share",
                data={"members": members, "member": pk},
                **refuse,
            )
        if personal is None:
            _refuse(
                _("La phrase secrète de %(name)s est incorrecte. Aucun pli n'a été déchiffré.")
                % {"name": share.holder.full_name or share.holder.email},
                code="wrong_passphrase",
                data={"members": members, "member": pk},
                **refuse,
            )
        try:
            envelope = crypto.decrypt_with(personal, bytes(share.sealed_share))
            opened.append((share.index, crypto.unpack_share(envelope, x=share.index, key_fingerprint=key.fingerprint)))
        except crypto.SealingCryptoError:
            _refuse(
                _(
                    "La part de clé de %(name)s est altérée ou ne correspond pas à cette consultation. Aucun pli n'a "
                    "été déchiffré ; prévenez l'administrateur de la plateforme."
                )
                % {"name": share.holder.full_name or share.holder.email},
                code="tampered_share",
                data={"members": members, "member": pk},
                **refuse,
            )
        finally:
            del personal
    try:
        identity = crypto.rebuild_checked(opened, recipient=key.recipient)
    except crypto.SealingCryptoError:
        _refuse(
            _(
                "Les parts réunies ne reconstituent pas la clé d'ouverture de cette consultation (parts altérées ou "
                "mélangées). Aucun pli n'a été déchiffré."
            ),
            code="wrong_combination",
            data={"members": members},
            **refuse,
        )
    with transaction.atomic():
        locked = ConsultationKey.objects.select_for_update().get(pk=key.pk)
        locked.state = KeyState.REBUILT
        locked.rebuilt_at = clock.now()
        locked.save(update_fields=["state", "rebuilt_at"])
        log_event(
            action="sealing.rebuild.succeeded",
            actor=acting_user,
            organisation=consultation.organisation,
            obj=consultation,
            data={"members": sorted(passphrases), "fingerprint": key.fingerprint},
            request=request,
        )
    return identity


def keep_policy(consultation_key: ConsultationKey) -> bool:
    """The buyer's policy for this key: keep the identity after the opening (Commission setting)."""
    if consultation_key.commission_id is None:
        return False
    with scopes_disabled():
        commission = Commission.objects.filter(pk=consultation_key.commission_id).first()
    return bool(commission and commission.keep_identity_after_opening)


@transaction.atomic
def after_opening(
    consultation_key: ConsultationKey, identity: str, *, keep: bool, request: Any = None
) -> ConsultationKey:
    """After the opening: keep the identity encrypted with the platform key (state retained) or erase it
    (state erased). Only once the key has been rebuilt (never a sealed key)."""
    key = (
        ConsultationKey.objects.select_for_update()
        .select_related("consultation__organisation")
        .get(pk=consultation_key.pk)
    )
    if key.state == KeyState.SEALED and not key.is_practice:
        raise DomainError(_("La clé d'ouverture n'a pas été reconstituée."), code="not_rebuilt")
    if crypto.recipient_of(identity) != key.recipient:
        raise DomainError(_("Cette clé ne correspond pas à la consultation."), code="wrong_identity")
    if keep:
        key.retained_identity = crypto.platform_seal(identity, secret_key=settings.SECRET_KEY, context=_context(key))
        key.state = KeyState.RETAINED
    else:
        key.retained_identity = None
        key.state = KeyState.ERASED
    key.save(update_fields=["retained_identity", "state"])
    log_event(
        action="sealing.consultation_key.retained" if keep else "sealing.consultation_key.erased",
        organisation=key.consultation.organisation,
        obj=key.consultation,
        data={"fingerprint": key.fingerprint},
        request=request,
    )
    consultation_key.state = key.state
    consultation_key.retained_identity = key.retained_identity
    return key


def retained_identity(consultation_key: ConsultationKey) -> str | None:
    """The identity kept after the opening (policy) or the practice key's identity; None otherwise."""
    if consultation_key.retained_identity is None or consultation_key.state != KeyState.RETAINED:
        return None
    return crypto.platform_unseal(
        bytes(consultation_key.retained_identity), secret_key=settings.SECRET_KEY, context=_context(consultation_key)
    )
