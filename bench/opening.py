"""Benchmark `opening`: decrypting bids at the opening, as a ratio to the `age` CLI decrypting the same files.

Method (docs/benchmarks.md, section "opening"): in a temporary folder, 4 bid files of 500 MB of random bytes
(2 GB; 4 x 2 MB with --quick), each encrypted with pyrage to a fresh X25519 recipient, as a browser or a
bidder's software would. Then, in rounds, in turn on the same files:
  - age:      the Debian `age` CLI, `age -d -i KEY -o OUT FILE`, one file after the other;
  - platform: `tenders.opening.decrypt_stream` as the opening job calls it (default engine: the age CLI fed
              through a pipe, the ciphertext hashed with SHA-256 and checked against the receipt's digest on
              the way, the identity through another pipe, then the ZIP check);
  - pyrage:   the same function with the pyrage engine (`pyrage.decrypt_io`, in-process).
File by file, the three in turn (so that each comparison is made seconds apart on a shared machine); each
output is deleted after its run. Per round: ratio = age's time / the platform's time over the 4 files
(throughput ratio); the figure is the median of the rounds' ratios (goal >= 0.8); pyrage_ratio likewise,
for comparison. mb_per_s gives each one's median throughput (MB/s of ciphertext).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NAME = "opening"
DESCRIPTION = (
    "Decrypting 2 GB of bids (4 x 500 MB age files) as the opening does (streaming, SHA-256 re-checked), as a "
    "ratio to the age CLI decrypting the same files in the same run. Goal: ratio >= 0.8."
)
GOAL = 0.8

FULL = {"files": 4, "size_mb": 500, "rounds": 5}
QUICK = {"files": 4, "size_mb": 2, "rounds": 1}


def log(message: str) -> None:
    print(f"[opening] {message}", file=sys.stderr, flush=True)


def _make_files(folder: Path, count: int, size_mb: int, recipient) -> list[tuple[Path, str]]:
    import pyrage

    files = []
    block = 4 * 1024 * 1024
    for number in range(count):
        plain = folder / f"plain-{number}"
        with plain.open("wb") as out:
            left = size_mb * 1024 * 1024
            while left > 0:
                out.write(os.urandom(min(block, left)))
                left -= block
        cipher = folder / f"offre-{number}.pdf.age"
        pyrage.encrypt_file(str(plain), str(cipher), [recipient])
        plain.unlink()
        digest = hashlib.sha256()
        with cipher.open("rb") as handle:
            while chunk := handle.read(block):
                digest.update(chunk)
        files.append((cipher, digest.hexdigest()))
    return files


def _time_age(path: Path, key_file: Path, out: Path) -> float:
    age = shutil.which("age") or "age"
    start = time.perf_counter()
    subprocess.run([age, "-d", "-i", str(key_file), "-o", str(out), str(path)], check=True)  # noqa: S603
    elapsed = time.perf_counter() - start
    out.unlink()
    return elapsed


def _time_platform(path: Path, digest: str, identity: str, out: Path, engine: str) -> float:
    from ebourgogne.tenders.opening import decrypt_stream

    start = time.perf_counter()
    with path.open("rb") as source:
        result = decrypt_stream(source, out, identity, expected_sha256=digest, engine=engine)
    elapsed = time.perf_counter() - start
    if result.status != "ok":
        raise RuntimeError(f"{engine}: {path.name}: {result.status} {result.detail}")
    out.unlink()
    return elapsed


def run(quick: bool = False) -> dict:
    import pyrage

    from ebourgogne.tenders.opening import age_cli

    if not age_cli():
        raise SystemExit("bench opening: the age CLI is needed (Debian package `age`).")
    params = QUICK if quick else FULL
    identity = pyrage.x25519.Identity.generate()
    with tempfile.TemporaryDirectory(prefix="ebourgogne-bench-opening-") as tmp:
        folder = Path(tmp)
        log(f"making {params['files']} files of {params['size_mb']} MB")
        files = _make_files(folder, params["files"], params["size_mb"], identity.to_public())
        total_mb = sum(path.stat().st_size for path, _ in files) / 1e6
        key_file = folder / "key.txt"
        key_file.write_text(str(identity) + "\n")
        key_file.chmod(0o600)
        out = folder / "out"
        times: dict[str, list[float]] = {"age": [], "platform": [], "pyrage": []}
        for number in range(params["rounds"]):
            # File by file, the three in turn: each comparison is made seconds apart on the busy machine.
            spent = dict.fromkeys(times, 0.0)
            for path, digest in files:
                spent["age"] += _time_age(path, key_file, out)
                spent["platform"] += _time_platform(path, digest, str(identity), out, "age")
                spent["pyrage"] += _time_platform(path, digest, str(identity), out, "pyrage")
            for name, value in spent.items():
                times[name].append(value)
            log(f"round {number + 1}: " + ", ".join(f"{name} {value:.2f} s" for name, value in spent.items()))
    mbps = {name: round(total_mb / statistics.median(values), 1) for name, values in times.items()}
    # Per round, throughput ratio = age's time / the other's time; the figure is the median over rounds.
    ratios = [round(age / platform, 3) for age, platform in zip(times["age"], times["platform"], strict=True)]
    pyrage_ratios = [round(age / other, 3) for age, other in zip(times["age"], times["pyrage"], strict=True)]
    ratio = statistics.median(ratios)
    return {
        "name": NAME,
        "ratio": ratio,
        "goal": GOAL,
        "met": ratio >= GOAL,
        "round_ratios": ratios,
        "pyrage_ratio": statistics.median(pyrage_ratios),
        "pyrage_round_ratios": pyrage_ratios,
        "mb_per_s": mbps,
        "seconds": {name: [round(value, 3) for value in values] for name, values in times.items()},
        "total_mb": round(total_mb, 1),
        "files": params["files"],
        "rounds": params["rounds"],
        "cpu_count": os.cpu_count(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "quick": quick,
    }
