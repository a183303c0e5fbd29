"""Background jobs of the consultations app.

`close_deadlines` runs every minute on one node (see `core.scheduler`): it closes every published
consultation whose bid deadline has passed. Between the deadline and that run, readers already see the
consultation as closed (`Consultation.effective_state`, `selectors`), so the deadline holds to the second.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.tasks import task

from ebourgogne.core.scheduler import periodic

logger = logging.getLogger("ebourgogne.consultations")


@periodic(name="consultations.close_deadlines", every=timedelta(minutes=1))
@task()
def close_deadlines() -> dict[str, int]:
    """Close the published consultations whose bid deadline has passed (idempotent, safe on several nodes)."""
    from ebourgogne.consultations.services import close_due_consultations

    closed = close_due_consultations()
    if closed:
        logger.info("Closed %d consultation(s) at their deadline: %s", len(closed), closed)
    return {"closed": len(closed)}
