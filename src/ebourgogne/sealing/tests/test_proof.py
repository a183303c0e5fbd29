"""THE proof of the sealed-bid promise: with full access to the database and to the files of the platform,
and no member's passphrase, no bid can be read.

The attacker below has everything the server has: every row of every table (all columns), every file of
the data folder (the SQLite database file included, the platform's SECRET_KEY file, media), and the code.
They try everything the platform itself could do: an identity string anywhere, an age file that opens
without a passphrase or with something the platform knows, a value sealed with the platform key, the
shares combined without their passphrases. A bid encrypted to the consultation's recipient stays closed.

The same attacker is shown to succeed when the identity IS stored (kept after the opening, dropped in a
file, written in a column): the proof would fail if the platform kept the identity anywhere.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pyrage
import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django_scopes import scopes_disabled

from ebourgogne.sealing import crypto, services
from ebourgogne.sealing.models import ConsultationKey, KeyShare
from ebourgogne.testing.factories import DEMO_PASSWORD
from ebourgogne.testing.sealing import encrypt_to, sealed_consultation

pytestmark = pytest.mark.django_db(transaction=True)  # committed rows: they are in the database file too

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
DEADLINE = NOW + dt.timedelta(days=30)
BID = b"%PDF-1.7 Offre de prix : 123 456,78 EUR HT"
IDENTITY_PATTERN = re.compile(rb"AGE-SECRET-KEY-1[0-9A-Z]{50,70}", re.IGNORECASE)
AGE_MAGIC = b"age-encryption.org/v1"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _as_bytes(value) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return str(value).encode("utf-8", "surrogatepass")


def everything_the_server_has() -> list[bytes]:
    """Every value of every column of every table, and every file under the data folder."""
    blobs: list[bytes] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - table names from introspection
            for row in cursor.fetchall():
                blobs.extend(found for found in map(_as_bytes, row) if found)
    for path in Path(settings.DATA_DIR).rglob("*"):
        if path.is_file():
            blobs.append(path.read_bytes())
    return blobs


def _opens(identity: str, bid: bytes) -> bool:
    try:
        return pyrage.decrypt(bid, [pyrage.x25519.Identity.from_str(identity)]) == BID
    except Exception:
        return False


def server_can_read(bid: bytes) -> list[str]:
    """How the server alone can read `bid` (empty: it cannot). Tries every route it has."""
    blobs = everything_the_server_has()
    with scopes_disabled():
        keys = list(ConsultationKey.objects.all())
        shares = list(KeyShare.objects.all())
    known_secrets = ["", settings.SECRET_KEY, DEMO_PASSWORD, "e-bourgogne"]
    candidates: dict[str, str] = {}  # identity -> how it was found

    def harvest(data: bytes, origin: str) -> None:
        for match in IDENTITY_PATTERN.findall(data):
            candidates.setdefault(match.decode("ascii").upper(), origin)

    for blob in blobs:
        harvest(blob, "identity in clear")
        if blob.startswith(AGE_MAGIC) and b"-> scrypt " in blob[:200]:
            for secret in known_secrets:  # passphrase files that open with what the platform knows
                try:
                    harvest(pyrage.passphrase.decrypt(blob, secret), "scrypt file opened without the member")
                except Exception:  # noqa: S110 - this route does not open it: try the next
                    pass
        for key in keys:  # anything sealed with the platform key
            try:
                harvest(
                    crypto.platform_unseal(
                        blob, secret_key=settings.SECRET_KEY, context=services._context(key)
                    ).encode(),
                    "sealed with the platform key",
                )
            except Exception:  # noqa: S110 - not sealed with the platform key
                pass
    # The shares as stored, combined without the passphrases.
    by_key: dict[int, list[KeyShare]] = {}
    for share in shares:
        by_key.setdefault(share.consultation_key_id, []).append(share)
    for key in keys:
        stored = [(share.index, bytes(share.sealed_share)) for share in by_key.get(key.pk, [])]
        lengths = {len(y) for _, y in stored}
        if stored and len(lengths) == 1:
            try:
                identity = crypto.rebuild_checked(stored, recipient=key.recipient)
            except crypto.SealingCryptoError:
                continue
            candidates.setdefault(identity, "shares combined without passphrases")
    return sorted({origin for identity, origin in candidates.items() if _opens(identity, bid)})


@pytest.fixture
def sealed_bid(buyer, buyer_agent):
    sealed = sealed_consultation(buyer, acting_user=buyer_agent, bids_deadline=DEADLINE)
    bid = encrypt_to(sealed.key.recipient, BID)
    stored = Path(settings.MEDIA_ROOT) / "proof" / f"bid-{sealed.consultation.pk}.age"
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(bid)
    yield sealed, bid
    stored.unlink(missing_ok=True)


def test_with_every_row_and_every_file_and_no_passphrase_no_bid_can_be_read(sealed_bid, frozen):
    sealed, bid = sealed_bid
    blobs = everything_the_server_has()
    assert any(bid in blob for blob in blobs)  # the attacker does have the bid
    assert any(sealed.key.recipient.encode() in blob for blob in blobs)  # and the key's public part
    assert not any(IDENTITY_PATTERN.search(blob) for blob in blobs)  # but no identity anywhere
    assert server_can_read(bid) == []
    # Still true after the deadline, before k members act: time alone opens nothing.
    frozen.move_to(DEADLINE + dt.timedelta(days=1))
    assert server_can_read(bid) == []
    # k members' passphrases do open it (the promise is not vacuous).
    identity = services.rebuild_identity(
        consultation=sealed.consultation,
        contributions=sealed.commission.contributions(2),
        acting_user=sealed.commission.members[0],
    )
    assert _opens(identity, bid)
    # The default policy erases it: still nothing on the server.
    services.after_opening(sealed.key, identity, keep=services.keep_policy(sealed.key))
    assert server_can_read(bid) == []


def test_the_proof_fails_when_the_identity_is_kept_after_the_opening(sealed_bid, frozen):
    sealed, bid = sealed_bid
    frozen.move_to(DEADLINE)
    identity = services.rebuild_identity(
        consultation=sealed.consultation,
        contributions=sealed.commission.contributions(2),
        acting_user=sealed.commission.members[0],
    )
    services.after_opening(sealed.key, identity, keep=True)
    assert server_can_read(bid) != []


@pytest.mark.parametrize("where", ["file", "column"])
def test_the_proof_fails_when_the_identity_is_written_anywhere(sealed_bid, frozen, where):
    sealed, bid = sealed_bid
    frozen.move_to(DEADLINE)
    identity = services.rebuild_identity(
        consultation=sealed.consultation,
        contributions=sealed.commission.contributions(2),
        acting_user=sealed.commission.members[0],
    )
    if where == "file":
        leak = Path(settings.DATA_DIR) / "leak.txt"
        leak.write_text(f"debug: {identity.lower()}\n")
    else:
        with scopes_disabled():
            type(sealed.consultation).objects.filter(pk=sealed.consultation.pk).update(end_reason=identity)
    try:
        assert server_can_read(bid) != []
    finally:
        if where == "file":
            leak.unlink()


def test_no_identity_in_the_logs_nor_in_any_sql_statement_from_publication_to_erasure(
    buyer, buyer_agent, frozen, caplog
):
    """Nothing logged (any logger, any level) and no SQL statement sent (parameters included) carries an
    identity, from publication to the erasure after the opening."""
    import logging

    from django.test.utils import CaptureQueriesContext

    with caplog.at_level(logging.DEBUG), CaptureQueriesContext(connection) as queries:
        sealed = sealed_consultation(buyer, acting_user=buyer_agent, bids_deadline=DEADLINE)
        frozen.move_to(DEADLINE)
        identity = services.rebuild_identity(
            consultation=sealed.consultation,
            contributions=sealed.commission.contributions(2),
            acting_user=sealed.commission.members[0],
        )
        services.after_opening(sealed.key, identity, keep=False)
    statements = "\n".join(query["sql"] for query in queries.captured_queries)
    assert "sealing_keyshare" in statements and "sealing_consultationkey" in statements  # they were captured
    for text in (caplog.text, statements):
        assert not IDENTITY_PATTERN.search(text.encode())
        assert identity not in text and identity.lower() not in text
