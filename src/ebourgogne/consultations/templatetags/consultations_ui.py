"""Template helpers of the consultation pages."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.translation import gettext as _

from ebourgogne.consultations.models import State

register = template.Library()


@register.filter
def paris(value: dt.datetime | None) -> str:
    """A date and time in Europe/Paris with the zone named ("12/06/2026 à 12:00 (heure de Paris)")."""
    from ebourgogne.consultations.services import local_display

    return local_display(value) if isinstance(value, dt.datetime) else ""


@register.filter
def state_label(code: str) -> str:
    try:
        return str(State(code).label)
    except ValueError:
        return code


@register.filter
def state_tag(code: str) -> str:
    """The CSS class of the state's tag."""
    if code == State.PUBLISHED:
        return "tag-ok"
    if code in (State.DRAFT, State.CANCELLED, State.ABANDONED, State.UNSUCCESSFUL):
        return "tag-warn" if code != State.DRAFT else "tag-neutral"
    return "tag-neutral"


@register.filter
def euros(value) -> str:
    """An amount in euros, French style grouping ("250 000,00 €")."""
    if value is None or value == "":
        return ""
    text = f"{value:,.2f}".replace(",", "\u202f").replace(".", ",")
    return _("%(amount)s € HT") % {"amount": text}
