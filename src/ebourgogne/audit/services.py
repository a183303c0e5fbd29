"""Writing to the audit trail. (Stub: the audit helper replaces the body; keep the signature.)"""

from __future__ import annotations

from typing import Any


def log_event(
    *,
    action: str,
    actor: Any | None = None,
    organisation: Any | None = None,
    obj: Any | None = None,
    data: dict[str, Any] | None = None,
    request: Any | None = None,
) -> None:
    """Append one event to the audit trail, in the caller's transaction.

    action: namespaced code, e.g. "org.member.invited"; actor: the user (None for the system);
    organisation: the tenant the event belongs to; obj: the model instance acted upon;
    data: details (secrets are masked); request: to record the IP address and user agent.
    """
    return None
