"""Template helpers of the organisation pages and e-mails."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from ebourgogne.organisations.roles import Role

register = template.Library()


@register.filter
def role_name(code: str) -> str:
    """The translated name of a role code (in the active language)."""
    try:
        return str(Role(code).label)
    except ValueError:
        return code


@register.filter
def iso_datetime(value: str) -> dt.datetime | None:
    """An ISO 8601 string (as passed to e-mail templates) as an aware datetime in the local time zone."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return timezone.localtime(parsed) if timezone.is_aware(parsed) else parsed


@register.filter
def invitation_status(invitation) -> str:
    return {
        "pending": _("En attente"),
        "expired": _("Expirée"),
        "accepted": _("Acceptée"),
        "revoked": _("Annulée"),
    }[invitation.status]
