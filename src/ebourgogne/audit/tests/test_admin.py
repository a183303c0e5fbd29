"""The admin shows audit events read-only: no add, change or delete, for anyone."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ebourgogne.audit.integrity import verify_chain
from ebourgogne.audit.models import AuditEvent
from ebourgogne.audit.tests import helpers
from ebourgogne.testing.factories import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    return helpers.make_events(3)[1]


def test_operators_read_events_in_the_admin(client, operator, event):
    sign_in(client, operator)
    changelist = client.get(reverse("admin:audit_auditevent_changelist"))
    assert changelist.status_code == 200
    assert "test.event.recorded" in changelist.content.decode()
    detail = client.get(reverse("admin:audit_auditevent_change", args=[event.seq]))
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()


def test_nobody_adds_changes_or_deletes(client, admin_user, event):
    client.force_login(admin_user)
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    response = client.post(reverse("admin:audit_auditevent_change", args=[event.seq]), {"action": "test.event.changed"})
    assert response.status_code == 403
    assert client.post(reverse("admin:audit_auditevent_delete", args=[event.seq]), {"post": "yes"}).status_code == 403
    response = client.post(
        reverse("admin:audit_auditevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.seq], "post": "yes"},
    )
    assert AuditEvent.objects.filter(seq=event.seq, action="test.event.recorded").exists()
    assert verify_chain().ok


def test_people_who_are_not_operators_do_not_see_it(client, buyer_admin, event):
    sign_in(client, buyer_admin)
    response = client.get(reverse("admin:audit_auditevent_changelist"))
    assert response.status_code == 302  # not staff: sent to the admin login
