"""Reads about the signed-in person: their organisations and roles, their second factor.

The results are kept on the request, so the header, the MFA middleware and the account pages share one
query per request.
"""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.http import HttpRequest

from ebourgogne.organisations.models import Organisation
from ebourgogne.organisations.selectors import organisations_of

_ORGANISATIONS_ATTR = "_ebourgogne_organisations"
_TOTP_ATTR = "_ebourgogne_has_totp"


def organisations_for_request(request: HttpRequest) -> list[tuple[Organisation, list[str]]]:
    """The signed-in person's organisations with their roles there (empty for visitors)."""
    cached = getattr(request, _ORGANISATIONS_ATTR, None)
    if cached is None:
        user = getattr(request, "user", None)
        cached = organisations_of(user=user) if user is not None and user.is_authenticated else []
        setattr(request, _ORGANISATIONS_ATTR, cached)
    return cached


def roles_for_request(request: HttpRequest) -> set[str]:
    """Every role the signed-in person holds, in any organisation."""
    return {role for _organisation, roles in organisations_for_request(request) for role in roles}


def has_totp(user: Any) -> bool:
    """True when `user` has an authenticator app (TOTP) activated."""
    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, _TOTP_ATTR, None)
    if cached is None:
        cached = Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()
        setattr(user, _TOTP_ATTR, cached)
    return cached


def recovery_codes_left(user: Any) -> int | None:
    """How many unused recovery codes `user` has, or None when none were generated."""
    authenticator = Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.RECOVERY_CODES).first()
    if authenticator is None:
        return None
    return len(authenticator.wrap().get_unused_codes())
