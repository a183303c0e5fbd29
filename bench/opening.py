"""Benchmark `opening`: decrypting bids at the opening, as a ratio to the `age` CLI decrypting the same files.

Method (docs/benchmarks.md, section "opening"): in a temporary folder, 4 bid files of 500 MB of random bytes
(2 GB; 4 x 2 MB with --quick), each encrypted with pyrage to a fresh X25519 recipient, as a browser or a
bidder's software would. Then, in rounds, in turn on the same files:
  - age:      the Debian `age` CLI, `age -d -i KEY -o OUT FILE`, one file after the other;
  - platform: `tenders.opening.decrypt_stream` as the opening job calls it (default engine: the age CLI fed
              through a pipe, the ciphertext hashed with SHA-256 and checked against the receipt's digest on
              the way, the identity through another pipe, then the ZIP check);
  - pyrage:   the same function with the pyrage engine (`pyrage.decrypt_io`, in-process).
Each output is deleted after its run; each figure is the median of its rounds, in MB/s of ciphertext.
ratio = platform / age (goal >= 0.8); pyrage_ratio is reported for comparison.
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

FULL = {"files": 4, "size_mb": 500, "rounds": 3}
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


def _run_age(files: list[tuple[Path, str]], key_file: Path, out: Path) -> float:
    age = shutil.which("age") or "age"
    start = time.perf_counter()
    for path, _digest in files:
        subprocess.run([age, "-d", "-i", str(key_file), "-o", str(out), str(path)], check=True)  # noqa: S603
        out.unlink()
    return time.perf_counter() - start


def _run_platform(files: list[tuple[Path, str]], identity: str, out: Path, engine: str) -> float:
    from ebourgogne.tenders.opening import decrypt_stream

    start = time.perf_counter()
    for path, digest in files:
        with path.open("rb") as source:
            result = decrypt_stream(source, out, identity, expected_sha256=digest, engine=engine)
        if result.status != "ok":
            raise RuntimeError(f"{engine}: {path.name}: {result.status} {result.detail}")
        out.unlink()
    return time.perf_counter() - start


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
            times["age"].append(_run_age(files, key_file, out))
            times["platform"].append(_run_platform(files, str(identity), out, "age"))
            times["pyrage"].append(_run_platform(files, str(identity), out, "pyrage"))
            log(f"round {number + 1}: " + ", ".join(f"{name} {values[-1]:.2f} s" for name, values in times.items()))
    mbps = {name: round(total_mb / statistics.median(values), 1) for name, values in times.items()}
    ratio = round(mbps["platform"] / mbps["age"], 3)
    return {
        "name": NAME,
        "ratio": ratio,
        "goal": GOAL,
        "met": ratio >= GOAL,
        "pyrage_ratio": round(mbps["pyrage"] / mbps["age"], 3),
        "mb_per_s": mbps,
        "seconds": {name: [round(value, 3) for value in values] for name, values in times.items()},
        "total_mb": round(total_mb, 1),
        "files": params["files"],
        "rounds": params["rounds"],
        "cpu_count": os.cpu_count(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "quick": quick,
    }
