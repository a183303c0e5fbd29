"""The timestamp authority's periodic job: receipts still waiting for their token get it."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from ebourgogne.core.scheduler import periodic


@periodic(name="timestamping.stamp_pending_receipts", every=timedelta(minutes=5))
@task()
def stamp_pending_receipts() -> dict[str, int]:
    """Ask the authority for every missing receipt token (an external authority was down at deposit time)."""
    from ebourgogne.tenders.receipts import stamp_pending

    return {"stamped": stamp_pending()}
