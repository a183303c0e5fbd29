"""200 deposits completing within one second either side of the deadline: 0 misclassified (issue 4).

Each deposit runs through the service with the clock stopped at a chosen instant (time-machine): the
file is complete and flushed, then the deposit time is read. In time iff `deposited_at < bids_deadline`,
to the microsecond; the instants include the deadline itself and one microsecond either side."""

from __future__ import annotations

import datetime as dt
import io
import random

import pytest
import time_machine
from django_scopes import scopes_disabled

from ebourgogne.tenders import selectors, services
from ebourgogne.tenders.models import Bid, BidFile, Receipt
from ebourgogne.tenders.tests.support import open_consultation
from ebourgogne.testing.sealing import encrypt_to

pytestmark = pytest.mark.django_db
DEPOSITS = 200


def _ready_bid(user, company, consultation, cipher: bytes) -> Bid:
    bid = services.bid_create(acting_user=user, company=company, consultation_id=consultation.pk)
    bid_file = services.file_announce(
        acting_user=user, company=company, bid=bid, envelope="offer", name="offre.pdf", size=len(cipher)
    )
    services.upload_chunk(
        acting_user=user,
        company=company,
        bid_file=BidFile.objects.select_related("bid").get(pk=bid_file.pk),
        offset=0,
        stream=io.BytesIO(cipher),
        content_length=len(cipher),
    )
    return bid


def test_200_deposits_around_the_deadline(buyer, company, company_member):
    consultation, recipient = open_consultation(buyer)
    deadline = consultation.bids_deadline
    cipher = encrypt_to(recipient, b"offre " * 100)
    rng = random.Random(200)
    micro = dt.timedelta(microseconds=1)
    offsets = [-micro, dt.timedelta(0), micro, -dt.timedelta(seconds=1), dt.timedelta(seconds=1) - micro]
    offsets += [dt.timedelta(microseconds=rng.randint(-1_000_000, 1_000_000)) for _ in range(DEPOSITS - len(offsets))]
    expected: dict[int, bool] = {}
    with scopes_disabled():
        bids = [_ready_bid(company_member, company, consultation, cipher) for _ in offsets]
        # Sequential deposits, each at its own instant (in the order of the instants, as a clock goes).
        for bid, offset in sorted(zip(bids, offsets, strict=True), key=lambda pair: pair[1]):
            with time_machine.travel(deadline + offset, tick=False):
                deposited = services.bid_deposit(acting_user=company_member, company=company, bid=bid)
            expected[deposited.pk] = offset >= dt.timedelta(0)
        stored = {bid.pk: bid for bid in Bid.objects.filter(consultation=consultation)}
        receipts = {receipt.bid_id: receipt for receipt in Receipt.objects.filter(bid__consultation=consultation)}
    assert len(stored) == DEPOSITS == len(receipts)
    misclassified = [pk for pk, late in expected.items() if stored[pk].is_late != late or receipts[pk].is_late != late]
    assert misclassified == []
    for pk, late in expected.items():
        assert (stored[pk].deposited_at >= deadline) == late
    assert sum(expected.values()) == sum(1 for offset in offsets if offset >= dt.timedelta(0))
    # The last in-time deposit is the one to open; every earlier in-time one is superseded; late ones stay.
    with scopes_disabled():
        to_open = list(selectors.bids_to_open(consultation))
    last_in_time = max((bid for bid in stored.values() if not bid.is_late), key=lambda bid: bid.deposited_at)
    assert to_open == [last_in_time]
    assert all(bid.superseded_by_id is None for bid in stored.values() if bid.is_late)
    assert sorted(bid.number for bid in stored.values()) == list(range(1, DEPOSITS + 1))
