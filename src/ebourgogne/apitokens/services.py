"""Creating, revoking and checking personal API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from ebourgogne.apitokens.models import ApiToken
from ebourgogne.audit.services import log_event
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused

TOKEN_PREFIX = "ebg_"  # noqa: S105 - the recognisable start of every token, not a secret
PREFIX_SHOWN = len(TOKEN_PREFIX) + 8  # "ebg_" and the first 8 random characters
SECRET_BYTES = 32  # 256 bits, 43 URL-safe characters
MAX_ACTIVE_TOKENS = 20
NAME_MAX = ApiToken._meta.get_field("name").max_length
# last_used_at is written at most this often per token (not on every call).
LAST_USED_PRECISION = dt.timedelta(minutes=1)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def looks_like_token(secret: str) -> bool:
    return secret.startswith(TOKEN_PREFIX) and 20 <= len(secret) <= 200


def _signed_in(user: Any) -> None:
    if not getattr(user, "is_authenticated", False):
        raise PermissionRefused(_("Connectez-vous pour gérer vos jetons d'API."))


def active_tokens(user: Any):
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True)


def token_create(
    *, user: Any, name: str, expires_at: dt.datetime | None = None, request: Any = None
) -> tuple[ApiToken, str]:
    """A new token for `user`; returns it with its secret, which is never shown again."""
    _signed_in(user)
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_("Donnez un nom au jeton (par exemple l'application qui l'utilisera)."), code="name")
    if len(name) > NAME_MAX:
        raise DomainError(_("Le nom du jeton ne doit pas dépasser %(max)d caractères.") % {"max": NAME_MAX})
    at = clock.now()
    if expires_at is not None and expires_at <= at:
        raise DomainError(_("La date d'expiration doit être dans le futur."), code="expires_at")
    with transaction.atomic():
        live = active_tokens(user).filter(_not_expired(at)).count()
        if live >= MAX_ACTIVE_TOKENS:
            raise DomainError(
                _("Vous avez déjà %(count)d jetons actifs : révoquez-en un avant d'en créer un autre.")
                % {"count": live},
                code="too_many",
            )
        secret = TOKEN_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=secret[:PREFIX_SHOWN],
            token_hash=token_hash(secret),
            created_at=at,
            expires_at=expires_at,
        )
        log_event(
            action="account.api_token.created",
            actor=user,
            obj=token,
            data={"name": name, "prefix": token.prefix, "expires_at": expires_at.isoformat() if expires_at else None},
            request=request,
        )
    return token, secret


def _not_expired(at: dt.datetime):
    from django.db.models import Q

    return Q(expires_at__isnull=True) | Q(expires_at__gt=at)


def token_revoke(*, user: Any, token_id: int, request: Any = None) -> ApiToken:
    """Revoke one of the person's own tokens; another person's token is "not found"."""
    _signed_in(user)
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id, user=user).first()
        if token is None:
            raise NotFound(_("Ce jeton n'existe pas ou ne vous appartient pas."))
        if token.revoked_at is not None:
            raise DomainError(_("Ce jeton est déjà révoqué."), code="already_revoked")
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
        log_event(
            action="account.api_token.revoked",
            actor=user,
            obj=token,
            data={"name": token.name, "prefix": token.prefix},
            request=request,
        )
    return token


@dataclass(frozen=True)
class Refusal:
    """Why a presented token is not accepted (a translated message) and its code."""

    code: str
    message: str


def check_token(secret: str) -> tuple[ApiToken | None, Refusal | None]:
    """The token for `secret` and its owner (`token.user`), or why it is refused.

    Refused: unknown, revoked, expired, or whose owner's account is deactivated."""
    if not looks_like_token(secret):
        return None, Refusal("token_invalid", _("Jeton d'API invalide."))
    token = ApiToken.objects.select_related("user").filter(token_hash=token_hash(secret)).first()
    if token is None:
        return None, Refusal("token_invalid", _("Jeton d'API invalide."))
    at = clock.now()
    if token.revoked_at is not None:
        return None, Refusal("token_revoked", _("Ce jeton d'API a été révoqué."))
    if token.is_expired(at):
        return None, Refusal("token_expired", _("Ce jeton d'API a expiré."))
    if not token.user.is_active:
        return None, Refusal("account_inactive", _("Le compte titulaire de ce jeton d'API est désactivé."))
    if token.last_used_at is None or token.last_used_at <= at - LAST_USED_PRECISION:
        # One conditional UPDATE, no lock: concurrent calls may both write, to nearly the same instant.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=at)
        token.last_used_at = at
    return token, None
