"""kill -9 of the server at random points during uploads and deposits (issue 4, Reliability).

A real server (`ebourgogne serve`, gunicorn, SQLite in a throw-away data folder) receives resumable
uploads and deposits from a client in this process; during requests drawn at random (the kill lands 0-30 ms
after the request starts) the whole server is killed with SIGKILL and started again. The client does what a bidder's software does: on a lost
connection it asks the offset (HEAD) and resumes; on a lost deposit answer it reads the bid. Then:

- 0 receipts without a stored bid: every receipt's bid is deposited, numbered, its files complete, on
  disk with the size and SHA-256 recorded (and printed in the receipt);
- no half-deposit: every deposited bid has its receipt, and every draft has none;
- 100 % of interrupted uploads resumed to the same hash as the ciphertext the client sent.

The default run is small (EBOURGOGNE_CRASH_UPLOADS=6 uploads and deposits, 3 kills); the issue's full run
is `EBOURGOGNE_CRASH_UPLOADS=100 uv run pytest src/ebourgogne/tenders/tests/test_crash.py` (33 kills;
EBOURGOGNE_CRASH_KILLS and EBOURGOGNE_CRASH_SEED change the number of kills and the random seed).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from ebourgogne.core.tests.servers import ServerProcess, child_env, ebourgogne, free_port, run
from ebourgogne.testing.sealing import encrypt_to

UPLOADS = int(os.environ.get("EBOURGOGNE_CRASH_UPLOADS", "6"))
CHUNK = 16 * 1024

SEED = """
import json
from ebourgogne.apitokens.services import token_create
from ebourgogne.organisations.roles import Role
from ebourgogne.sealing.models import ConsultationKey
from ebourgogne.testing.factories import BuyerFactory, CompanyFactory, ConsultationFactory, UserFactory, make_member
from ebourgogne.testing.sealing import give_test_key
buyer = BuyerFactory(name="Commune de Beaune")
company = CompanyFactory(name="Menuiserie du Morvan", slug="menuiserie-du-morvan")
consultation = ConsultationFactory(organisation=buyer, published=True)
give_test_key(consultation)
# One member and one token per bidder (a person holds at most 20 active tokens).
tokens = [
    token_create(user=make_member(company, Role.COMPANY_MEMBER, UserFactory(email=f"crash{i}@morvan.test")), name="crash")[1]
    for i in range(%(count)d)
]
recipient = ConsultationKey.objects.get(consultation=consultation).recipient
print(json.dumps({"consultation": consultation.pk, "recipient": recipient, "tokens": tokens}))
"""


def _prepare_database(data: Path, env: dict[str, str]) -> None:
    """The child's database: a copy of the migrated test database (SQLite), or migrated afresh."""
    if connection.vendor == "sqlite":
        source = sqlite3.connect(connection.settings_dict["NAME"])  # what is committed: the migrated schema
        target = sqlite3.connect(data / "db.sqlite3")
        with target:
            source.backup(target)
        target.close()
        source.close()
        return
    result = run(ebourgogne("migrate", "-v0"), env, timeout=300)
    assert result.returncode == 0, result.stderr


