from __future__ import annotations

from typing import Any

from ebourgogne.apitokens.models import ApiToken
from ebourgogne.core import clock


def tokens_of(*, user: Any) -> list[ApiToken]:
    """The person's tokens, newest first, each with `status`: active, expired or revoked."""
    at = clock.now()
    found = list(ApiToken.objects.filter(user=user).order_by("-created_at", "-id"))
    for token in found:
        token.status = "revoked" if token.revoked_at else ("expired" if token.is_expired(at) else "active")
    return found
