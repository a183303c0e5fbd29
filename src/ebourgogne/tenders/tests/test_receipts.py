"""Receipts of deposited bids: what they say, the RFC 3161 token over their digest, the downloads (PDF,
JSON, API) for the company's members only, and an external timestamp authority that is down."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.apitokens.services import token_create
from ebourgogne.tenders import receipts
from ebourgogne.tenders.models import BidKind, Receipt
from ebourgogne.tenders.tests.receipts_support import consultation_with_key, deposited_bid, issue
from ebourgogne.testing.factories import sign_in
from ebourgogne.timestamping import authority as tsa
from ebourgogne.timestamping.tests.tsa_server import TsaServer, closed_port_url


@pytest.fixture
def consultation(buyer):
    consultation, _recipient = consultation_with_key(buyer, reference="2026-BEA-12", title="Rénovation de la halle")
    return consultation


@pytest.fixture
def receipt(company, company_member, consultation, django_capture_on_commit_callbacks):
    bid, _files = deposited_bid(company, company_member, consultation, lots=2)
    with django_capture_on_commit_callbacks():
        return issue(bid)


def test_the_payload_says_who_deposited_what_where_and_when(receipt, company, company_member, consultation, buyer):
    payload = json.loads(bytes(receipt.payload))
    bid = receipt.bid
    with scopes_disabled():
        files = list(bid.files.order_by("envelope", "id"))
        key = consultation.opening_key
    assert payload["bidder"]["name"] == company.name and payload["bidder"]["siret"] == company.siret
    assert payload["bidder"]["depositor"] == {"name": company_member.full_name, "email": company_member.email}
    assert payload["buyer"]["name"] == buyer.name
    assert payload["consultation"]["reference"] == "2026-BEA-12"
    assert [lot["number"] for lot in payload["lots"]] == [1, 2]
    assert payload["deposited_at"].startswith(bid.deposited_at.astimezone(tsa.dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    assert payload["late"] is False and payload["kind_label"] == "offre"
    assert payload["recipient"] == key.recipient
    assert payload["recipient_fingerprint"] == hashlib.sha256(key.recipient.encode()).hexdigest()
    assert [(f["name"], f["size"], f["sha256"]) for f in payload["files"]] == [
        (f.name, f.size, f.sha256) for f in files
    ]
    assert receipt.number == f"EB-{consultation.pk}-{bid.number}"


def test_the_digest_covers_the_canonical_payload_and_the_token_covers_the_digest(receipt):
    payload = bytes(receipt.payload)
    assert payload == receipts.canonical(json.loads(payload))  # sorted keys, no spaces, UTF-8
    assert receipt.digest == hashlib.sha256(payload).hexdigest()
    verified = tsa.verify(bytes(receipt.timestamp_token), bytes.fromhex(receipt.digest))
    assert abs((verified.time - receipt.bid.deposited_at).total_seconds()) < 5
    assert receipt.timestamp_authority == tsa.get_authority().name


def test_a_late_backup_copy_says_so(company, company_member, consultation):
    bid, _files = deposited_bid(company, company_member, consultation, late=True, kind=BidKind.BACKUP)
    receipt = issue(bid)
    payload = json.loads(bytes(receipt.payload))
    assert payload["late"] is True and receipt.is_late
    assert payload["kind"] == "backup" and payload["kind_label"] == "copie de sauvegarde"
    document = receipts.receipt_document(receipt)
    assert document["late"] is True
    assert receipts.receipt_pdf(receipt, "fr").startswith(b"%PDF-")
    assert receipts.receipt_pdf(receipt, "en").startswith(b"%PDF-")


def test_the_json_carries_what_offline_verification_needs(receipt):
    document = receipts.receipt_document(receipt)
    assert base64.b64decode(document["payload_canonical"]) == bytes(receipt.payload)
    assert document["payload"] == json.loads(bytes(receipt.payload))
    assert document["digest"] == receipt.digest
    assert base64.b64decode(document["timestamp_token"]) == bytes(receipt.timestamp_token)
    assert document["timestamp_pending"] is False
    chain = [tsa.load_pem_certificates(pem.encode())[0] for pem in document["tsa_certificates"]]
    authority = tsa.get_authority()
    assert [c.dump() for c in chain] == [authority.tsa_certificate.dump(), authority.root.dump()]


# -- Downloads --------------------------------------------------------------------------------------


def test_the_companys_members_download_the_pdf_and_the_json(client, receipt, company, company_member):
    sign_in(client, company_member)
    pdf = client.get(reverse("tenders_receipts:pdf", args=[company.slug, receipt.bid_id]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and f"accuse-{receipt.number}.pdf" in pdf["Content-Disposition"]
    document = client.get(reverse("tenders_receipts:json", args=[company.slug, receipt.bid_id]))
    assert document.status_code == 200
    assert json.loads(document.content)["digest"] == receipt.digest


def test_another_company_cannot_reach_the_receipt_even_through_its_own_address(
    client, receipt, company, other_company, other_company_member
):
    sign_in(client, other_company_member)
    assert client.get(reverse("tenders_receipts:pdf", args=[company.slug, receipt.bid_id])).status_code == 404
    # Its own organisation in the address, someone else's bid: still nothing.
    assert client.get(reverse("tenders_receipts:json", args=[other_company.slug, receipt.bid_id])).status_code == 404


def test_the_buyer_cannot_download_a_companys_receipt(client, receipt, company, buyer_admin):
    sign_in(client, buyer_admin)
    assert client.get(reverse("tenders_receipts:pdf", args=[company.slug, receipt.bid_id])).status_code == 404


def test_a_draft_has_no_receipt(client, company, company_member, consultation):
    bid, _files = deposited_bid(company, company_member, consultation)
    sign_in(client, company_member)
    assert client.get(reverse("tenders_receipts:pdf", args=[company.slug, bid.pk])).status_code == 404
    response = client.get(f"/api/v1/companies/{company.slug}/bids/{bid.pk}/receipt")
    assert response.status_code == 404 and response.json()["code"] == "receipt_not_found"


def test_the_api_gives_the_receipt_to_a_personal_token(client, receipt, company, company_member, other_company_member):
    _token, secret = token_create(user=company_member, name="Logiciel de réponse")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    response = client.get(f"/api/v1/companies/{company.slug}/bids/{receipt.bid_id}/receipt", **auth)
    assert response.status_code == 200
    document = response.json()
    assert document["number"] == receipt.number and document["timestamp_token"]
    pdf = client.get(f"/api/v1/companies/{company.slug}/bids/{receipt.bid_id}/receipt.pdf", **auth)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    _other, other_secret = token_create(user=other_company_member, name="Concurrent")
    stranger = client.get(
        f"/api/v1/companies/{company.slug}/bids/{receipt.bid_id}/receipt", HTTP_AUTHORIZATION=f"Bearer {other_secret}"
    )
    assert stranger.status_code == 404


# -- An external authority ---------------------------------------------------------------------------


@pytest.fixture
def external_authority(monkeypatch):
    """Point the platform at an external TSA (the URL is set by the test); restore the embedded one after."""

    def configure(url: str, ca_file: str = "") -> None:
        monkeypatch.setenv("EBOURGOGNE_TSA_URL", url)
        monkeypatch.setenv("EBOURGOGNE_TSA_CA_FILE", ca_file)
        monkeypatch.setenv("EBOURGOGNE_TSA_TIMEOUT", "2")
        tsa.reset_authority()

    yield configure
    monkeypatch.undo()
    tsa.reset_authority()


def test_an_external_authority_stamps_after_the_commit(
    company, company_member, consultation, external_authority, tmp_path, django_capture_on_commit_callbacks
):
    with TsaServer(tmp_path / "remote") as server:
        external_authority(server.url, str(server.ca_file))
        bid, _files = deposited_bid(company, company_member, consultation)
        with django_capture_on_commit_callbacks(execute=True):
            receipt = issue(bid)
            assert server.requests == 0  # never while the deposit holds its locks
        receipt.refresh_from_db()
        assert server.requests == 1 and receipt.timestamp_token
        verified = tsa.verify(bytes(receipt.timestamp_token), bytes.fromhex(receipt.digest))
        assert verified.root_fingerprint == tsa.fingerprint(server.authority.root)


def test_an_authority_down_loses_no_deposit_and_the_token_comes_later(
    company, company_member, consultation, external_authority, tmp_path, django_capture_on_commit_callbacks
):
    external_authority(closed_port_url())
    bid, _files = deposited_bid(company, company_member, consultation)
    with django_capture_on_commit_callbacks(execute=True):
        receipt = issue(bid)
    receipt.refresh_from_db()
    assert receipt.timestamp_token is None  # the receipt exists, the deposit stands
    document = receipts.receipt_document(receipt)
    assert document["timestamp_pending"] is True and document["timestamp_token"] is None
    assert receipts.receipt_pdf(receipt, "fr").startswith(b"%PDF-")
    failing = receipts.verify_document(document)
    assert any(not c.ok and "pas encore de jeton" in c.message for c in failing)
    # The authority is back: the sweep (periodic job) fetches the token.
    with TsaServer(tmp_path / "remote") as server:
        external_authority(server.url, str(server.ca_file))
        assert receipts.stamp_pending() == 1
    receipt.refresh_from_db()
    assert receipt.timestamp_token
    with scopes_disabled():
        assert Receipt.objects.filter(timestamp_token__isnull=True).count() == 0
    checks = receipts.verify_document(receipts.receipt_document(receipt), trust_roots=[server.authority.root])
    assert all(c.ok for c in checks), checks


def test_a_broken_embedded_authority_loses_no_deposit(company, company_member, consultation, monkeypatch, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("root.pem", "tsa.pem", "tsa.key"):
        (broken / name).write_text("abîmé")
    monkeypatch.setenv("EBOURGOGNE_TSA_DIR", str(broken))
    tsa.reset_authority()
    try:
        bid, _files = deposited_bid(company, company_member, consultation)
        receipt = issue(bid)
        receipt.refresh_from_db()
        assert receipt.timestamp_token is None and receipt.digest
        monkeypatch.setenv("EBOURGOGNE_TSA_DIR", str(tmp_path / "repaired"))
        tsa.reset_authority()
        assert receipts.stamp_pending() == 1
        receipt.refresh_from_db()
        tsa.verify(bytes(receipt.timestamp_token), bytes.fromhex(receipt.digest))
    finally:
        monkeypatch.undo()
        tsa.reset_authority()


# -- The deposit: the token is signed right after the commit, outside the consultation's lock --------------


@pytest.mark.django_db(transaction=True)
def test_a_deposit_has_its_token_when_answered_and_a_missed_token_is_repaired(
    client, buyer, company, company_member, monkeypatch
):
    from ebourgogne.tenders.models import Bid, BidState
    from ebourgogne.tenders.tests.support import announce, create_bid, deposit, open_consultation, sealed, upload

    consultation, recipient = open_consultation(buyer)
    sign_in(client, company_member)

    def uploaded(seed: int) -> int:
        bid = create_bid(client, company.slug, consultation.pk)
        data = sealed(recipient, 2000, seed)
        upload(client, announce(client, company.slug, bid["id"], len(data))["url"], data, chunk=4096)
        return bid["id"]

    # Real commits: the answer to the deposit already carries the token, which covers the receipt's digest.
    answer = deposit(client, company.slug, uploaded(1))
    assert answer.status_code == 201, answer.content
    document = answer.json()
    token = base64.b64decode(document["timestamp_token"])
    assert tsa.verify(token, bytes.fromhex(document["digest"])).time is not None

    # The process dies between the commit and the signature: the bid stays deposited with its receipt,
    # pending (never a bid without receipt), and the periodic sweep stamps it.
    monkeypatch.setattr(receipts, "stamp_now_or_later", lambda receipt_id: None)
    second = uploaded(2)
    answer = deposit(client, company.slug, second)
    assert answer.status_code == 201, answer.content
    assert answer.json()["timestamp_token"] is None
    with scopes_disabled():
        assert Bid.objects.get(pk=second).state == BidState.DEPOSITED
        receipt = Receipt.objects.get(bid_id=second)
    assert receipt.timestamp_token is None
    assert receipts.receipt_document(receipt)["timestamp_pending"] is True
    assert receipts.stamp_pending() == 1
    receipt.refresh_from_db()
    verified = tsa.verify(bytes(receipt.timestamp_token), bytes.fromhex(receipt.digest))
    assert verified.time >= receipt.bid.deposited_at.replace(microsecond=0)
    with scopes_disabled():
        assert Receipt.objects.filter(timestamp_token__isnull=True).count() == 0
