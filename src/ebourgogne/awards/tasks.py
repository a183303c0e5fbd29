"""Background work of awards: the evidence sweep.

`stamp_pending_events` (every 5 minutes): letter events (sent, read) still without their RFC 3161 token
get it, for when an external timestamp authority did not answer at the time (see awards/evidence.py).
"""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from ebourgogne.core.scheduler import periodic


@periodic(name="awards.stamp_pending_events", every=timedelta(minutes=5))
@task()
def stamp_pending_events() -> dict[str, int]:
    from ebourgogne.awards.evidence import stamp_pending

    return {"stamped": stamp_pending()}
