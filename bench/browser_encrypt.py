"""Benchmark `browser-encrypt`: age encryption in the bidder's browser, and what it costs an upload.

Method (docs/benchmarks.md, section "browser-encrypt"): a fresh data folder and database (SQLite in the folder,
or a throw-away database on DATABASE_URL's PostgreSQL server); one published consultation with a test opening
key, one company member with a personal API token; `ebourgogne serve` (gunicorn, production mode) on
loopback; headless Debian Chromium (testing/browser.py's flags) on the workstation test page, which loads the
committed bundle (static/tenders/age.min.js) and the bid page's own code (static/tenders/sealed.js).
The plaintext is SIZE MB of random bytes (500 MB; 20 MB with --quick) in a file given to the page through a
file input, as a bidder picks it; `age -r RECIPIENT -o cipher plain` makes its ciphertext (same size as the
browser's, to the byte) before the clock starts.

1. Encryption throughput, in rounds, in turn:
   - age:     the Debian `age` CLI, `age -r RECIPIENT -o /dev/null plain`;
   - browser: in the page, `ebSealed.encrypt(recipient, file.stream(), size)` read to the end and discarded.
   ratio = browser MB/s / age MB/s (reported; the age CLI is native code, the browser's is JavaScript).
2. Encrypted upload vs unencrypted upload, same page, same server, same number of bytes, same code path as
   the bid page (uploader.js): the ciphertext cut in chunk_size pieces written to the Origin Private File
   System, each read back and sent by PATCH with Upload-Offset and Upload-Checksum, upload pipelined behind
   encryption. "encrypted" = the plaintext file encrypted in the page on the way; "unencrypted" = the age
   CLI's ciphertext file, the same pipeline without the encryption step. Each run announces a new file of
   a new bid through the real API; timed from the announce to the last chunk's answer.
   upload_ratio = encrypted seconds / unencrypted seconds, goal <= 2.
Figures are medians of the rounds. ratio (the command's main figure) is upload_ratio, with goal 2 and
`met` when upload_ratio <= 2 (lower is better here, unlike the other benchmarks).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.pages import _database, _environment, _free_port, _run, _server

NAME = "browser-encrypt"
DESCRIPTION = (
    "age encryption of a 500 MB file in headless Chromium (the committed bundle) as a ratio to the age CLI, and "
    "an encrypted upload (encrypt + OPFS + resumable PATCH) against the same bytes uploaded unencrypted, same "
    "page and server: goal encrypted/unencrypted <= 2."
)
GOAL = 2.0
MB = 1024 * 1024

FULL = {"size_mb": 500, "rounds": 3}
QUICK = {"size_mb": 20, "rounds": 1}
HEADERS = {"X-Forwarded-Proto": "https"}

PREPARE = r"""
import json, os, sys
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "ebourgogne.settings"
django.setup()
from datetime import timedelta
from django.core.management import call_command
from django_scopes import scopes_disabled

call_command("migrate", verbosity=0)
from ebourgogne.apitokens.services import token_create
from ebourgogne.core import clock
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import BuyerFactory, CompanyFactory, ConsultationFactory, make_member
from ebourgogne.testing.sealing import give_test_key

limit = int(sys.argv[1])
buyer = BuyerFactory(name="Région Bourgogne-Franche-Comté")
with scopes_disabled():
    consultation = ConsultationFactory(
        organisation=buyer, published=True, title="Construction du lycée de Nevers",
        bids_deadline=clock.now() + timedelta(days=1), bid_size_limit=limit,
    )
    give_test_key(consultation)
    consultation.refresh_from_db()
    recipient = consultation.opening_key.recipient
