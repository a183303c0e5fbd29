"""The periodic refresh of the indicators: every hour, every buyer's figures and the sums of the region
and its departments (see `services.refresh_all`); a buyer may also recompute its own on demand."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from ebourgogne.core.scheduler import periodic


@periodic(name="indicators.refresh", every=timedelta(hours=1), offset=timedelta(minutes=7))
@task()
def refresh_indicators() -> dict:
    from ebourgogne.indicators.services import refresh_all

    return refresh_all()
