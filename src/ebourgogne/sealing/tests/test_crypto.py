"""The cryptography of opening keys: Shamir over GF(256) (properties), share envelopes, the checked
rebuild, and our age scrypt writer read back by pyrage and by the Debian `age` CLI."""

from __future__ import annotations

import itertools
import os
import pty
import select
import subprocess

import pyrage
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ebourgogne.sealing import crypto

AGE = "/usr/bin/age"


# --- GF(256) ----------------------------------------------------------------------------------------


def _slow_mul(a: int, b: int) -> int:
    """Carry-less multiplication reduced by 0x11B, bit by bit: the reference for the tables."""
    result = 0
    while b:
        if b & 1:
            result ^= a
        a <<= 1
        if a & 0x100:
            a ^= 0x11B
        b >>= 1
    return result


def test_field_tables_agree_with_bitwise_multiplication_and_every_nonzero_element_has_an_inverse():
    for a, b in itertools.product(range(256), repeat=2):
        assert crypto.gf_mul(a, b) == _slow_mul(a, b)
    for a in range(1, 256):
        assert crypto.gf_mul(a, crypto.gf_div(1, a)) == 1
    with pytest.raises(ZeroDivisionError):
        crypto.gf_div(1, 0)


# --- Shamir -----------------------------------------------------------------------------------------

secrets_ = st.binary(min_size=1, max_size=80)


@st.composite
def split_cases(draw):
    n = draw(st.integers(min_value=1, max_value=8))
    k = draw(st.integers(min_value=1, max_value=n))
    return draw(secrets_), n, k


@settings(max_examples=150, deadline=None)
@given(split_cases(), st.randoms(use_true_random=False))
def test_any_k_shares_rebuild_the_secret(case, rnd):
    secret, n, k = case
    shares = crypto.split(secret, n, k)
    assert [x for x, _ in shares] == list(range(1, n + 1))
    assert all(len(y) == len(secret) for _, y in shares)
    for count in (k, n):
        chosen = rnd.sample(shares, count)
        assert crypto.combine(chosen) == secret


@settings(max_examples=100, deadline=None)
@given(split_cases().filter(lambda case: case[2] >= 2), secrets_, st.randoms(use_true_random=False))
def test_k_minus_1_shares_are_consistent_with_every_secret(case, other, rnd):
    """Structurally, k-1 shares say nothing: for ANY other secret of the same length there is a k-th point
    at x = 0 that, with the k-1 shares, defines a valid polynomial of degree k-1 — so the k-1 shares are
    equally compatible with `secret` and `other`. We show it by splitting `other` through the k-1 given
    points: interpolating the k-1 shares plus (0, other) and evaluating gives back the same k-1 shares."""
    secret, n, k = case
    other = (other * len(secret))[: len(secret)]
    partial = rnd.sample(crypto.split(secret, n, k), k - 1)
    # The polynomial through (0, other) and the k-1 shares passes through each share: evaluate it there.
    points = [(0, other), *partial]
    for x_target, y_target in partial:
        evaluated = _lagrange_at(points, x_target)
        assert evaluated == y_target
    # And with k-1 shares alone, combine() does not give the secret (degree k-1 needs k points), except
    # by a chance of 1 in 256 per byte: for secrets of 8 bytes or more that chance is negligible.
    if len(secret) >= 8:
        assert crypto.combine(partial) != secret


def _lagrange_at(points, x):
    """Evaluate the interpolation polynomial of `points` at x (GF(256))."""
    length = len(points[0][1])
    out = bytearray(length)
    for i, (xi, yi) in enumerate(points):
        num, den = 1, 1
        for j, (xj, _) in enumerate(points):
            if i != j:
                num = crypto.gf_mul(num, x ^ xj)
                den = crypto.gf_mul(den, xi ^ xj)
        weight = crypto.gf_div(num, den)
        for position in range(length):
            out[position] ^= crypto.gf_mul(weight, yi[position])
    return bytes(out)


def test_two_splits_of_the_same_secret_differ_and_no_share_contains_the_secret():
    secret = b"AGE-SECRET-KEY-1" + b"Q" * 58
    first, second = crypto.split(secret, 3, 2), crypto.split(secret, 3, 2)
    assert first != second  # random coefficients: shares are not a function of the secret
    for _, y in first + second:
        assert y != secret
        assert b"AGE-SECRET-KEY" not in y


