"""Reads about opening keys, scoped to the caller."""

from __future__ import annotations

from typing import Any

from django_scopes import scopes_disabled

from ebourgogne.sealing.models import KeyShare, KeyState, PersonalKey


def personal_key_of(user: Any) -> PersonalKey | None:
    """The person's active personal key (public part and dates only are shown)."""
    return PersonalKey.objects.filter(user=user, retired_at__isnull=True).first()


def shares_held(user: Any) -> dict[str, int]:
    """How many shares the person holds: in total, still sealed (consultations not opened yet), and tied to
    a retired key (unreadable since a lost key was replaced)."""
    with scopes_disabled():
        rows = KeyShare.objects.filter(holder=user).values("consultation_key__state", "personal_key__retired_at")
        total = sealed = lost = 0
        for row in rows:
            total += 1
            sealed += row["consultation_key__state"] == KeyState.SEALED
            lost += row["personal_key__retired_at"] is not None
    return {"total": total, "sealed": sealed, "lost": lost}


def users_with_keys(user_ids) -> set[int]:
    return set(
        PersonalKey.objects.filter(user_id__in=list(user_ids), retired_at__isnull=True).values_list(
            "user_id", flat=True
        )
    )
