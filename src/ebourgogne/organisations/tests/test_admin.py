"""The Django admin: operators look up organisations and memberships (scoped models included), and
may only switch an organisation off or on, which the audit trail records."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ebourgogne.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_operators_read_every_organisation_model(client, operator, buyer, buyer_admin, company):
    client.force_login(operator)
    for name in ("organisation", "membership", "invitation", "buyerservice"):
        response = client.get(reverse(f"admin:organisations_{name}_changelist"))
        assert response.status_code == 200, name
    assert "Commune de Beaune" in client.get(reverse("admin:organisations_organisation_changelist")).content.decode()
    assert client.get(reverse("admin:organisations_organisation_add")).status_code == 403
    assert client.post(reverse("admin:organisations_organisation_delete", args=[buyer.pk])).status_code == 403


def test_switching_an_organisation_off_is_logged(client, operator, company):
    client.force_login(operator)
    url = reverse("admin:organisations_organisation_change", args=[company.pk])
    page = client.get(url).content.decode()
    assert 'name="is_active"' in page and 'name="name"' not in page
    response = client.post(url, {"is_active": ""})
    assert response.status_code == 302
    company.refresh_from_db()
    assert not company.is_active
    event = AuditEvent.objects.get(action="org.organisation.deactivated")
    assert event.organisation_id == company.pk and event.actor_id == operator.pk


def test_people_without_the_operator_role_do_not_get_in(client, buyer_admin):
    client.force_login(buyer_admin)
    response = client.get(reverse("admin:organisations_organisation_changelist"))
    assert response.status_code == 302 and "login" in response["Location"]
