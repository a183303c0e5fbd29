"""The daily DECP file: once a day (01:30 UTC, when the previous day is over in Paris), the essential data
published the previous day, as JSON and XML in the schema's root form, stored once with their SHA-256 and
byte size (shown on the public page and listed by GET /api/v1/decp/fichiers). Before building, the contracts
whose data were kept due while their buyer had no SIRET are published (`decp.publish_pending`).

A file holds every contract with a record (initial data, modification, subcontracting act or its change)
published that day (Europe/Paris), each as it stood at the end of the day (all its records up to then). A day
with nothing published still gets its (empty) file, so that the list of files has no gap. Building is
idempotent: a day that has its `DecpDailyFile` is never rebuilt. Slots missed while no scheduler ran are
caught up (the last `CATCH_UP_DAYS` days, never before the first publication).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.tasks import task
from django_scopes import scopes_disabled

from ebourgogne.contracts import decp, decp_selectors
from ebourgogne.contracts.models import DecpDailyFile, DecpRecord
from ebourgogne.core import clock
from ebourgogne.core.scheduler import periodic

logger = logging.getLogger("ebourgogne.contracts.decp")

CATCH_UP_DAYS = 7


def storage_name(day: dt.date, extension: str) -> str:
    return f"decp/quotidien/{day:%Y}/decp-{day:%Y-%m-%d}.{extension}"


def build_daily_file(day: dt.date, *, now: dt.datetime | None = None) -> DecpDailyFile:
    """The file of `day` (Europe/Paris), built and stored unless it already exists."""
    existing = DecpDailyFile.objects.filter(day=day).first()
    if existing is not None:
        return existing
    start, end = decp_selectors.day_bounds(day, day)
    records = decp_selectors.records_published_between(start, end)
    document = decp.wrap(decp.marches(records))
    json_bytes, xml_bytes = decp.to_json(document), decp.to_xml(document)
    json_name = default_storage.save(storage_name(day, "json"), ContentFile(json_bytes))
    xml_name = default_storage.save(storage_name(day, "xml"), ContentFile(xml_bytes))
    try:
        with transaction.atomic():
            return DecpDailyFile.objects.create(
                day=day,
                json_storage_name=json_name,
                xml_storage_name=xml_name,
                json_sha256=hashlib.sha256(json_bytes).hexdigest(),
                xml_sha256=hashlib.sha256(xml_bytes).hexdigest(),
                json_size=len(json_bytes),
                xml_size=len(xml_bytes),
                records=sum(1 for record in records if start <= record.published_at < end),
                built_at=now or clock.now(),
            )
    except IntegrityError:  # built by another node meanwhile: keep theirs
        default_storage.delete(json_name)
        default_storage.delete(xml_name)
        return DecpDailyFile.objects.get(day=day)


def build_missing(*, now: dt.datetime | None = None) -> list[DecpDailyFile]:
    """Build the files of the days before today that have none (the last CATCH_UP_DAYS days at most)."""
    moment = now or clock.now()
    yesterday = moment.astimezone(clock.PARIS).date() - dt.timedelta(days=1)
    with scopes_disabled():
        first = DecpRecord.objects.order_by("published_at").values_list("published_at", flat=True).first()
    earliest = yesterday - dt.timedelta(days=CATCH_UP_DAYS - 1)
    if first is not None:
        earliest = max(earliest, min(first.astimezone(clock.PARIS).date(), yesterday))
    else:
        earliest = yesterday
    done = set(DecpDailyFile.objects.filter(day__gte=earliest).values_list("day", flat=True))
    built = []
    day = earliest
    while day <= yesterday:
        if day not in done:
            built.append(build_daily_file(day, now=moment))
        day += dt.timedelta(days=1)
    return built


@periodic(name="contracts.decp_daily_file", every=dt.timedelta(days=1), offset=dt.timedelta(hours=1, minutes=30))
@task()
def decp_daily_file() -> dict:
    published = decp.publish_pending()  # the data kept due while their buyer had no SIRET
    if published:
        logger.info("DECP published once their buyer's SIRET was set: contracts %s", published)
    built = build_missing()
    logger.info("DECP daily files built: %s", [f"{item.day}" for item in built])
    return {
        "built": [item.day.isoformat() for item in built],
        "records": sum(item.records for item in built),
        "published": published,
    }
