"""The journal in the API: GET /api/v1/audit/{org_slug}/events, newest first, with cursor pagination.

`next_cursor` is opaque: pass it back as `cursor` for the next (older) page; it is null on the last page.
"""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from ebourgogne.apitokens.auth import api_auth
from ebourgogne.audit.actions import action_label
from ebourgogne.audit.selectors import MAX_PAGE_SIZE, EventFilters, organisation_events, page_of
from ebourgogne.core.access import organisation_api

router = Router(tags=["audit"], auth=api_auth)
MAX_SEQ = 2**63 - 1


class EventQuery(Schema):
    object_type: str = Field("", max_length=100, description="Type of the object, e.g. organisations.organisation")
    object_id: str = Field("", max_length=64, description="Identifier of the object")
    action: str = Field("", max_length=100, description="Action code, or its start: 'account' covers 'account.*'")
    actor: str = Field("", max_length=254, description="E-mail address or user id of the person who acted")
    since: dt.datetime | None = Field(None, description="From this instant (inclusive)")
    until: dt.datetime | None = Field(None, description="Until this instant (exclusive)")
    cursor: str = Field("", max_length=32, description="next_cursor of the previous page")
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class EventOut(Schema):
    seq: int
    occurred_at: dt.datetime
    action: str
    action_label: str
    actor_id: int | None
    actor: str
    object_type: str
    object_id: str
    object_label: str
    data: dict[str, Any]
    hash: str
    prev_hash: str


class EventPageOut(Schema):
    items: list[EventOut]
    next_cursor: str | None


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or timezone.is_aware(value):
        return value
    return timezone.make_aware(value, timezone.get_default_timezone())


@router.get("/{org_slug}/events", response=EventPageOut, summary="Events of one organisation, newest first")
@organisation_api("audit.view")
def list_events(request: HttpRequest, organisation: Any, query: Query[EventQuery]) -> dict[str, Any]:
    before = None
    if query.cursor:
        if not query.cursor.isdigit() or int(query.cursor) > MAX_SEQ:
            raise HttpError(400, _("Curseur de pagination invalide."))
        before = int(query.cursor)
    filters = EventFilters(
        object_type=query.object_type,
        object_id=query.object_id,
        action=query.action,
        actor=query.actor,
        since=_aware(query.since),
        until=_aware(query.until),
    )
    page = page_of(organisation_events(organisation=organisation, filters=filters), before=before, size=query.limit)
    items = [
        {
            "seq": event.seq,
            "occurred_at": event.occurred_at,
            "action": event.action,
            "action_label": action_label(event.action),
            "actor_id": event.actor_id,
            "actor": event.actor_label,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "object_label": event.object_label,
            "data": event.data,
            "hash": event.hash,
            "prev_hash": event.prev_hash,
        }
        for event in page.events
    ]
    return {"items": items, "next_cursor": str(page.older) if page.older is not None else None}