def test_k_equal_1_is_a_copy_and_is_only_used_when_asked():
    assert crypto.split(b"abc", 2, 1) == [(1, b"abc"), (2, b"abc")]


@pytest.mark.parametrize(
    "shares",
    [
        [],
        [(0, b"ab"), (1, b"cd")],
        [(1, b"ab"), (1, b"ab")],
        [(1, b"ab"), (2, b"abc")],
        [(256, b"ab"), (1, b"cd")],
        [(1, b"")],
    ],
    ids=["none", "zero-x", "duplicate-x", "lengths", "x-too-large", "empty"],
)
def test_combine_refuses_malformed_share_sets(shares):
    with pytest.raises(ValueError):
        crypto.combine(shares)


@pytest.mark.parametrize("n,k", [(3, 0), (2, 3), (256, 2), (0, 0)])
def test_split_refuses_impossible_parameters(n, k):
    with pytest.raises(ValueError):
        crypto.split(b"secret", n, k)


# --- Envelopes and the checked rebuild ----------------------------------------------------------------


def test_checked_rebuild_gives_the_identity_and_detects_every_wrong_combination():
    identity = crypto.new_identity()
    recipient = crypto.recipient_of(identity)
    shares = crypto.split(identity.encode(), 3, 2)
    assert crypto.rebuild_checked(shares[:2], recipient=recipient) == identity
    assert crypto.rebuild_checked([shares[2], shares[0]], recipient=recipient) == identity

    # Too few shares, a flipped bit, a share of another identity, x relabelled: all detected.
    other = crypto.split(crypto.new_identity().encode(), 3, 2)
    flipped = (shares[1][0], bytes([shares[1][1][0] ^ 1]) + shares[1][1][1:])
    relabelled = (3, shares[1][1])
    for wrong in ([shares[0]], [shares[0], flipped], [shares[0], other[1]], [shares[0], relabelled]):
        with pytest.raises(crypto.SealingCryptoError):
            crypto.rebuild_checked(wrong, recipient=recipient)
    # The right shares checked against another recipient: refused too.
    with pytest.raises(crypto.SealingCryptoError):
        crypto.rebuild_checked(shares[:2], recipient=crypto.recipient_of(crypto.new_identity()))


def test_a_bit_flip_in_the_last_character_that_still_decodes_is_caught_by_the_recipient_check():
    """The bech32 checksum of the identity is one line of defence; the recipient comparison is the one
    we rely on: a modified identity that still parses has another recipient."""
    identity = crypto.new_identity()
    recipient = crypto.recipient_of(identity)
    assert crypto.fingerprint(recipient) != crypto.fingerprint(crypto.recipient_of(crypto.new_identity()))
    with pytest.raises(crypto.SealingCryptoError):
        crypto.rebuild_checked([(1, identity[:-1].encode() + b"q")], recipient=recipient)


def test_share_envelope_names_its_key_and_position():
    packed = crypto.pack_share(x=2, y=b"\x01\x02", threshold=2, key_fingerprint="ab" * 32)
    assert crypto.unpack_share(packed, x=2, key_fingerprint="ab" * 32) == b"\x01\x02"
    for x, fingerprint in ((3, "ab" * 32), (2, "cd" * 32)):
        with pytest.raises(crypto.SealingCryptoError):
            crypto.unpack_share(packed, x=x, key_fingerprint=fingerprint)
    for garbage in (b"", b"{", b'{"y": "!!"}', packed.replace(b'"x": 2', b'"x": "2"'), b"\xff\xfe"):
        with pytest.raises(crypto.SealingCryptoError):
            crypto.unpack_share(garbage, x=2, key_fingerprint="ab" * 32)


def test_fingerprint_is_the_sha256_of_the_recipient_string_and_grouping_is_for_reading():
    import hashlib

    recipient = crypto.recipient_of(crypto.new_identity())
    assert crypto.fingerprint(recipient) == hashlib.sha256(recipient.encode()).hexdigest()
    assert crypto.grouped("abcdefghij") == "abcd efgh ij"


