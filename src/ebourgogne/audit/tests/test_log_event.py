"""log_event fills every field, chains events, follows the caller's transaction and refuses changes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.test import RequestFactory

from ebourgogne.audit.chain import GENESIS_HASH, MASK, compute_hash
from ebourgogne.audit.integrity import verify_chain
from ebourgogne.audit.models import AppendOnlyError, AuditChainHead, AuditEvent
from ebourgogne.audit.services import log_event, log_events
from ebourgogne.audit.tests import helpers
from ebourgogne.organisations.models import Organisation
from ebourgogne.organisations.roles import OrganisationKind

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def alice():
    return User.objects.create_user("alice@beaune.test", "demo-password-123!", full_name="Alice Administratrice")


@pytest.fixture
def beaune():
    return Organisation.objects.create(
        kind=OrganisationKind.BUYER, name="Commune de Beaune", slug="commune-de-beaune", siret="21210054400013"
    )


def test_fills_every_field(alice, beaune, time_machine):
    time_machine.move_to(dt.datetime(2025, 3, 1, 9, 30, 15, 250000, tzinfo=dt.UTC), tick=False)
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.10", HTTP_USER_AGENT="Mozilla/5.0 " + "x" * 400)
    event = log_event(
        action="org.member.invited",
        actor=alice,
        organisation=beaune,
        obj=beaune,
        data={"role": "buyer_agent", "token": "secret-value", "nested": {"password": "p"}},
        request=request,
    )
    stored = AuditEvent.objects.get(seq=event.seq)
    assert stored.seq == 1
    assert stored.occurred_at == dt.datetime(2025, 3, 1, 9, 30, 15, 250000, tzinfo=dt.UTC)
    assert (stored.actor_id, stored.actor_label) == (alice.pk, "alice@beaune.test")
    assert (stored.organisation_id, stored.organisation_label) == (beaune.pk, "Commune de Beaune")
    assert stored.action == "org.member.invited"
    assert (stored.object_type, stored.object_id, stored.object_label) == (
        "organisations.organisation",
        str(beaune.pk),
        "Commune de Beaune",
    )
    assert stored.data == {"role": "buyer_agent", "token": MASK, "nested": {"password": MASK}}
    assert stored.ip_address == "192.0.2.10"
    assert stored.user_agent.startswith("Mozilla/5.0 ") and len(stored.user_agent) == 300
    assert stored.prev_hash == GENESIS_HASH
    assert stored.hash == compute_hash(stored.hashed_fields())
    head = AuditChainHead.objects.get()
    assert (head.last_seq, head.last_hash) == (1, stored.hash)


def test_system_events_have_no_actor(beaune):
    event = log_event(action="org.deadline.passed", organisation=beaune)
    assert (event.actor_id, event.actor_label) == (None, "")
    anonymous = log_event(action="document.downloaded", actor=AnonymousUser())
    assert anonymous.actor_id is None


def test_events_are_chained_and_numbered_without_gaps(alice):
    events = helpers.make_events(5, actor=alice)
    assert [event.seq for event in events] == [1, 2, 3, 4, 5]
    for previous, event in zip(events, events[1:], strict=False):
        assert event.prev_hash == previous.hash
    assert verify_chain().ok


def test_event_rolls_back_with_the_caller(alice):
    helpers.make_events(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        log_event(action="org.member.removed", actor=alice)
        raise RuntimeError("the action failed")
    assert AuditEvent.objects.count() == 2
    assert AuditChainHead.objects.get().last_seq == 2
    assert log_event(action="org.member.removed", actor=alice).seq == 3
    assert verify_chain().ok


@pytest.mark.parametrize("action", ["", "login", "Account.Login", "account..login", "account.login!", "a." + "b" * 100])
def test_action_codes_are_checked(action):
    with pytest.raises(ValueError):
        log_event(action=action)
    assert not AuditEvent.objects.exists()


def test_client_ip_behind_the_proxy(monkeypatch):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.5")
    assert log_event(action="test.ip", request=request).ip_address == "10.0.0.2"
    monkeypatch.setenv("EBOURGOGNE_BEHIND_PROXY", "1")
    # The last entry is the one our proxy appended; the first is whatever the client sent.
    assert log_event(action="test.ip", request=request).ip_address == "203.0.113.5"


def test_deleting_a_person_or_an_organisation_leaves_the_log_alone(alice, beaune):
    log_event(action="org.member.invited", actor=alice, organisation=beaune, obj=alice)
    alice.delete()
    beaune.delete()
    event = AuditEvent.objects.get()
    assert event.actor_label == "alice@beaune.test"
    assert event.organisation_label == "Commune de Beaune"
    assert verify_chain().ok


def test_events_cannot_be_changed_or_deleted_through_the_application(alice):
    event = helpers.make_events(1, actor=alice)[0]
    event.action = "test.event.changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(seq=event.seq).update(action="test.event.changed")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update([event], ["action"])
    # Nor appended past log_event, which would leave the row out of the chain.
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.create(seq=99, occurred_at=event.occurred_at, action="test.forged", prev_hash="", hash="")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_create([AuditEvent(seq=99, occurred_at=event.occurred_at, action="test.forged")])
    assert AuditEvent.objects.get().action == "test.event.recorded"
    assert verify_chain().ok


def test_a_missing_head_is_rebuilt_and_recorded():
    helpers.make_events(3)
    helpers.delete_head()
    event = log_event(action="test.after.restore")
    assert event.seq == 5
    restored = AuditEvent.objects.get(seq=4)
    assert restored.action == "audit.chain.head_restored"
    assert restored.data == {"last_seq": 3}
    assert verify_chain().ok


def test_bulk_append_chains_like_single_appends(beaune):
    helpers.make_events(2)
    count = log_events(
        ({"action": "test.bulk", "organisation": beaune, "data": {"n": n}} for n in range(25)), batch_size=10
    )
    assert count == 25
    assert AuditChainHead.objects.get().last_seq == 27
    log_event(action="test.after.bulk")
    result = verify_chain(batch_size=7)
    assert result.ok and result.count == 28
