"""Background work of alerts: percolating a consultation after its publication or change, the digests.

`percolate_consultation` is queued on commit by the receivers (alerts.receivers) of the consultations'
signals: by then the search index holds the consultation as the portal shows it (search.signals writes
it in the same transaction), and percolation reads that index only.
"""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from ebourgogne.core.scheduler import periodic


@task()
def percolate_consultation(consultation_id: int) -> dict:
    from ebourgogne.alerts import percolation, services

    matched = percolation.percolate([consultation_id]).get(consultation_id, [])
    fresh = services.record_matches(consultation_id, matched)
    sent = services.deliver_immediately(fresh)
    return {"matched": len(matched), "new": len(fresh), "mailed": sent}


# Daily at 05:00 UTC (06:00 or 07:00 in Paris): the digest of the day before.
@periodic(name="alerts.daily_digests", every=timedelta(days=1), offset=timedelta(hours=5))
@task()
def daily_digests() -> int:
    from ebourgogne.alerts import services
    from ebourgogne.alerts.models import Delivery

    return services.build_digests(Delivery.DAILY)


# Weekly on Mondays at 05:00 UTC (the Unix epoch was a Thursday: 4 days later is a Monday).
@periodic(name="alerts.weekly_digests", every=timedelta(days=7), offset=timedelta(days=4, hours=5))
@task()
def weekly_digests() -> int:
    from ebourgogne.alerts import services
    from ebourgogne.alerts.models import Delivery

    return services.build_digests(Delivery.WEEKLY)
