"""The consultation's row lock (every service that changes a consultation takes it) must not block the
rows that merely point to the consultation: bids, lots, audit events... are inserted meanwhile by other
transactions, whose foreign-key checks need a KEY SHARE lock on the consultation's row. With a plain
FOR UPDATE (and one that also locked the buyer's row through its join) a deadline rush deadlocked on
PostgreSQL: one transaction held the consultation and waited for the audit chain's head, another held
the head and waited, at its commit, for the key-share lock on the consultation."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from django_scopes import scopes_disabled

from ebourgogne.consultations import services
from ebourgogne.consultations.models import Lot
from ebourgogne.testing.factories import ConsultationFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's (SQLite locks the file)"),
]


def test_the_consultation_lock_lets_rows_that_point_to_it_be_inserted(buyer):
    consultation = ConsultationFactory(organisation=buyer, published=True)
    locked, release, done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold_the_lock() -> None:
        try:
            with transaction.atomic():
                services._lock(consultation.pk)
                locked.set()
                release.wait(10)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()
            done.set()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    assert locked.wait(10)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '3s'")
            with scopes_disabled():
                Lot.objects.create(consultation=consultation, number=9, title="Inséré pendant le verrou")
                # The buyer's row is not locked either (the lock names only the consultation's row).
                buyer.refresh_from_db()
                from ebourgogne.organisations.models import Organisation

                Organisation.objects.filter(pk=buyer.pk).select_for_update(of=("self",)).get()
    finally:
        release.set()
        holder.join(10)
    assert done.is_set() and not errors
    with scopes_disabled():
        assert Lot.objects.filter(consultation=consultation, number=9).exists()
