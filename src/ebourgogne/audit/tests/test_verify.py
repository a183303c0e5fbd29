"""`ebourgogne audit verify` finds every kind of tampering done behind the application's back, and names
the first broken link."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ebourgogne.audit import integrity
from ebourgogne.audit.chain import GENESIS_HASH
from ebourgogne.audit.integrity import verify_chain
from ebourgogne.audit.models import AuditChainHead, AuditEvent
from ebourgogne.audit.tests import helpers

pytestmark = pytest.mark.django_db

N = 12


@pytest.fixture
def chain():
    return helpers.make_events(N)


def run_verify(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", "--language", "en", "verify", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit:
        code = exit.code
    return code, out.getvalue(), err.getvalue()


def assert_broken(kind: str, seq: int, *, batch_size: int = 5) -> integrity.Problem:
    result = verify_chain(batch_size=batch_size)
    assert not result.ok, "verify did not see the tampering"
    assert (result.problem.kind, result.problem.seq) == (kind, seq), result.problem
    return result.problem


def test_intact_chain_passes(chain):
    result = verify_chain(batch_size=5)
    assert result.ok
    assert result.count == N
    assert (result.head_seq, result.head_hash) == (N, chain[-1].hash)
    code, out, err = run_verify("--batch-size", "5")
    assert code == 0, err
    assert out.splitlines()[0] == f"OK: {N} events, chain intact"
    assert f"{N}:{chain[-1].hash}" in out


def test_empty_journal_passes():
    code, out, _err = run_verify()
    assert code == 0
    assert out.splitlines()[0] == "OK: 0 events, chain intact"


def test_default_output_is_french(chain):
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert out.getvalue().splitlines()[0] == f"OK : {N} événements, chaîne intacte"


def test_edited_data_is_found(chain):
    helpers.edit_data(5)
    problem = assert_broken(integrity.MODIFIED, 5)
    code, _out, err = run_verify()
    assert code == 1
    assert "first broken link at #5" in err
    assert "modified content" in err
    assert problem.detail == {}


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor_label", "mallory@exemple.test"),
        ("action", "test.event.innocent"),
        ("object_label", "autre chose"),
        ("ip_address", "203.0.113.9"),
        ("prev_hash", "a" * 64),
        ("hash", "b" * 64),
    ],
)
def test_any_edited_column_is_found(chain, column, value):
    helpers.edit_column(7, column, value)
    assert_broken(integrity.MODIFIED, 7)


def test_edited_time_is_found(chain):
    with helpers.behind_the_back() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET occurred_at = (SELECT occurred_at FROM audit_auditevent WHERE seq = 1) "
            "WHERE seq = 9"
        )
    assert_broken(integrity.MODIFIED, 9)


def test_event_replaced_with_recomputed_hash_is_found(chain):
    helpers.replace_with_recomputed_hash(4, "mallory@exemple.test")
    problem = assert_broken(integrity.MODIFIED, 4)
    assert problem.detail == {"replaced": True}


def test_forged_event_after_the_last_is_found(chain):
    helpers.insert_forged(N + 1, chained=True)
    problem = assert_broken(integrity.INSERTED, N + 1)
    assert problem.detail["head_seq"] == N
    code, _out, err = run_verify()
    assert code == 1
    assert f"first broken link at #{N + 1}" in err
    assert "inserted event" in err


@pytest.mark.parametrize("seq", [2, 6, N])
def test_forged_event_slipped_in_the_middle_is_found(chain, seq):
    # The forger renumbers the events after it and chains the forged one properly.
    helpers.insert_forged(seq, chained=True)
    assert AuditEvent.objects.count() == N + 1
    assert_broken(integrity.INSERTED, seq)


def test_badly_forged_event_in_the_middle_is_found(chain):
    helpers.insert_forged(6, chained=False)
    assert_broken(integrity.INSERTED, 6)


def test_forged_event_far_after_the_head_is_found(chain):
    helpers.insert_forged(N + 1)
    with helpers.behind_the_back() as cursor:
        cursor.execute("UPDATE audit_auditevent SET seq = %s WHERE seq = %s", [N + 50, N + 1])
    assert_broken(integrity.INSERTED, N + 50)


def test_deleted_middle_event_is_found(chain):
    helpers.delete_event(6)
    problem = assert_broken(integrity.MISSING, 6)
    code, _out, err = run_verify()
    assert code == 1
    assert "first broken link at #6" in err
    assert "missing" in err
    assert problem.detail["count"] == 1


def test_several_deleted_events_are_counted(chain):
    for seq in (6, 7, 8):
        helpers.delete_event(seq)
    problem = assert_broken(integrity.MISSING, 6)
    assert problem.detail["count"] == 3


def test_deleted_first_event_is_found(chain):
    helpers.delete_event(1)
    assert_broken(integrity.MISSING, 1)


def test_deleted_last_event_is_found(chain):
    helpers.delete_event(N)
    problem = assert_broken(integrity.MISSING, N)
    assert problem.detail["head_seq"] == N
    code, _out, err = run_verify()
    assert code == 1
    assert f"first broken link at #{N}" in err


def test_deleted_and_renumbered_events_are_found(chain):
    helpers.delete_and_renumber(5)
    problem = assert_broken(integrity.MISSING, 5)
    assert problem.detail["recorded_as"] == 6


@pytest.mark.parametrize(("first", "second"), [(3, 4), (3, 9), (1, 2), (N - 1, N)])
def test_reordered_events_are_found(chain, first, second):
    helpers.swap_events(first, second)
    problem = assert_broken(integrity.REORDERED, first)
    assert problem.detail["recorded_as"] == second
    code, _out, err = run_verify()
    assert code == 1
    assert f"first broken link at #{first}" in err
    assert "order changed" in err


def test_head_with_another_hash_is_found(chain):
    helpers.edit_head(last_hash="c" * 64)
    assert_broken(integrity.HEAD, N)


def test_missing_head_is_found(chain):
    helpers.delete_head()
    assert_broken(integrity.HEAD, N)


def test_head_rolled_back_is_found(chain):
    helpers.edit_head(last_seq=N - 2, last_hash=chain[N - 3].hash)
    assert_broken(integrity.INSERTED, N - 1)


def test_head_ahead_of_the_events_is_found(chain):
    helpers.edit_head(last_seq=N + 3)
    problem = assert_broken(integrity.MISSING, N + 1)
    assert problem.detail["count"] == 3


def test_the_first_of_two_problems_is_named(chain):
    helpers.edit_data(9)
    helpers.edit_data(4)
    assert_broken(integrity.MODIFIED, 4)


def test_consistent_rewrite_of_the_tail_is_caught_by_an_anchor(chain):
    """Someone who rewrites every hash from one point on, and the head, leaves a consistent chain:
    only a seq:hash noted earlier, outside the database, shows it."""
    from ebourgogne.audit.chain import compute_hash

    anchor = (8, chain[7].hash)
    assert verify_chain(anchors=[anchor]).ok
    previous = chain[6].hash
    with helpers.behind_the_back() as cursor:
        for seq in range(8, N + 1):
            fields = helpers.row_fields(seq)
            fields["actor_label"] = "mallory@exemple.test" if seq == 8 else fields["actor_label"]
            fields["prev_hash"] = previous
            previous = compute_hash(fields)
            cursor.execute(
                "UPDATE audit_auditevent SET actor_label = %s, prev_hash = %s, hash = %s WHERE seq = %s",
                [fields["actor_label"], fields["prev_hash"], previous, seq],
            )
        cursor.execute("UPDATE audit_auditchainhead SET last_hash = %s", [previous])
    assert verify_chain().ok
    result = verify_chain(anchors=[anchor])
    assert (result.problem.kind, result.problem.seq) == (integrity.ANCHOR, 8)
    code, _out, err = run_verify("--anchor", f"8:{chain[7].hash}")
    assert code == 1
    assert "first broken link at #8" in err


def test_anchor_beyond_the_end_is_found(chain):
    code, _out, err = run_verify("--anchor", f"{N + 5}:{'d' * 64}")
    assert code == 1
    assert f"#{N + 5}" in err


def test_bad_arguments_are_refused(chain):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("audit", "verify", "--anchor", "not-an-anchor")
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--batch-size", "0")


def test_verify_streams_in_batches(chain):
    """Constant memory: the table is read by keyset batches, never all at once."""
    with CaptureQueriesContext(connection) as queries:
        assert verify_chain(batch_size=4).ok
    reads = [q["sql"] for q in queries.captured_queries if "audit_auditevent" in q["sql"]]
    # 12 events in batches of 4: 3 full batches and one empty read; each with a LIMIT.
    assert len(reads) == 4
    assert all("LIMIT 4" in sql for sql in reads)


def test_events_appended_during_verify_are_checked(chain, monkeypatch):
    """A run that starts before new events arrive still ends on a consistent head."""
    original = integrity._read_head
    appended = []

    def read_head_and_append():
        if not appended:
            appended.extend(helpers.make_events(3))
        return original()

    monkeypatch.setattr(integrity, "_read_head", read_head_and_append)
    result = verify_chain(batch_size=5)
    assert result.ok
    assert result.count == N + 3


def test_genesis_is_the_first_link(chain):
    assert chain[0].prev_hash == GENESIS_HASH
    assert AuditChainHead.objects.get().last_seq == N
