"""The platform's one clock. Every rule that depends on time asks `now()`; tests move it with time-machine."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

# The platform's time zone: deadlines are entered and shown in it, stored in UTC.
PARIS = ZoneInfo("Europe/Paris")


def now() -> dt.datetime:
    """The current instant, timezone-aware (UTC)."""
    return timezone.now()


def today_local() -> dt.date:
    """Today's date in the platform's time zone (Europe/Paris)."""
    return timezone.localdate(now())