class Harness:
    """The server, started and killed; the client's HTTP calls, retried across crashes."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.tmp_path = tmp_path
        self.env = env
        self.port = free_port()
        self.server: ServerProcess | None = None
        self.kills = 0
        self.lock = threading.Lock()
        self.lock_calls = threading.Lock()
        self.stopping = threading.Event()
        self.starts = 0
        self.calls = 0
        self.kill_at: set[int] = set()  # the request numbers during which the server is killed
        self.rng = random.Random(0)
        self.killers: list[threading.Thread] = []
        self.failures: dict[str, int] = {}  # per token: requests the server died under (or refused: down)

    def start(self) -> None:
        self.starts += 1
        log = self.tmp_path / f"server-{self.starts}.log"
        args = ebourgogne("serve", "--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--threads", "4")
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603
                args, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.server = ServerProcess(process, self.port, log)
        self.server.wait_until_up("/healthz", timeout=90)

    def kill(self) -> None:
        """SIGKILL to the server's whole process group (the gunicorn master and its worker), then restart."""
        with self.lock:
            assert self.server is not None
            os.killpg(self.server.process.pid, signal.SIGKILL)
            self.server.process.wait(timeout=30)
            self.kills += 1
            self.start()

    def plan_kills(self, rng: random.Random, count: int, requests: int) -> None:
        """Kill the server during `count` requests drawn at random among the first `requests` (fewer than
        the bidders will make whatever their file sizes), so that every planned kill happens."""
        self.rng = rng
        self.kill_at = set(rng.sample(range(5, requests), count))

    def _kill_soon(self) -> None:
        time.sleep(self.rng.uniform(0, 0.03))  # while the request is being received or answered
        self.kill()

    def call(self, method: str, path: str, token: str, body: bytes | None = None, headers: dict | None = None):
        """One request; None when the connection broke (the server died under it)."""
        all_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
        with self.lock_calls:
            self.calls += 1
            if self.calls in self.kill_at:
                killer = threading.Thread(target=self._kill_soon)
                self.killers.append(killer)
                killer.start()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        except (OSError, http.client.HTTPException):
            with self.lock_calls:
                self.failures[token] = self.failures.get(token, 0) + 1
            return None
        finally:
            conn.close()

    def retry(self, method: str, path: str, token: str, body: bytes | None = None, headers: dict | None = None):
        deadline = time.monotonic() + 300  # a restart takes seconds, more on a loaded machine
        while time.monotonic() < deadline:
            answer = self.call(method, path, token, body, headers)
            if answer is not None:
                return answer
            time.sleep(0.2)
        raise AssertionError(f"{method} {path}: no answer for 300 s")


def _json(body: bytes) -> dict:
    return json.loads(body.decode())


