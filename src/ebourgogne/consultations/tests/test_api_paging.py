"""Cursor pagination never skips nor repeats an item while records change between pages (property test).

Between two pages, consultations are published, created as drafts, edited, moved to another public state,
deleted. Whatever happens, no id is returned twice, and every consultation that was public from the first
page to the last (never deleted) is returned exactly once, in both orders."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.test import Client
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ebourgogne.consultations.models import PUBLIC_STATES, Consultation
from ebourgogne.core import clock
from ebourgogne.testing.factories import ConsultationFactory

pytestmark = pytest.mark.django_db

OPERATION = st.sampled_from(["insert_public", "insert_draft", "publish_draft", "edit", "close", "delete"])


class Rollback(Exception):
    pass


def _apply(operation: str, buyer, pick: int) -> int | None:
    """Apply one change; returns the id of a deleted or unpublished consultation (it left the listing)."""
    with scopes_disabled():
        public = list(Consultation.objects.filter(state__in=PUBLIC_STATES).order_by("pk"))
        drafts = list(Consultation.objects.filter(state="draft").order_by("pk"))
        if operation == "insert_public":
            ConsultationFactory(organisation=buyer, published=True)
        elif operation == "insert_draft":
            ConsultationFactory(organisation=buyer)
        elif operation == "publish_draft" and drafts:
            draft = drafts[pick % len(drafts)]
            draft.state, draft.published_at = "published", clock.now()
            draft.save()
        elif operation == "edit" and public:
            target = public[pick % len(public)]
            target.title = f"{target.title} (modifiée)"
            target.save()  # updated_at moves: the order must not
        elif operation == "close" and public:
            target = public[pick % len(public)]
            target.state, target.closed_at = "closed", clock.now()
            target.bids_deadline = clock.now() - dt.timedelta(minutes=1)
            target.save()
        elif operation == "delete" and public:
            target = public[pick % len(public)]
            pk = target.pk  # delete() clears it
            target.delete()
            return pk
    return None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    initial=st.integers(min_value=0, max_value=9),
    drafts=st.integers(min_value=0, max_value=3),
    limit=st.integers(min_value=1, max_value=4),
    order=st.sampled_from(["id", "-id"]),
    changes=st.lists(st.lists(st.tuples(OPERATION, st.integers(0, 50)), max_size=3), max_size=6),
)
def test_paging_neither_skips_nor_repeats_while_records_change(buyer, initial, drafts, limit, order, changes):
    try:
        with transaction.atomic():
            for _ in range(initial):
                ConsultationFactory(organisation=buyer, published=True)
            for _ in range(drafts):
                ConsultationFactory(organisation=buyer)
            with scopes_disabled():
                at_start = set(Consultation.objects.filter(state__in=PUBLIC_STATES).values_list("pk", flat=True))
            client, seen, cursor, removed = Client(), [], "", set()
            for page_number in range(100):
                params = {"limit": limit, "order": order}
                if cursor:
                    params["cursor"] = cursor
                response = client.get("/api/v1/consultations/", params)
                assert response.status_code == 200, response.content
                body = response.json()
                seen += [item["id"] for item in body["items"]]
                cursor = body["next_cursor"]
                if not cursor:
                    break
                for operation, pick in changes[page_number] if page_number < len(changes) else []:
                    gone = _apply(operation, buyer, pick)
                    if gone is not None:
                        removed.add(gone)
            else:
                pytest.fail("paging did not end")
            assert len(seen) == len(set(seen)), f"repeated: {seen}"
            throughout = at_start - removed
            missing = throughout - set(seen)
            assert not missing, f"skipped {missing} (seen {seen})"
            assert seen == sorted(seen, reverse=order == "-id")
            raise Rollback
    except Rollback:
        pass
