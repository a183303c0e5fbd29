"""The upload and deposit protocol (docs/bids-protocol.md) through the API, with its refusals."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io

import pyrage
import pytest
import time_machine
from django_scopes import scopes_disabled

from ebourgogne.audit.models import AuditEvent
from ebourgogne.consultations.models import State
from ebourgogne.tenders import uploads
from ebourgogne.tenders.limits import CHUNK_SIZE
from ebourgogne.tenders.models import Bid, BidFile, Receipt
from ebourgogne.tenders.tests.support import (
    announce,
    create_bid,
    deposit,
    full_bid,
    open_consultation,
    patch,
    post,
    sealed,
    upload,
)
from ebourgogne.testing.factories import LotFactory, sign_in

pytestmark = pytest.mark.django_db
ORG = "menuiserie-bourguignonne"


@pytest.fixture
def setup(client, buyer, company, company_member):
    consultation, recipient = open_consultation(buyer)
    sign_in(client, company_member)
    return client, consultation, recipient


def _stored(url: str) -> BidFile:
    with scopes_disabled():
        return BidFile.objects.get(upload_id=url.rsplit("/", 1)[1])


def test_whole_protocol(setup, company_member):
    client, consultation, recipient = setup
    bid = create_bid(client, ORG, consultation.pk)
    assert bid["state"] == "draft" and bid["late"] is False and bid["files"] == []
    assert bid["chunk_size"] == CHUNK_SIZE and bid["bid_size_limit"] == consultation.bid_size_limit
    data = sealed(recipient, 5000)
    announced = announce(client, ORG, bid["id"], len(data))
    assert announced["offset"] == 0 and announced["chunk_size"] == CHUNK_SIZE
    url = announced["url"]
    first = patch(client, url, 0, data[:1500])
    assert first.status_code == 204 and first["Upload-Offset"] == "1500"
    head = client.head(url)
    assert head.status_code == 204 and head["Upload-Offset"] == "1500" and head["Upload-Length"] == str(len(data))
    checksum = "sha256 " + base64.b64encode(hashlib.sha256(data[1500:]).digest()).decode()
    last = patch(client, url, 1500, data[1500:], HTTP_UPLOAD_CHECKSUM=checksum)
    assert last.status_code == 204 and last["Upload-Complete"] == "true"
    state = client.get(url).json()
    assert state == {
        "offset": len(data),
        "size": len(data),
        "state": "complete",
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    receipt = deposit(client, ORG, bid["id"]).json()
    assert receipt["late"] is False and receipt["number"]
    assert receipt["payload"]["files"][0]["sha256"] == hashlib.sha256(data).hexdigest()
    assert hashlib.sha256(base64.b64decode(receipt["payload_canonical"])).hexdigest() == receipt["digest"]
    detail = client.get(f"/api/v1/companies/{ORG}/bids/{bid['id']}").json()
    assert detail["state"] == "deposited" and detail["number"] == 1 and detail["receipt"]["number"] == receipt["number"]
    # The stored ciphertext is the bidder's, byte for byte, and decrypts with the consultation's identity.
    stored = _stored(url)
    assert uploads.path_of(stored).read_bytes() == data
    with scopes_disabled():
        assert Receipt.objects.filter(bid_id=bid["id"]).count() == 1
        actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "tenders.bid.created",
        "tenders.file.announced",
        "tenders.file.received",
        "tenders.bid.deposited",
    } <= actions


def test_ciphertext_from_the_age_cli_is_accepted(setup, tmp_path):
    import subprocess

    client, consultation, recipient = setup
    plain = tmp_path / "offre.pdf"
    plain.write_bytes(b"%PDF-1.7 offre" * 500)
    data = subprocess.run(  # noqa: S603
        ["/usr/bin/age", "-r", recipient, str(plain)], capture_output=True, check=True
    ).stdout
    bid = create_bid(client, ORG, consultation.pk)
    url = announce(client, ORG, bid["id"], len(data))["url"]
    upload(client, url, data, chunk=100)  # the header arrives over several chunks
    assert deposit(client, ORG, bid["id"]).status_code == 201


def test_lots_and_backup(setup, buyer):
    client, consultation, recipient = setup
    with scopes_disabled():
        LotFactory(consultation=consultation, number=1)
        LotFactory(consultation=consultation, number=3)
    bid = create_bid(client, ORG, consultation.pk, lots=[3, 1], kind="backup")
    assert bid["lots"] == [1, 3] and bid["kind"] == "backup"
    response = post(client, f"/api/v1/companies/{ORG}/bids", {"consultation": consultation.pk, "lots": [2]})
    assert response.status_code == 400 and response.json()["code"] == "invalid_lots"
    response = post(client, f"/api/v1/companies/{ORG}/bids", {"consultation": consultation.pk, "kind": "other"})
    assert response.status_code == 422


@pytest.mark.parametrize("state", [State.DRAFT, State.CANCELLED])
def test_draft_or_cancelled_consultation_refused(client, buyer, company_member, state):
    consultation, _recipient = open_consultation(buyer)
    with scopes_disabled():
        type(consultation).objects.filter(pk=consultation.pk).update(state=state)
    sign_in(client, company_member)
    response = post(client, f"/api/v1/companies/{ORG}/bids", {"consultation": consultation.pk})
    assert response.status_code == 400
    assert response.json()["code"] in {"not_accepting", "cancelled"} and response.json()["detail"]
    with scopes_disabled():
        assert not Bid.objects.exists()


def test_unknown_consultation(setup):
    client, _consultation, _recipient = setup
    response = post(client, f"/api/v1/companies/{ORG}/bids", {"consultation": 999999})
    assert response.status_code == 400 and response.json()["code"] == "not_accepting"


def test_plaintext_is_refused_at_once_and_reset(setup):
    client, consultation, recipient = setup
    bid = create_bid(client, ORG, consultation.pk)
    plain = b"%PDF-1.7\n" + b"x" * 3000
    url = announce(client, ORG, bid["id"], len(plain))["url"]
    response = patch(client, url, 0, plain[:1000])
    assert response.status_code == 400 and response.json()["code"] == "not_age"
    assert "age" in response.json()["detail"]
    assert client.head(url)["Upload-Offset"] == "0"
    assert uploads.size_on_disk(_stored(url)) == 0
    with scopes_disabled():
        assert AuditEvent.objects.filter(action="tenders.upload.refused").exists()


@pytest.mark.parametrize("kind", ["passphrase", "two_recipients", "armored"])
def test_other_age_headers_refused(setup, kind):
    client, consultation, recipient = setup
    key = pyrage.x25519.Recipient.from_str(recipient)
    if kind == "passphrase":
        data, code = pyrage.passphrase.encrypt(b"offre" * 100, "secret"), "wrong_recipient_stanza"
    elif kind == "two_recipients":
        other = pyrage.x25519.Identity.generate().to_public()
        data, code = pyrage.encrypt(b"offre" * 100, [key, other]), "wrong_recipient_stanza"
    else:
        data, code = b"-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgy\n", "not_age"
    bid = create_bid(client, ORG, consultation.pk)
    url = announce(client, ORG, bid["id"], len(data))["url"]
    response = patch(client, url, 0, data)
    assert response.status_code == 400 and response.json()["code"] == code
    assert _stored(url).received == 0


def test_ssh_recipient_refused(setup):
    client, consultation, _recipient = setup
    header = (
        b"age-encryption.org/v1\n-> ssh-ed25519 Xyz12A " + b"A" * 43 + b"\n" + b"B" * 43 + b"\n--- " + b"C" * 43 + b"\n"
    )
    bid = create_bid(client, ORG, consultation.pk)
    url = announce(client, ORG, bid["id"], len(header) + 100)["url"]
    response = patch(client, url, 0, header + b"\0" * 100)
    assert response.status_code == 400 and response.json()["code"] == "wrong_recipient_stanza"
    assert "ssh-ed25519" in response.json()["detail"]


def test_out_of_order_and_replayed_chunks(setup):
    client, consultation, recipient = setup
    data = sealed(recipient, 4000)
    bid = create_bid(client, ORG, consultation.pk)
    url = announce(client, ORG, bid["id"], len(data))["url"]
    assert patch(client, url, 0, data[:1000]).status_code == 204
    ahead = patch(client, url, 2000, data[2000:3000])
    assert ahead.status_code == 409 and ahead.json()["code"] == "offset_mismatch" and ahead.json()["offset"] == 1000
    replay = patch(client, url, 0, data[:1000])
    assert replay.status_code == 409 and replay["Upload-Offset"] == "1000"
    upload_rest = patch(client, url, 1000, data[1000:])
    assert upload_rest.status_code == 204
    assert client.get(url).json()["sha256"] == hashlib.sha256(data).hexdigest()  # nothing lost, nothing doubled


def test_truncated_chunk(setup):
    client, consultation, recipient = setup
    data = sealed(recipient, 4000)
    bid = create_bid(client, ORG, consultation.pk)
    url = announce(client, ORG, bid["id"], len(data))["url"]
    assert patch(client, url, 0, data[:1000]).status_code == 204
    # The connection drops after 500 of the 1000 bytes announced by Content-Length.
    response = patch(
        client, url, 1000, data[1000:1500], CONTENT_LENGTH="1000", **{"wsgi.input": io.BytesIO(data[1000:1500])}
    )
    assert response.status_code == 400 and response.json()["code"] == "truncated_chunk"
    assert client.head(url)["Upload-Offset"] == "1000"
    assert uploads.size_on_disk(_stored(url)) == 1000
    assert patch(client, url, 1000, data[1000:]).status_code == 204
    assert client.get(url).json()["sha256"] == hashlib.sha256(data).hexdigest()


def test_oversized_chunk_and_beyond_size(setup):
    client, consultation, recipient = setup
    data = sealed(recipient, 4000)
    bid = create_bid(client, ORG, consultation.pk)
    url = announce(client, ORG, bid["id"], len(data))["url"]
    too_big = patch(client, url, 0, data, CONTENT_LENGTH=str(CHUNK_SIZE + 1), **{"wsgi.input": io.BytesIO(data)})
    assert too_big.status_code == 413 and too_big.json()["code"] == "chunk_too_large"
    beyond = patch(client, url, 0, data + b"extra")
    assert beyond.status_code == 413 and beyond.json()["code"] == "beyond_size"
    assert client.head(url)["Upload-Offset"] == "0"


def test_checksum_mismatch(setup):
    client, consultation, recipient = setup
    data = sealed(recipient, 4000)
    bid = create_bid(client, ORG, consultation.pk)
    url = announce(client, ORG, bid["id"], len(data))["url"]
    wrong = "sha256 " + base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    response = patch(client, url, 0, data[:1000], HTTP_UPLOAD_CHECKSUM=wrong)
    assert response.status_code == 460 and response.json()["code"] == "checksum_mismatch"
    assert client.head(url)["Upload-Offset"] == "0"
    bad = patch(client, url, 0, data[:1000], HTTP_UPLOAD_CHECKSUM="md5 abc")
    assert bad.status_code == 400 and bad.json()["code"] == "checksum_unsupported"
    right = "sha256 " + base64.b64encode(hashlib.sha256(data[:1000]).digest()).decode()
    assert patch(client, url, 0, data[:1000], HTTP_UPLOAD_CHECKSUM=right).status_code == 204  # header included


def test_size_limit(client, buyer, company_member):
    consultation, _recipient = open_consultation(buyer, bid_size_limit=10_000)
    sign_in(client, company_member)
    bid = create_bid(client, ORG, consultation.pk)
    announce(client, ORG, bid["id"], 6_000)
    response = post(
        client,
        f"/api/v1/companies/{ORG}/bids/{bid['id']}/files",
        {"envelope": "application", "name": "a.pdf", "size": 5_000},
    )
    assert response.status_code == 413 and response.json()["code"] == "too_large"
    assert "9,8\xa0Kio" in response.json()["detail"]  # the limit, said in the message


def test_deposit_needs_complete_files(setup):
    client, consultation, recipient = setup
    bid = create_bid(client, ORG, consultation.pk)
    empty = deposit(client, ORG, bid["id"])
    assert empty.status_code == 400 and empty.json()["code"] == "no_files"
    data = sealed(recipient, 3000)
    url = announce(client, ORG, bid["id"], len(data))["url"]
    patch(client, url, 0, data[:1000])
    partial = deposit(client, ORG, bid["id"])
    assert partial.status_code == 400 and partial.json()["code"] == "files_incomplete"
    with scopes_disabled():
        assert not Receipt.objects.exists() and Bid.objects.get(pk=bid["id"]).state == "draft"


def test_deposited_bid_is_frozen(setup):
    client, consultation, recipient = setup
    receipt = full_bid(client, ORG, consultation.pk, recipient)
    bid_id = receipt["bid"]
    detail = client.get(f"/api/v1/companies/{ORG}/bids/{bid_id}").json()
    url = detail["files"][0]["url"]
    assert patch(client, url, detail["files"][0]["size"], b"more").json()["code"] == "bid_deposited"
    assert client.delete(url).status_code == 409
    response = post(
        client, f"/api/v1/companies/{ORG}/bids/{bid_id}/files", {"envelope": "offer", "name": "b.pdf", "size": 10}
    )
    assert response.status_code == 409
    again = deposit(client, ORG, bid_id)
    assert again.status_code == 409 and again.json()["code"] == "bid_deposited"


def test_remove_file(setup, django_capture_on_commit_callbacks):
    client, consultation, recipient = setup
    bid = create_bid(client, ORG, consultation.pk)
    data = sealed(recipient, 2000)
    url = announce(client, ORG, bid["id"], len(data))["url"]
    upload(client, url, data)
    path = uploads.path_of(_stored(url))
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(url).status_code == 204
    assert not path.exists()
    assert client.head(url).status_code == 404


def test_after_the_deadline_it_is_late_and_said_so(setup):
    client, consultation, recipient = setup
    with time_machine.travel(consultation.bids_deadline + dt.timedelta(seconds=1), tick=False):
        bid = create_bid(client, ORG, consultation.pk)
        assert bid["late"] is True
        data = sealed(recipient, 2000)
        url = announce(client, ORG, bid["id"], len(data))["url"]
        upload(client, url, data)
        receipt = deposit(client, ORG, bid["id"]).json()
    assert receipt["late"] is True and receipt["payload"]["late"] is True
    with scopes_disabled():
        stored = Bid.objects.get(pk=bid["id"])
    assert stored.is_late and stored.upload_started_at is not None


def test_successive_bids_only_the_last_in_time_is_to_open(setup):
    from ebourgogne.tenders.selectors import bids_to_open

    client, consultation, recipient = setup
    first = full_bid(client, ORG, consultation.pk, recipient, seed=1)
    second = full_bid(client, ORG, consultation.pk, recipient, seed=2)
    backup = full_bid(client, ORG, consultation.pk, recipient, seed=3, kind="backup")
    with time_machine.travel(consultation.bids_deadline, tick=False):
        late = full_bid(client, ORG, consultation.pk, recipient, seed=4)
    with scopes_disabled():
        bids = {bid.pk: bid for bid in Bid.objects.all()}
        to_open = list(bids_to_open(consultation).values_list("pk", flat=True))
    assert bids[first["bid"]].superseded_by_id == second["bid"]
    assert bids[second["bid"]].superseded_by_id is None
    assert bids[backup["bid"]].superseded_by_id is None  # a backup copy does not replace the bid
    assert bids[late["bid"]].is_late and bids[second["bid"]].superseded_by_id is None  # late replaces nothing
    assert to_open == [second["bid"]]
    assert [bids[pk].number for pk in sorted(bids)] == [1, 2, 3, 4]


def test_another_company_cannot_touch_the_upload(setup, other_company, other_company_member):
    client, consultation, recipient = setup
    bid = create_bid(client, ORG, consultation.pk)
    data = sealed(recipient, 2000)
    url = announce(client, ORG, bid["id"], len(data))["url"]
    patch(client, url, 0, data[:500])
    other_org = other_company.slug
    sign_in(client, other_company_member)
    foreign = url.replace(f"/companies/{ORG}/", f"/companies/{other_org}/")
    assert client.head(foreign).status_code == 404
    assert patch(client, foreign, 500, data[500:]).status_code == 404
    assert client.delete(foreign).status_code == 404
    assert client.get(f"/api/v1/companies/{other_org}/bids/{bid['id']}").status_code == 404
    assert deposit(client, other_org, bid["id"]).status_code == 404
    # Through the owner's slug: not a member → 404 as well.
    assert client.head(url).status_code == 404
    assert patch(client, url, 500, data[500:]).status_code == 404
    assert _stored(url).received == 500  # nothing lost


def test_anonymous_and_token(client, setup, company_member):
    from ebourgogne.apitokens.services import token_create

    _client, consultation, recipient = setup
    client.logout()
    assert client.get(f"/api/v1/companies/{ORG}/bids").status_code == 401
    _token, token = token_create(user=company_member, name="logiciel")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    response = client.get(f"/api/v1/companies/{ORG}/bids", **auth)
    assert response.status_code == 200


def test_buyer_register_before_and_after_deadline(client, setup, buyer_agent, outsider, other_buyer):
    company_client, consultation, recipient = setup
    full_bid(company_client, ORG, consultation.pk, recipient)
    url = f"/api/v1/buyers/{consultation.organisation.slug}/consultations/{consultation.pk}/bids"
    sign_in(client, buyer_agent)
    before = client.get(url).json()
    assert before["count"] == 1 and before["entries"] == [] and before["deadline_passed"] is False
    assert "Menuiserie" not in client.get(url).content.decode()
    with time_machine.travel(consultation.bids_deadline, tick=False):
        after = client.get(url).json()
    assert after["deadline_passed"] is True and after["entries"][0]["company"] == "Menuiserie Bourguignonne"
    assert after["entries"][0]["receipt_number"]
    sign_in(client, outsider)
    assert client.get(url).status_code == 404
    other_url = f"/api/v1/buyers/{other_buyer.slug}/consultations/{consultation.pk}/bids"
    assert client.get(other_url).status_code == 404


def test_deposit_without_a_body_and_bad_requests(setup):
    client, consultation, recipient = setup
    bid = create_bid(client, ORG, consultation.pk)
    data = sealed(recipient, 2000)
    url = announce(client, ORG, bid["id"], len(data))["url"]
    upload(client, url, data)
    assert client.head(url.replace(url.rsplit("/", 1)[1], "00000000-0000-0000-0000-000000000000")).status_code == 404
    bad_offset = client.generic(
        "PATCH", url, b"x", content_type="application/offset+octet-stream", HTTP_UPLOAD_OFFSET="a"
    )
    assert bad_offset.status_code == 400 and bad_offset.json()["code"] == "offset_invalid"
    not_json = client.post(f"/api/v1/companies/{ORG}/bids", "{", content_type="application/json")
    assert not_json.status_code in (400, 422)
    response = client.post(f"/api/v1/companies/{ORG}/bids/{bid['id']}/deposit")
    assert response.status_code == 201, response.content


def test_a_busy_database_is_a_503_not_a_500(setup, monkeypatch):
    from django.db import OperationalError

    from ebourgogne.tenders import services

    client, consultation, recipient = setup

    def locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "bid_create", locked)
    response = post(client, f"/api/v1/companies/{ORG}/bids", {"consultation": consultation.pk})
    assert response.status_code == 503 and response["Retry-After"] == "1" and response.json()["code"] == "busy"


def test_the_hash_is_that_of_the_stored_bytes_even_if_another_writer_came_by(setup):
    """The running hash kept by a server process is used only if nobody else wrote the file since."""
    client, consultation, recipient = setup
    data = sealed(recipient, 6000)
    bid = create_bid(client, ORG, consultation.pk)
    url = announce(client, ORG, bid["id"], len(data))["url"]
    assert patch(client, url, 0, data[:3000]).status_code == 204
    path = uploads.path_of(_stored(url))
    other = bytearray(path.read_bytes())
    other[2000:2010] = b"0123456789"  # as if another node had rewritten these bytes (same size)
    path.write_bytes(bytes(other))
    assert patch(client, url, 3000, data[3000:]).status_code == 204
    assert client.get(url).json()["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert client.get(url).json()["sha256"] != hashlib.sha256(data).hexdigest()


def test_numbers_out_of_range_are_refused_cleanly(setup):
    client, consultation, _recipient = setup
    huge = 10**20
    response = post(client, f"/api/v1/companies/{ORG}/bids", {"consultation": huge})
    assert response.status_code in (400, 422)
    response = post(client, f"/api/v1/companies/{ORG}/bids", {"consultation": consultation.pk, "lots": [huge]})
    assert response.status_code in (400, 422)
    bid = create_bid(client, ORG, consultation.pk)
    response = post(
        client, f"/api/v1/companies/{ORG}/bids/{bid['id']}/files", {"envelope": "offer", "name": "a", "size": huge}
    )
    assert response.status_code in (413, 422)
    assert client.get(f"/api/v1/companies/{ORG}/bids/{huge}").status_code == 404


def test_refusals_in_english(setup):
    client, consultation, recipient = setup
    bid = create_bid(client, ORG, consultation.pk)
    url = announce(client, ORG, bid["id"], 100)["url"]
    response = patch(client, url, 0, b"%PDF-1.7\n" + b"x" * 91, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("This file is not encrypted in the age format")