def _bidder(harness: Harness, seed: dict, index: int, rng: random.Random, results: dict) -> None:
    """Create a bid, upload one file resumably, deposit; note what was sent and what was interrupted."""
    token = seed["tokens"][index]
    org = "menuiserie-du-morvan"
    plain = rng.randbytes(rng.randint(60_000, 200_000))
    cipher = encrypt_to(seed["recipient"], plain)
    json_headers = {"Content-Type": "application/json"}
    # Creating and announcing are not idempotent: a lost answer leaves an unused draft, which is harmless.
    while True:
        status, _h, body = harness.retry(
            "POST",
            f"/api/v1/companies/{org}/bids",
            token,
            json.dumps({"consultation": seed["consultation"]}).encode(),
            json_headers,
        )
        if status == 201:
            bid = _json(body)
            break
    while True:
        payload = {"envelope": "offer", "name": f"offre-{index}.pdf", "size": len(cipher)}
        answer = harness.call(
            "POST", f"/api/v1/companies/{org}/bids/{bid['id']}/files", token, json.dumps(payload).encode(), json_headers
        )
        if answer is not None and answer[0] == 201:
            url = _json(answer[2])["url"]
            break
        if answer is None:  # the file may have been announced: look at the bid
            time.sleep(0.1)
            status, _h, body = harness.retry("GET", f"/api/v1/companies/{org}/bids/{bid['id']}", token)
            files = _json(body)["files"] if status == 200 else []
            if files:
                url = files[0]["url"]
                break
    interrupted = False
    while True:
        status, headers, _body = harness.retry("HEAD", url, token)
        assert status == 204, status
        offset = int(headers["upload-offset"])
        if offset == len(cipher):
            break
        chunk = cipher[offset : offset + CHUNK]
        answer = harness.call(
            "PATCH",
            url,
            token,
            chunk,
            {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"},
        )
        if answer is None:
            interrupted = True
            continue
        assert answer[0] in (204, 409), (answer[0], answer[2][:300])  # 409: a chunk recorded before the crash
    status, _h, body = harness.retry("GET", url, token)
    sha = _json(body)["sha256"]
    while True:
        answer = harness.call("POST", f"/api/v1/companies/{org}/bids/{bid['id']}/deposit", token, b"{}", json_headers)
        if answer is not None and answer[0] == 201:
            break
        if answer is not None and answer[0] == 409:  # deposited by an earlier attempt whose answer was lost
            break
        time.sleep(0.1)
    results[index] = {
        "bid": bid["id"],
        "upload_id": url.rsplit("/", 1)[1],
        "sent_sha256": hashlib.sha256(cipher).hexdigest(),
        "server_sha256": sha,
        "interrupted": interrupted or harness.failures.get(token, 0) > 0,
    }


@pytest.mark.django_db
def test_kill_9_during_uploads_and_deposits(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    env = child_env(data, EBOURGOGNE_ALLOWED_HOSTS="127.0.0.1,localhost")
    _prepare_database(data, env)
    seeded = run(ebourgogne("shell", "-c", SEED % {"count": UPLOADS}), env, timeout=180)
    assert seeded.returncode == 0, seeded.stderr
    seed = json.loads(seeded.stdout.strip().splitlines()[-1])

    rng = random.Random(int(os.environ.get("EBOURGOGNE_CRASH_SEED", "4")))
    harness = Harness(tmp_path, env)
    harness.start()
    kills = int(os.environ.get("EBOURGOGNE_CRASH_KILLS", str(max(3, UPLOADS // 3))))
    # A bidder makes at least 13 requests (create, announce, 4 chunks with their HEAD, HEAD, GET, deposit).
    harness.plan_kills(random.Random(rng.random()), kills, 12 * UPLOADS)
    results: dict[int, dict] = {}
    workers = [
        threading.Thread(target=_bidder, args=(harness, seed, index, random.Random(rng.random()), results))
        for index in range(UPLOADS)
    ]
    try:
        for group in range(0, UPLOADS, 3):  # three bidders at a time
            batch = workers[group : group + 3]
            for worker in batch:
                worker.start()
            for worker in batch:
                worker.join(timeout=600)
    finally:
        for killer in list(harness.killers):
            killer.join(timeout=300)
        with harness.lock:
            os.killpg(harness.server.process.pid, signal.SIGKILL)  # a last crash, wherever it falls
            harness.server.process.wait(timeout=30)

    assert len(results) == UPLOADS, "some bidders did not finish"
    assert harness.kills == kills, f"{harness.kills} kills instead of {kills}"
    # Resumed to the same hash, every one of them (interrupted or not).
    for result in results.values():
        assert result["server_sha256"] == result["sent_sha256"], result
    assert any(result["interrupted"] for result in results.values()), "no upload was interrupted"

    database = sqlite3.connect(data / "db.sqlite3")
    rows = database.execute(
        "SELECT b.id, b.state, b.number, b.deposited_at, r.id, r.payload FROM tenders_bid b "
        "LEFT JOIN tenders_receipt r ON r.bid_id = b.id"
    ).fetchall()
    for bid_id, state, number, deposited_at, receipt_id, payload in rows:
        if receipt_id is None:
            assert state == "draft", f"bid {bid_id} deposited without a receipt (a half-deposit)"
            continue
        assert state == "deposited" and number and deposited_at, f"receipt of bid {bid_id} without a stored bid"
        files = database.execute(
            "SELECT upload_id, size, sha256, state, storage_name FROM tenders_bidfile WHERE bid_id = ?", (bid_id,)
        ).fetchall()
        assert files, f"receipt of bid {bid_id} without files"
        receipt_files = {f["sha256"] for f in json.loads(bytes(payload))["files"]}
        for _upload_id, size, sha256, file_state, storage_name in files:
            assert file_state == "complete"
            stored = data / "bids" / storage_name
            assert stored.stat().st_size == size
            assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha256
            assert sha256 in receipt_files
    deposited = {bid_id for bid_id, state, *_rest in rows if state == "deposited"}
    assert {result["bid"] for result in results.values()} <= deposited
    database.close()
