"""Authentication of API calls: a personal token (`Authorization: Bearer ebg_...`) or the browser's session.

`api_auth` is the list routers give as `auth=`: django-ninja tries the token first, then the session
(with its CSRF check on writes, django-ninja's `django_auth`). A request that presents a token is judged
on the token alone: a bad one is refused with 401 and a JSON message saying why, it never falls back to
the session.

A token acts as its owner with the owner's roles *now* (`core.access` reads the memberships on every
call), so removing a membership or deactivating the account takes effect on the next call. A person
whose roles require a second factor and who no longer has one is refused (403, as the session is by
`accounts.middleware`). Calls are limited per token (RATE_LIMIT per RATE_WINDOW seconds, 429).
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer, django_auth

from ebourgogne.apitokens.errors import ApiError
from ebourgogne.apitokens.services import check_token

RATE_LIMIT = 600
RATE_WINDOW = 60  # seconds


def _over_rate_limit(token_id: int) -> bool:
    from ebourgogne.core import clock

    window = int(clock.now().timestamp()) // RATE_WINDOW
    key = f"apitokens:rate:{token_id}:{window}"
    if cache.add(key, 1, timeout=RATE_WINDOW * 2):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=RATE_WINDOW * 2)
        return False
    return count > RATE_LIMIT


def _mfa_missing(request: HttpRequest) -> bool:
    from ebourgogne.accounts.middleware import mfa_required

    return mfa_required(request)


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`; sets `request.user` to the token's owner."""

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get(self.header, "")
        if not header:
            return None
        scheme, _sep, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiError(
                401, _("En-tête Authorization invalide : attendu « Bearer <jeton> »."), "authorization_invalid"
            )
        return self.authenticate(request, value.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found, refusal = check_token(token)
        if refusal is not None:
            raise ApiError(401, refusal.message, refusal.code)
        assert found is not None
        request.user = found.user
        request.api_token = found  # type: ignore[attr-defined]
        from ebourgogne.accounts import current

        current.forget(request)  # anything read for the anonymous visitor so far
        if _mfa_missing(request):
            raise ApiError(
                403,
                _(
                    "Votre rôle exige la double authentification : activez une application d'authentification "
                    "sur votre compte pour utiliser l'API."
                ),
                "mfa_required",
            )
        if _over_rate_limit(found.pk):
            raise ApiError(
                429,
                _("Trop de requêtes avec ce jeton : au plus %(limit)d par minute. Réessayez dans un instant.")
                % {"limit": RATE_LIMIT},
                "rate_limited",
            )
        return found


api_token_auth = ApiTokenAuth()
# Token first (no CSRF: the caller is not a browser holding a cookie), then the browser's session.
api_auth = [api_token_auth, django_auth]