# --- age scrypt: our writer, pyrage and age as readers ------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 3 * 65536])
def test_our_age_scrypt_files_decrypt_with_pyrage(size):
    data = os.urandom(size)
    sealed = crypto.passphrase_encrypt(data, "une phrase assez longue", work_factor=3)
    assert sealed.startswith(b"age-encryption.org/v1\n-> scrypt ")
    assert pyrage.passphrase.decrypt(sealed, "une phrase assez longue") == data
    with pytest.raises(pyrage.DecryptError):
        pyrage.passphrase.decrypt(sealed, "une autre phrase assez longue")


def test_pyrage_files_decrypt_with_our_reader_and_tampering_is_refused():
    sealed = pyrage.passphrase.encrypt(b"AGE-SECRET-KEY-1XYZ", "phrase de passe longue")
    # (pyrage writes work factor 18: about a second; once here to prove the formats match both ways.)
    assert crypto.passphrase_decrypt(sealed, "phrase de passe longue") == b"AGE-SECRET-KEY-1XYZ"
    mine = bytearray(crypto.passphrase_encrypt(b"contenu", "phrase de passe longue", work_factor=2))
    mine[-1] ^= 1
    with pytest.raises(crypto.SealingCryptoError):
        crypto.passphrase_decrypt(bytes(mine), "phrase de passe longue")


def test_work_factor_is_written_in_the_stanza_and_bounded():
    sealed = crypto.passphrase_encrypt(b"x", "phrase de passe longue", work_factor=5)
    assert sealed.split(b"\n")[1].endswith(b" 5")
    for wrong in (0, 23):
        with pytest.raises(ValueError):
            crypto.passphrase_encrypt(b"x", "phrase", work_factor=wrong)


def _age_decrypt_with_passphrase(path, output, passphrase: str) -> tuple[int, bytes]:
    """Run `age -d` on a pseudo-terminal (age reads passphrases from the terminal only) and type it."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child becomes age
        os.execv(AGE, [AGE, "-d", "-o", str(output), str(path)])  # noqa: S606 - the fixed age binary
    seen, sent = b"", False
    while True:
        ready, _, _ = select.select([fd], [], [], 20)
        if not ready:
            break
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        if not sent and b"passphrase" in seen.lower():
            os.write(fd, passphrase.encode() + b"\n")
            sent = True
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), seen


def test_our_age_scrypt_files_decrypt_with_the_age_cli(tmp_path):
    data = os.urandom(70_000)
    sealed = tmp_path / "cle.age"
    sealed.write_bytes(crypto.passphrase_encrypt(data, "phrase secrète très longue", work_factor=4))
    code, _ = _age_decrypt_with_passphrase(sealed, tmp_path / "clair", "phrase secrète très longue")
    assert code == 0
    assert (tmp_path / "clair").read_bytes() == data
    code, seen = _age_decrypt_with_passphrase(sealed, tmp_path / "faux", "mauvaise phrase secrète")
    assert code != 0
    assert not (tmp_path / "faux").exists() or (tmp_path / "faux").read_bytes() != data


def test_identities_from_new_identity_work_with_the_age_cli(tmp_path):
    identity = crypto.new_identity()
    assert identity.startswith("AGE-SECRET-KEY-1")
    (tmp_path / "id").write_text(identity + "\n")
    encrypted = crypto.encrypt_to(crypto.recipient_of(identity), b"offre")
    (tmp_path / "offre.age").write_bytes(encrypted)
    result = subprocess.run(  # noqa: S603 - our own fixed arguments
        [AGE, "-d", "-i", tmp_path / "id", tmp_path / "offre.age"], capture_output=True, check=True
    )
    assert result.stdout == b"offre"
    assert crypto.decrypt_with(identity, encrypted) == b"offre"
    with pytest.raises(crypto.SealingCryptoError):
        crypto.decrypt_with(crypto.new_identity(), encrypted)


def test_platform_seal_opens_only_with_the_same_secret_and_context():
    identity = crypto.new_identity()
    sealed = crypto.platform_seal(identity, secret_key="s" * 50, context=b"key:1")
    assert identity.encode() not in sealed
    assert crypto.platform_unseal(sealed, secret_key="s" * 50, context=b"key:1") == identity
    for secret, context in (("t" * 50, b"key:1"), ("s" * 50, b"key:2")):
        with pytest.raises(crypto.SealingCryptoError):
            crypto.platform_unseal(sealed, secret_key=secret, context=context)
