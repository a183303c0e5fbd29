"""Reads about signing certificates, always those of the caller."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ebourgogne.core import clock
from ebourgogne.signatures.models import SigningCertificate


def certificates_of(user: Any) -> list[SigningCertificate]:
    """Every certificate of the person, newest first (revoked ones included, marked)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return list(SigningCertificate.objects.filter(user=user).defer("sealed_pkcs12", "sealed_key"))


def usable_certificates_of(user: Any, *, now: dt.datetime | None = None) -> list[SigningCertificate]:
    """The person's certificates that can sign now: not revoked, within their validity dates."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    now = now or clock.now()
    return list(
        SigningCertificate.objects.filter(user=user, revoked_at__isnull=True, not_before__lte=now, not_after__gte=now)
        .defer("sealed_pkcs12", "sealed_key")
        .order_by("-created_at", "-id")
    )
