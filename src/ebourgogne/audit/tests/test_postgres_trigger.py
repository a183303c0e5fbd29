"""On PostgreSQL the database itself refuses to change or delete audit events."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from ebourgogne.audit.integrity import verify_chain
from ebourgogne.audit.models import AuditEvent
from ebourgogne.audit.tests import helpers

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("The append-only trigger exists on PostgreSQL only (run with DATABASE_URL=postgres://...).")


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET actor_label = 'mallory@exemple.test' WHERE seq = 2",
        "UPDATE audit_auditevent SET data = '{}'",
        "DELETE FROM audit_auditevent WHERE seq = 2",
        "DELETE FROM audit_auditchainhead",
    ],
)
def test_trigger_refuses_changes(statement):
    helpers.make_events(3)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert AuditEvent.objects.count() == 3
    assert verify_chain().ok


@pytest.mark.postgres
def test_a_dba_can_disable_the_trigger_explicitly():
    helpers.make_events(3)
    helpers.delete_event(2)  # ALTER TABLE ... DISABLE TRIGGER, DELETE, ENABLE TRIGGER
    assert AuditEvent.objects.count() == 2
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = 3")  # enabled again
