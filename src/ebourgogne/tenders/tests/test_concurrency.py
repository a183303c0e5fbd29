"""Deposits at the same moment from several threads (one database connection each): the consultation row
lock numbers them 1..n without a gap or a clash, and each gets its receipt (PostgreSQL: select_for_update;
SQLite: one write transaction at a time)."""

from __future__ import annotations

import io
import threading

import pytest
from django.db import connection
from django_scopes import scopes_disabled

from ebourgogne.consultations.models import CpvCode
from ebourgogne.organisations.roles import Role
from ebourgogne.tenders import services
from ebourgogne.tenders.models import Bid, BidFile, Receipt
from ebourgogne.tenders.tests.support import open_consultation
from ebourgogne.testing.factories import BuyerFactory, CompanyFactory, UserFactory, make_member
from ebourgogne.testing.sealing import encrypt_to

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 6


def test_simultaneous_deposits_are_numbered_once_each():
    CpvCode.objects.get_or_create(
        code="45000000",
        defaults={
            "check_digit": "7",
            "label_fr": "Travaux de construction",
            "label_en": "Construction work",
            "level": 1,
        },
    )
    buyer = BuyerFactory()
    consultation, recipient = open_consultation(buyer)
    cipher = encrypt_to(recipient, b"offre " * 200)
    bidders = []
    with scopes_disabled():
        for _index in range(THREADS):
            company = CompanyFactory()
            user = make_member(company, Role.COMPANY_ADMIN, UserFactory())
            bid = services.bid_create(acting_user=user, company=company, consultation_id=consultation.pk)
            bid_file = services.file_announce(
                acting_user=user, company=company, bid=bid, envelope="offer", name="o.pdf", size=len(cipher)
            )
            services.upload_chunk(
                acting_user=user,
                company=company,
                bid_file=BidFile.objects.select_related("bid").get(pk=bid_file.pk),
                offset=0,
                stream=io.BytesIO(cipher),
                content_length=len(cipher),
            )
            bidders.append((user, company, bid))
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def deposit(user, company, bid) -> None:
        try:
            barrier.wait()
            with scopes_disabled():
                services.bid_deposit(acting_user=user, company=company, bid=bid)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=deposit, args=bidder) for bidder in bidders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with scopes_disabled():
        numbers = sorted(Bid.objects.filter(consultation=consultation).values_list("number", flat=True))
        assert Receipt.objects.filter(bid__consultation=consultation).count() == THREADS
    assert numbers == list(range(1, THREADS + 1))
