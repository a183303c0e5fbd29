"""The retention purge job: once a day (03:20 UTC), delete the files past their retention period
(`retention.purge`: contract documents, bids and tender files of consultations past their date, letters,
commission minutes)."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from ebourgogne.core.scheduler import periodic


@periodic(name="contracts.retention_purge", every=timedelta(days=1), offset=timedelta(hours=3, minutes=20))
@task()
def retention_purge() -> dict:
    from ebourgogne.contracts.retention import purge

    return purge().as_dict()
