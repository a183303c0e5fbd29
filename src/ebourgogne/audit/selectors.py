"""Reading the audit trail: one organisation's events (for its members), or every event (for operators).

Lists are newest first and paginated by keyset on seq (`before` / `after` a seq), never by OFFSET, so a page
costs the same at the millionth event as at the first. Each filter has an index that ends with seq
(see AuditEvent.Meta.indexes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from ebourgogne.audit.models import AuditEvent

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class EventFilters:
    object_type: str = ""
    object_id: str = ""
    action: str = ""  # a code or the start of one: "account" matches "account.login", not "accounting.x"
    actor: str = ""  # an e-mail address, or a user id
    since: dt.datetime | None = None  # inclusive
    until: dt.datetime | None = None  # exclusive
    organisation_id: int | None = None  # operators only (members are always limited to their organisation)


def _actor_condition(actor: str) -> Q:
    value = actor.strip()
    if value.isdigit():
        return Q(actor_id=int(value))
    email = value.lower()
    ids = list(get_user_model()._default_manager.filter(email=email).values_list("pk", flat=True))
    # A deleted person is still found by the e-mail address recorded with their events.
    return Q(actor_id__in=ids) if ids else Q(actor_label=email)


def _filtered(queryset: QuerySet[AuditEvent], filters: EventFilters) -> QuerySet[AuditEvent]:
    if filters.object_type:
        queryset = queryset.filter(object_type=filters.object_type)
    if filters.object_id:
        queryset = queryset.filter(object_id=filters.object_id)
    if filters.action:
        code = filters.action.strip().rstrip(".")
        queryset = queryset.filter(Q(action=code) | Q(action__startswith=code + "."))
    if filters.actor:
        queryset = queryset.filter(_actor_condition(filters.actor))
    # Times never go back as numbers go up (see services._not_before): a date range is a range of numbers,
    # found in the occurred_at index, which every other index (ending with seq) can then use.
    if filters.since is not None:
        first = _first_seq_from(filters.since)
        if first is None:
            return queryset.none()
        queryset = queryset.filter(seq__gte=first, occurred_at__gte=filters.since)
    if filters.until is not None:
        end = _first_seq_from(filters.until)
        queryset = queryset.filter(occurred_at__lt=filters.until)
        if end is not None:
            queryset = queryset.filter(seq__lt=end)
    return queryset


def _first_seq_from(instant: dt.datetime) -> int | None:
    """The number of the first event at or after `instant`, or None when there is none."""
    return (
        AuditEvent.objects.filter(occurred_at__gte=instant)
        .order_by("occurred_at", "seq")
        .values_list("seq", flat=True)
        .first()
    )


def organisation_events(*, organisation: Any, filters: EventFilters | None = None) -> QuerySet[AuditEvent]:
    """The events of one organisation (its `organisation_id` filter ignored: always this organisation)."""
    queryset = AuditEvent.objects.filter(organisation_id=organisation.pk)
    return _filtered(queryset, filters or EventFilters())


def all_events(*, filters: EventFilters | None = None) -> QuerySet[AuditEvent]:
    """Every event, for platform operators."""
    filters = filters or EventFilters()
    queryset = AuditEvent.objects.all()
    if filters.organisation_id is not None:
        queryset = queryset.filter(organisation_id=filters.organisation_id)
    return _filtered(queryset, filters)


@dataclass
class EventPage:
    events: list[AuditEvent]
    newer: int | None  # pass as `after` for the newer page, None when this is the newest
    older: int | None  # pass as `before` for the older page, None when this is the oldest


def page_of(
    queryset: QuerySet[AuditEvent],
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = DEFAULT_PAGE_SIZE,
) -> EventPage:
    """One page, newest first: the `size` events just older than `before`, or just newer than `after`."""
    size = max(1, min(size, MAX_PAGE_SIZE))
    if after is not None:
        rows = list(queryset.filter(seq__gt=after).order_by("seq")[: size + 1])
        has_newer = len(rows) > size
        events = rows[:size][::-1]
        newer = events[0].seq if has_newer else None
        older = events[-1].seq if events and queryset.filter(seq__lt=events[-1].seq).exists() else None
        if not events:
            older = after + 1 if queryset.filter(seq__lte=after).exists() else None
        return EventPage(events, newer, older)
    scoped = queryset.filter(seq__lt=before) if before is not None else queryset
    rows = list(scoped.order_by("-seq")[: size + 1])
    events = rows[:size]
    older = events[-1].seq if len(rows) > size else None
    newer = None
    if before is not None:
        newer_from = events[0].seq if events else before - 1
        newer = newer_from if queryset.filter(seq__gt=newer_from).exists() else None
    return EventPage(events, newer, older)


def iterate(queryset: QuerySet[AuditEvent], *, batch_size: int = 2000) -> Iterator[AuditEvent]:
    """Every event of `queryset`, newest first, in keyset batches (for exports: constant memory)."""
    last: int | None = None
    while True:
        batch_query = queryset.filter(seq__lt=last) if last is not None else queryset
        batch = list(batch_query.order_by("-seq")[:batch_size])
        if not batch:
            return
        yield from batch
        last = batch[-1].seq
