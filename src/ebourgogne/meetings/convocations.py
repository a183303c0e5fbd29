"""Convocations: sending them (e-mail in the member's language, secure link, iCalendar invitation),
updates and cancellations, and the evidence of every send, delivery attempt, opening of the link,
acknowledgement and answer (ConvocationEvent with an RFC 3161 token).

Interface used by meetings.services (the signatures are fixed; the bodies are the convocations work):
"""

from __future__ import annotations

from typing import Any

from ebourgogne.meetings.models import Meeting


def convene(*, meeting: Meeting, acting_user: Any, request: Any = None) -> int:
    """Create the convocations of every member with a voice (titulars with a deliberative voice and
    members with a consultative voice) and send them after commit. Returns the number sent."""
    raise NotImplementedError


def send_update(*, meeting: Meeting, acting_user: Any, changes: dict[str, Any], request: Any = None) -> int:
    """The meeting changed (time, place, agenda) after the convocation: send an update (same UID, raised
    SEQUENCE) to every convened member."""
    raise NotImplementedError


def send_cancel(*, meeting: Meeting, acting_user: Any, request: Any = None) -> int:
    """The meeting is cancelled: send METHOD:CANCEL to every convened member."""
    raise NotImplementedError
