"""Reads about the signed-in person beyond what every page needs (that is `accounts.current`)."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator


def recovery_codes_left(user: Any) -> int | None:
    """How many unused recovery codes `user` has, or None when none were generated."""
    authenticator = Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.RECOVERY_CODES).first()
    if authenticator is None:
        return None
    return len(authenticator.wrap().get_unused_codes())
