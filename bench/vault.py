"""Benchmark `vault`: the cost of encryption at rest, as ratios to plain work on the same bytes in the same run.

Method: a 64 MiB file of random bytes in a temporary folder. Measured, each three times (best kept):
  - copy:    read the file and write it elsewhere in 1 MiB blocks, hashing it with SHA-256 (what an
             unencrypted store would do: the DCE's upload path);
  - encrypt: `vault.crypto.encrypt_file` from the file to another (64 KiB AES-256-GCM chunks, SHA-256 of the
             plaintext on the way): the upload path of the vault;
  - verify + decrypt: `vault.crypto.verify` then `decrypt_chunks` to /dev/null: the download path (the file
             is checked whole before the first byte is sent, then decrypted again while streaming).
Figures: MB/s of each, and the ratios encrypt/copy and download/copy. Goal: download/copy <= 5 (a 100 MB
document is checked and sent in well under a second of CPU). Peak memory stays one chunk: not measured here.

    uv run python -m bench.vault [--size-mb N]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

NAME = "vault"
DESCRIPTION = "Encryption at rest of the company vault: upload and download cost as ratios to a plain hashed copy."


def _best(function, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def run(size_mb: int = 64) -> dict[str, float]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from ebourgogne.vault import crypto

    size = size_mb * 1024 * 1024
    key, file_id = crypto.new_data_key(), os.urandom(16)
    with tempfile.TemporaryDirectory(prefix="bench-vault-") as folder:
        plain = Path(folder) / "plain.bin"
        stored = Path(folder) / "stored.ebv"
        copy = Path(folder) / "copy.bin"
        with plain.open("wb") as handle:
            for _ in range(size_mb):
                handle.write(os.urandom(1024 * 1024))
        digest = {}

        def do_copy() -> None:
            hasher = hashlib.sha256()
            with plain.open("rb") as source, copy.open("wb") as out:
                while block := source.read(1024 * 1024):
                    hasher.update(block)
                    out.write(block)
            digest["sha256"] = hasher.hexdigest()

        def do_encrypt() -> None:
            with plain.open("rb") as source, stored.open("wb") as out:
                crypto.encrypt_file(key, file_id, source, out)

        def do_download() -> None:
            with stored.open("rb") as source:
                crypto.verify(key, source, expected_file_id=file_id, sha256=digest["sha256"], size=size)
            with stored.open("rb") as source, open(os.devnull, "wb") as sink:
                for chunk in crypto.decrypt_chunks(key, source, expected_file_id=file_id):
                    sink.write(chunk)

        t_copy = _best(do_copy)
        t_encrypt = _best(do_encrypt)
        t_download = _best(do_download)
    return {
        "size_mb": size_mb,
        "copy_mb_s": size_mb / t_copy,
        "encrypt_mb_s": size_mb / t_encrypt,
        "download_mb_s": size_mb / t_download,
        "encrypt_over_copy": t_encrypt / t_copy,
        "download_over_copy": t_download / t_copy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--size-mb", type=int, default=64)
    figures = run(parser.parse_args().size_mb)
    for name, value in figures.items():
        print(f"{name:>20}: {value:.2f}")
    print(f"{'goal':>20}: download/copy <= 5 -> {'met' if figures['download_over_copy'] <= 5 else 'NOT met'}")


if __name__ == "__main__":
    main()
