"""Cursor pagination of the API: stable under concurrent changes.

Items come in a fixed order on their primary key, which never changes: a record that exists from the first
page to the last is returned exactly once, whatever is created, edited or deleted meanwhile (an edited
record keeps its place; a created one has a larger id and shows at the end in ascending order). The cursor
is the last id served, signed (so clients cannot forge one, and a cursor of another listing or order is
refused with 400) and opaque.
"""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from ebourgogne.apitokens.errors import ApiError

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
CURSOR_SALT = "ebourgogne.api.cursor"


def encode_cursor(kind: str, last_id: int, order: str) -> str:
    return signing.dumps({"k": kind, "id": last_id, "o": order}, salt=CURSOR_SALT, compress=False)


def decode_cursor(kind: str, cursor: str, order: str) -> int | None:
    """The id after which the page starts, or None without cursor; 400 for a cursor not made here."""
    if not cursor:
        return None
    try:
        data = signing.loads(cursor, salt=CURSOR_SALT)
    except signing.BadSignature:
        raise ApiError(
            400, _("Curseur de pagination invalide : reprenez la valeur next_cursor reçue."), "cursor_invalid"
        ) from None
    if not isinstance(data, dict) or data.get("k") != kind or not isinstance(data.get("id"), int):
        raise ApiError(
            400, _("Curseur de pagination invalide : reprenez la valeur next_cursor reçue."), "cursor_invalid"
        )
    if data.get("o") != order:
        raise ApiError(
            400, _("Ce curseur a été obtenu avec un autre ordre : gardez le même paramètre order."), "cursor_invalid"
        )
    return data["id"]


def page_by_id(queryset: QuerySet, *, kind: str, cursor: str, order: str, limit: int) -> tuple[list[Any], str | None]:
    """One page of `queryset` in `order` ("id" or "-id"), after the cursor's id; and the next cursor."""
    after = decode_cursor(kind, cursor, order)
    if after is not None:
        queryset = queryset.filter(pk__gt=after) if order == "id" else queryset.filter(pk__lt=after)
    items = list(queryset.order_by(order)[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    next_cursor = encode_cursor(kind, items[-1].pk, order) if more and items else None
    return items, next_cursor
