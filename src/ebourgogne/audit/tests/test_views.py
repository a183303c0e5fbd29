"""The journal pages: who sees what, filters, keyset pagination, CSV export, accessible markup."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from ebourgogne.audit.models import AuditEvent
from ebourgogne.audit.services import log_event, log_events
from ebourgogne.testing.factories import UserFactory, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def journal(buyer, other_buyer, buyer_admin, buyer_agent):
    """Events of two buyers, of accounts, on three days."""
    day = dt.datetime(2025, 3, 10, 9, 0, tzinfo=dt.UTC)
    formula = UserFactory(full_name="=SOMME(1;2)")
    log_events(
        [
            {
                "action": "org.member.invited",
                "actor": buyer_admin,
                "organisation": buyer,
                "obj": buyer_agent,
                "data": {"role": "buyer_agent"},
                "occurred_at": day,
            },
            {
                "action": "consultation.document.downloaded",
                "organisation": buyer,
                "obj": formula,
                "data": {"file": '=HYPERLINK("http://evil")'},
                "occurred_at": day + dt.timedelta(days=1),
            },
            {
                "action": "organisation.renamed",
                "actor": buyer_agent,
                "organisation": buyer,
                "occurred_at": day + dt.timedelta(days=2),
            },
            {
                "action": "org.member.invited",
                "organisation": other_buyer,
                "data": {"secret_thing": "x"},
                "occurred_at": day + dt.timedelta(days=1),
            },
            {"action": "account.login", "actor": buyer_agent, "occurred_at": day},
        ]
    )
    return buyer


def url(org) -> str:
    return reverse("audit:org_events", kwargs={"org_slug": org.slug})


def csv_url(org) -> str:
    return reverse("audit:org_events_csv", kwargs={"org_slug": org.slug})


def shown_seqs(response) -> list[int]:
    return [event.seq for event in response.context["page"].events]


# --- Who sees what ------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_login(client, journal):
    response = client.get(url(journal))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_outsiders_get_404(client, journal, outsider, company_admin):
    for person in (outsider, company_admin):
        assert sign_in(client, person).get(url(journal)).status_code == 404
        assert client.get(csv_url(journal)).status_code == 404


def test_members_without_the_role_get_403(client, journal, commission_member):
    sign_in(client, commission_member)
    assert client.get(url(journal)).status_code == 403
    assert client.get(csv_url(journal)).status_code == 403


@pytest.mark.parametrize("who", ["buyer_admin", "buyer_agent", "operator"])
def test_buyer_staff_and_operators_see_the_buyers_events_only(client, journal, who, request):
    sign_in(client, request.getfixturevalue(who))
    response = client.get(url(journal))
    assert response.status_code == 200
    events = response.context["page"].events
    assert {event.action for event in events} == {
        "org.member.invited",
        "consultation.document.downloaded",
        "organisation.renamed",
    }
    assert all(event.organisation_id == journal.pk for event in events)
    assert shown_seqs(response) == sorted(shown_seqs(response), reverse=True)
    html = response.content.decode()
    assert "Commune d&#x27;Auxerre" not in html and "Commune d'Auxerre" not in html
    # Buyers do not see IP addresses.
    assert "Adresse IP" not in html


def test_company_staff_do_not_hold_audit_view(client, company_admin, company):
    log_event(action="org.member.invited", organisation=company, actor=company_admin)
    # audit.view is granted by roles.PERMISSIONS to buyer staff and operators only.
    sign_in(client, company_admin)
    assert client.get(url(company)).status_code == 403


# --- Filters --------------------------------------------------------------------------------------------


def test_filter_by_object(client, journal, buyer_admin, buyer_agent):
    sign_in(client, buyer_admin)
    response = client.get(url(journal), {"object_type": "accounts.user", "object_id": str(buyer_agent.pk)})
    assert [event.action for event in response.context["page"].events] == ["org.member.invited"]


def test_filter_by_action_prefix_stops_at_dots(client, journal, buyer_admin):
    sign_in(client, buyer_admin)
    response = client.get(url(journal), {"action": "org"})
    assert [event.action for event in response.context["page"].events] == ["org.member.invited"]
    response = client.get(url(journal), {"action": "consultation.document"})
    assert [event.action for event in response.context["page"].events] == ["consultation.document.downloaded"]


def test_filter_by_actor_email(client, journal, buyer_admin, buyer_agent):
    sign_in(client, buyer_admin)
    response = client.get(url(journal), {"actor": buyer_agent.email.upper()})
    assert [event.action for event in response.context["page"].events] == ["organisation.renamed"]


def test_filter_by_dates_in_local_time(client, journal, buyer_admin):
    sign_in(client, buyer_admin)
    response = client.get(url(journal), {"date_from": "2025-03-11", "date_to": "2025-03-11"})
    assert [event.action for event in response.context["page"].events] == ["consultation.document.downloaded"]
    response = client.get(url(journal), {"date_from": "2025-03-11"})
    assert len(response.context["page"].events) == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "2025-03-12", "date_to": "2025-03-11"}, "date_to"),
        ({"date_from": "pas une date"}, "date_from"),
        ({"date_from": "0001-01-01"}, "date_from"),
        ({"action": "Org.Member"}, "action"),
        ({"object_type": "inconnu.modele"}, "object_type"),
        ({"before": "abc"}, "before"),
        ({"before": "99999999999999999999999"}, "before"),
    ],
)
def test_bad_filters_give_a_clear_400(client, journal, buyer_admin, params, field):
    sign_in(client, buyer_admin)
    response = client.get(url(journal), params)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    html = response.content.decode()
    assert 'role="alert"' in html
    if field not in ("before",):
        assert f'aria-describedby="id_{field}_' in html or f'id="id_{field}_error"' in html
    assert client.get(csv_url(journal), params).status_code == 400


# --- Pagination ------------------------------------------------------------------------------------------


def test_keyset_pagination(client, buyer, buyer_admin):
    log_events(
        {"action": "consultation.document.downloaded", "organisation": buyer, "data": {"n": n}} for n in range(120)
    )
    sign_in(client, buyer_admin)
    first = client.get(url(buyer), {"action": "consultation"})
    seqs = shown_seqs(first)
    assert len(seqs) == 50 and seqs == sorted(seqs, reverse=True)
    assert first.context["newer_url"] is None
    second = client.get(first.context["older_url"])
    assert shown_seqs(second)[0] == seqs[-1] - 1 and len(shown_seqs(second)) == 50
    third = client.get(second.context["older_url"])
    assert len(shown_seqs(third)) == 20
    assert third.context["older_url"] is None
    back = client.get(third.context["newer_url"])
    assert shown_seqs(back) == shown_seqs(second)
    assert "action=consultation" in second.context["older_url"], "filters are kept across pages"


# --- CSV export --------------------------------------------------------------------------------------


def test_csv_export_of_the_filtered_events(client, journal, buyer_admin):
    sign_in(client, buyer_admin)
    before = AuditEvent.objects.count()
    response = client.get(csv_url(journal), {"action": "consultation"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="journal-{journal.slug}-')
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:4] == ["Numéro", "Date et heure", "Code de l'action", "Action"]
    assert "Adresse IP" not in rows[0]
    assert len(rows) == 2
    assert rows[1][2] == "consultation.document.downloaded"
    # A value a spreadsheet would run as a formula is kept as text.
    assert rows[1][8] == "'=SOMME(1;2)"
    assert all(not cell.startswith("=") for cell in rows[1])
    exported = AuditEvent.objects.order_by("-seq").first()
    assert AuditEvent.objects.count() == before + 1
    assert (exported.action, exported.actor_id, exported.organisation_id) == (
        "audit.exported",
        buyer_admin.pk,
        journal.pk,
    )
    assert exported.data == {"action": "consultation"}


def test_refused_exports_record_nothing(client, journal, outsider, commission_member):
    sign_in(client, outsider)
    before = AuditEvent.objects.count()
    assert client.get(csv_url(journal)).status_code == 404
    assert AuditEvent.objects.count() == before
    sign_in(client, commission_member)
    before = AuditEvent.objects.count()
    assert client.get(csv_url(journal)).status_code == 403
    assert AuditEvent.objects.count() == before
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


# --- Operators ---------------------------------------------------------------------------------------


def test_operator_journal_is_for_operators_only(client, journal, buyer_admin):
    response = client.get(reverse("audit:operator_events"))
    assert response.status_code == 302
    sign_in(client, buyer_admin)
    assert client.get(reverse("audit:operator_events")).status_code == 404
    assert client.get(reverse("audit:operator_events_csv")).status_code == 404


def test_operators_see_every_event_with_addresses(client, journal, operator, other_buyer):
    log_event(action="account.login.failed", data={"email": "x@exemple.test"})
    sign_in(client, operator)
    response = client.get(reverse("audit:operator_events"))
    assert response.status_code == 200
    actions = [event.action for event in response.context["page"].events]
    assert "account.login" in actions and "account.login.failed" in actions
    assert {"Commune de Beaune", "Commune d'Auxerre"} <= {e.organisation_label for e in response.context["page"].events}
    assert "Adresse IP" in response.content.decode()
    only_other = client.get(reverse("audit:operator_events"), {"organisation": other_buyer.slug})
    assert [event.organisation_id for event in only_other.context["page"].events] == [other_buyer.pk]
    unknown = client.get(reverse("audit:operator_events"), {"organisation": "aucune-organisation"})
    assert unknown.status_code == 400
    export = client.get(reverse("audit:operator_events_csv"), {"organisation": other_buyer.slug})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode().lstrip("\ufeff")), delimiter=";"))
    assert "Adresse IP" in rows[0] and len(rows) == 2
    assert rows[1][9] == '{"secret_thing": "***"}'


# --- Markup and language -----------------------------------------------------------------------------


def test_accessible_table_and_english(client, journal, buyer_admin):
    sign_in(client, buyer_admin)
    html = client.get(url(journal)).content.decode()
    assert "<caption>" in html
    assert '<th scope="col">' in html and '<th scope="row">' in html
    assert '<label for="id_date_from">' in html
    assert "<h1>Journal des événements — Commune de Beaune</h1>" in html
    english = client.get(url(journal), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<h1>Event log — Commune de Beaune</h1>" in english
    assert "Newer events" not in english  # a single page: no pagination links