company = CompanyFactory(name="Menuiserie Garnier et Fils")
member = make_member(company, Role.COMPANY_MEMBER)
_token, secret = token_create(user=member, name="Banc d'essai du navigateur")
print(json.dumps({"consultation": consultation.pk, "recipient": recipient, "org": company.slug, "token": secret}))
"""

# In the page: encrypt the picked file and throw the ciphertext away; answers seconds.
ENCRYPT_ONLY = """
async ({recipient}) => {
  const file = document.getElementById("bench-plain").files[0];
  const started = performance.now();
  const sealed = await ebSealed.encrypt(recipient, file.stream(), file.size);
  const reader = sealed.stream.getReader();
  let seen = 0;
  for (;;) { const next = await reader.read(); if (next.done) break; seen += next.value.length; }
  if (seen !== sealed.size) throw new Error("size " + seen + " != " + sealed.size);
  return (performance.now() - started) / 1000;
}
"""

# In the page: the cost of Upload-Checksum: SHA-256 (WebCrypto) of every chunk of the ciphertext, the
# reading of the chunks excluded; answers seconds.
CHECKSUM_ONLY = """
async ({chunkSize}) => {
  const file = document.getElementById("bench-cipher").files[0];
  let seconds = 0;
  for (let start = 0; start < file.size; start += chunkSize) {
    const chunk = new Uint8Array(await file.slice(start, start + chunkSize).arrayBuffer());
    const t = performance.now();
    await ebSealed.sha256Base64(chunk);
    seconds += (performance.now() - t) / 1000;
  }
  return seconds;
}
"""

# In the page: the bid page's pipeline (uploader.js) on one file: create a bid, announce the file, then
# encryption (or not) into OPFS chunk files while the upload reads them back and PATCHes them.
UPLOAD = """
async ({input, encrypt, recipient, consultation, org}) => {
  const file = document.getElementById(input).files[0];
  const json = {"Content-Type": "application/json", Accept: "application/json"};
  const post = async (url, body) => {
    const r = await fetch(url, {method: "POST", headers: json, body: JSON.stringify(body)});
    if (!r.ok) throw new Error(url + ": " + r.status + " " + await r.text());
    return r.json();
  };
  const started = performance.now();
  let stream = file.stream(), size = file.size;
  if (encrypt) { const sealed = await ebSealed.encrypt(recipient, stream, file.size); stream = sealed.stream; size = sealed.size; }
  const bid = await post(`/api/v1/companies/${org}/bids`, {consultation});
  const announced = await post(`/api/v1/companies/${org}/bids/${bid.id}/files`, {envelope: "offer", name: file.name, size});
  const chunkSize = announced.chunk_size;
  const folder = await ebSealed.opfs.folder(announced.upload_id, true);
  let available = 0, failure = null, wake = null;
  const producer = (async () => {
    try {
      for await (const chunk of ebSealed.chunks(stream, chunkSize)) {
        await ebSealed.opfs.writeChunk(folder, available, chunk);
        available += 1; if (wake) wake();
      }
    } catch (e) { failure = e; if (wake) wake(); }
  })();
  let offset = 0, patchSeconds = 0, readSeconds = 0, waitSeconds = 0;
  while (offset < size) {
    const index = Math.floor(offset / chunkSize);
    let t = performance.now();
    while (available <= index && !failure) await new Promise(r => { wake = r; });
    if (failure) throw failure;
    waitSeconds += (performance.now() - t) / 1000; t = performance.now();
    const chunk = await ebSealed.opfs.readChunk(folder, index);
    readSeconds += (performance.now() - t) / 1000; t = performance.now();
    offset = await ebSealed.patch(announced.url, null, offset, chunk, true);
    patchSeconds += (performance.now() - t) / 1000;
  }
  await producer;
  const seconds = (performance.now() - started) / 1000;
  const state = await ebSealed.getJSON(announced.url);
  await ebSealed.opfs.remove(announced.upload_id);
  return {seconds, size, state: state.state, sha256: state.sha256, patchSeconds, readSeconds, waitSeconds};
}
"""


def log(message: str) -> None:
    print(f"[browser-encrypt] {message}", file=sys.stderr, flush=True)


def _plain(path: Path, size_mb: int) -> None:
    block = 4 * MB
    with path.open("wb") as out:
        left = size_mb * MB
        while left > 0:
            out.write(os.urandom(min(block, left)))
            left -= block


def _age_encrypt(recipient: str, source: Path, target: str) -> float:
    age = shutil.which("age") or "/usr/bin/age"
    start = time.perf_counter()
    subprocess.run([age, "-r", recipient, "-o", target, str(source)], check=True)  # noqa: S603
    return time.perf_counter() - start


def _browser(port: int, token: str, profile: Path):
    from playwright.sync_api import sync_playwright

    from ebourgogne.testing.browser import CHROMIUM, CHROMIUM_ARGS

    manager = sync_playwright().start()
    # A persistent profile in the benchmark's folder: OPFS on disk there, not in the caller's home.
    context = manager.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        headless=True,
        base_url=f"http://127.0.0.1:{port}",
        extra_http_headers={"Authorization": f"Bearer {token}", **HEADERS},
    )
    context.set_default_timeout(30 * 60 * 1000)
    return manager, context


def run(quick: bool, **overrides) -> dict:
    plan = {**(QUICK if quick else FULL), **{k: v for k, v in overrides.items() if v}}
    size = plan["size_mb"] * MB
    with tempfile.TemporaryDirectory(prefix="ebourgogne-bench-browser-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        work = Path(tmp) / "client"
        work.mkdir()
        with _database(data_dir) as database_url:
            port = _free_port()
            env = _environment(data_dir, database_url, port)
            log(f"data folder {data_dir}, database {'PostgreSQL' if database_url else 'SQLite'}; seeding…")
            limit = size * 4 * plan["rounds"] + 10 * MB
            prepared = json.loads(_run([sys.executable, "-c", PREPARE, str(limit)], env).strip().splitlines()[-1])
            recipient = prepared["recipient"]
            plain = work / "memoire-technique.pdf"
            cipher = work / "memoire-technique.pdf.age"
            log(f"{plan['size_mb']} MB of random bytes, and their ciphertext by the age CLI (not timed)…")
            _plain(plain, plan["size_mb"])
            _age_encrypt(recipient, plain, str(cipher))
            _run([sys.executable, "-m", "ebourgogne", "collectstatic", "--no-input", "-v0"], env)
            age_seconds: list[float] = []
            browser_seconds: list[float] = []
            encrypted: list[float] = []
            unencrypted: list[float] = []
            phases_encrypted: list[dict] = []
            phases_unencrypted: list[dict] = []
            checksum_seconds: list[float] = []
            with _server(env, port, data_dir / "serve.log", HEADERS):
                manager, context = _browser(port, prepared["token"], Path(tmp) / "profile")
                try:
                    page = context.new_page()
                    page.goto("/poste-de-travail/")
                    page.wait_for_function("() => window.ebSealed && window.ebAge")
                    page.evaluate(
                        """() => { for (const id of ["bench-plain", "bench-cipher"]) {
                              const input = document.createElement("input");
                              input.type = "file"; input.id = id; document.body.append(input); } }"""
                    )
                    page.set_input_files("#bench-plain", str(plain))
                    page.set_input_files("#bench-cipher", str(cipher))
                    arguments = {
                        "recipient": recipient,
                        "consultation": prepared["consultation"],
                        "org": prepared["org"],
                    }
                    for number in range(plan["rounds"]):
                        age_seconds.append(_age_encrypt(recipient, plain, os.devnull))
                        browser_seconds.append(page.evaluate(ENCRYPT_ONLY, {"recipient": recipient}))
                        checksum_seconds.append(page.evaluate(CHECKSUM_ONLY, {"chunkSize": 8 * MB}))
                        log(
                            f"round {number + 1}: encrypt age {size / MB / age_seconds[-1]:.0f} MB/s, "
                            f"browser {size / MB / browser_seconds[-1]:.1f} MB/s"
                        )
                        # Alternate which goes first, so neither always benefits from a warm cache.
                        order = [True, False] if number % 2 == 0 else [False, True]
                        for encrypt in order:
                            result = page.evaluate(
                                UPLOAD,
                                {
                                    **arguments,
                                    "input": "bench-plain" if encrypt else "bench-cipher",
                                    "encrypt": encrypt,
                                },
                            )
                            if result["state"] != "complete" or result["size"] != cipher.stat().st_size:
                                raise RuntimeError(f"upload not complete: {result}")
                            (encrypted if encrypt else unencrypted).append(result["seconds"])
                            (phases_encrypted if encrypt else phases_unencrypted).append(
                                {key: round(result[key], 3) for key in ("patchSeconds", "readSeconds", "waitSeconds")}
                            )
                        log(
                            f"round {number + 1}: upload encrypted {encrypted[-1]:.2f} s, "
                            f"unencrypted {unencrypted[-1]:.2f} s"
                        )
                finally:
                    context.close()
                    manager.stop()
    age_mb_s = size / MB / statistics.median(age_seconds)
    browser_mb_s = size / MB / statistics.median(browser_seconds)
    upload_ratio = round(statistics.median(encrypted) / statistics.median(unencrypted), 3)
    return {
        "name": NAME,
        "ratio": upload_ratio,
        "goal": GOAL,
        "met": upload_ratio <= GOAL,
        "goal_direction": "at most",
        "encrypt_ratio": round(browser_mb_s / age_mb_s, 4),
        "browser_encrypt_mb_s": round(browser_mb_s, 1),
        "age_encrypt_mb_s": round(age_mb_s, 1),
        # Upload-Checksum: the SHA-256 of every chunk, as a share of the encrypted upload's time.
        "checksum_s": round(statistics.median(checksum_seconds), 3),
        "checksum_share": round(statistics.median(checksum_seconds) / statistics.median(encrypted), 4),
        "upload_encrypted_s": round(statistics.median(encrypted), 2),
        "upload_unencrypted_s": round(statistics.median(unencrypted), 2),
        "upload_encrypted_mb_s": round(size / MB / statistics.median(encrypted), 1),
        "upload_unencrypted_mb_s": round(size / MB / statistics.median(unencrypted), 1),
        "runs": {
            "age_s": [round(s, 3) for s in age_seconds],
            "browser_s": [round(s, 3) for s in browser_seconds],
            "encrypted_s": [round(s, 3) for s in encrypted],
            "unencrypted_s": [round(s, 3) for s in unencrypted],
        },
        # Where the upload's time went, per run: waiting for a chunk (encryption and the OPFS write ahead of
        # the upload), reading it back from OPFS, PATCH (checksum, transfer, server's write).
        "phases": {"encrypted": phases_encrypted, "unencrypted": phases_unencrypted},
        "size_mb": plan["size_mb"],
        "rounds": plan["rounds"],
        "quick": quick,
        "database": "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite",
        "cpu_cores": len(os.sched_getaffinity(0)),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--size-mb", type=int, default=0, help="plaintext size (default 500, 20 with --quick)")
    parser.add_argument("--rounds", type=int, default=0)
    arguments = parser.parse_args()
    print(json.dumps(run(arguments.quick, size_mb=arguments.size_mb, rounds=arguments.rounds)))
