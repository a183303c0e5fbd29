"""What every part of the JSON API (/api/v1) shares: the error body (its handlers: apitokens.errors) and how
dates, amounts and addresses are written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from ninja import Field, Schema


class ErrorOut(Schema):
    detail: str = Field(description="What went wrong, in the caller's language (French by default)")
    code: str = Field("", description="Stable machine-readable reason")
    errors: dict[str, list[str]] = Field(default_factory=dict, description="Messages per field, when known")


def paris(value: dt.datetime | None) -> dt.datetime | None:
    """An aware datetime in Europe/Paris (it is shown with its +01:00 / +02:00 offset)."""
    if value is None:
        return None
    return timezone.localtime(value, timezone.get_default_timezone())


def money(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def absolute(path: str) -> str:
    return f"{settings.BASE_URL}{path}"
