"""Benchmark `sealing-keys`: the cost of opening keys (sealing app).

Method: in rounds, side by side in one process:
  - pyrage:  `pyrage.passphrase.encrypt`, whose work factor rage calibrates to the machine (about 1 s);
  - ours:    `sealing.crypto.passphrase_encrypt` (our age scrypt writer) at the same work factor;
the figure is the median over the rounds of pyrage's time / ours (1.0 = same cost; the writer must not be
slower than the reference: goal >= 0.8). Also reported, as medians: reading a work-factor-18 key back with
pyrage (what each member's passphrase costs at the opening, production setting 18), the same at the test settings' work factor 4,
and the publication's cryptography for n = 3 holders (identity, Shamir split, 3 age encryptions).
"""

from __future__ import annotations

import statistics
import sys
import time

NAME = "sealing-keys"
DESCRIPTION = (
    "Personal opening keys: our age scrypt writer at work factor 18 vs pyrage's own, side by side (ratio = "
    "pyrage time / ours; goal >= 0.8), with the cost of a member's passphrase at the opening and of the "
    "publication's key split."
)
GOAL = 0.8
PASSPHRASE = "une phrase secrète de banc d'essai"  # noqa: S105 - benchmark data


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _timed(function) -> tuple[float, object]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def run(quick: bool = False) -> dict:
    import pyrage

    from ebourgogne.sealing import crypto

    rounds = 1 if quick else 5
    identity = crypto.new_identity().encode()
    ratios, ours_s, pyrage_s, read18_s, read4_s, publish_ms, factors = [], [], [], [], [], [], []
    for number in range(rounds):
        # rage calibrates its work factor to the machine (about a second): ours runs at the same factor.
        theirs_time, theirs = _timed(lambda: pyrage.passphrase.encrypt(identity, PASSPHRASE))
        factor = int(theirs.split(b"\n")[1].split()[-1])
        factors.append(factor)
        ours_time, _ = _timed(lambda factor=factor: crypto.passphrase_encrypt(identity, PASSPHRASE, work_factor=factor))
        sealed = crypto.passphrase_encrypt(identity, PASSPHRASE, work_factor=18)
        read_time, plain = _timed(lambda sealed=sealed: pyrage.passphrase.decrypt(sealed, PASSPHRASE))
        assert plain == identity
        low = crypto.passphrase_encrypt(identity, PASSPHRASE, work_factor=4)
        low_time, _ = _timed(lambda low=low: pyrage.passphrase.decrypt(low, PASSPHRASE))
        holders = [crypto.recipient_of(crypto.new_identity()) for _ in range(3)]

        def publish(holders=holders):
            key = crypto.new_identity()
            fingerprint = crypto.fingerprint(crypto.recipient_of(key))
            shares = crypto.split(key.encode(), 3, 2)
            return [
                crypto.encrypt_to(r, crypto.pack_share(x=x, y=y, threshold=2, key_fingerprint=fingerprint))
                for r, (x, y) in zip(holders, shares, strict=True)
            ]

        publish_time, _ = _timed(publish)
        ratios.append(theirs_time / ours_time)
        ours_s.append(ours_time)
        pyrage_s.append(theirs_time)
        read18_s.append(read_time)
        read4_s.append(low_time)
        publish_ms.append(publish_time * 1000)
        log(
            f"round {number + 1}/{rounds}: work factor {factor}: ours {ours_time:.3f} s, pyrage {theirs_time:.3f} s, "
            f"ratio {ratios[-1]:.2f}"
        )
    ratio = statistics.median(ratios)
    return {
        "name": NAME,
        "ratio": round(ratio, 3),
        "goal": GOAL,
        "met": ratio >= GOAL,
        "rounds": rounds,
        "work_factors": factors,
        "ours_encrypt_s": round(statistics.median(ours_s), 3),
        "pyrage_encrypt_s": round(statistics.median(pyrage_s), 3),
        "read_work_factor_18_s": round(statistics.median(read18_s), 3),
        "read_work_factor_4_ms": round(statistics.median(read4_s) * 1000, 2),
        "publication_crypto_3_holders_ms": round(statistics.median(publish_ms), 2),
    }
