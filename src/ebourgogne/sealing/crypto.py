"""The cryptography of opening keys, and nothing else (no database, no settings lookups but one).

- age X25519 identities (pyrage): `new_identity`, `recipient_of`, `fingerprint`, `encrypt_to`, `decrypt_with`.
- Shamir secret sharing over GF(256) (`split`, `combine`): the consultation's identity is cut into n shares,
  any k of which rebuild it and k-1 of which say nothing about it (each byte is the constant term of a
  random polynomial of degree k-1; a share is its value at x).
- Share envelopes (`pack_share`, `unpack_share`): what is encrypted to a holder is not the bare share but
  the share with its x, k and the consultation key's fingerprint, so that a share from another
  consultation, another position or a tampered one is detected before combining.
- `rebuild_checked`: combine, then check that the result is an age identity whose recipient is the stored
  recipient. A wrong combination (wrong shares, tampered bytes) fails here; the wrong value is dropped.
- Passphrase protection (age scrypt): `passphrase_encrypt` writes the age scrypt format itself (scrypt,
  HKDF-SHA-256, HMAC-SHA-256, ChaCha20-Poly1305, exactly as in https://age-encryption.org/v1) so that the
  work factor can be chosen (18 in production, low in tests and in the demo); `passphrase_decrypt` reads it
  with pyrage (rage), the reference reader. Files are readable by `age -d` as well (tested).
- `platform_seal` / `platform_unseal`: an identity kept after the opening (buyer's policy), encrypted with a
  key derived from SECRET_KEY.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets

import pyrage
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

IDENTITY_PREFIX = "AGE-SECRET-KEY-1"
RECIPIENT_PREFIX = "age1"
PRODUCTION_WORK_FACTOR = 18  # age's own default: about a second on a server
MAX_SHARES = 255


class SealingCryptoError(Exception):
    """A cryptographic check failed (wrong passphrase, tampered data, wrong combination)."""


# --- age X25519 -------------------------------------------------------------------------------------


def new_identity() -> str:
    """A fresh age X25519 identity, as its AGE-SECRET-KEY-1... string (X25519 only, never post-quantum)."""
    return str(pyrage.x25519.Identity.generate())


def recipient_of(identity: str) -> str:
    """The public recipient (age1...) of an identity string; SealingCryptoError when it is not one."""
    try:
        return str(pyrage.x25519.Identity.from_str(identity).to_public())
    except Exception as error:  # pyrage raises IdentityError or ValueError on garbage
        raise SealingCryptoError("not an age X25519 identity") from error


def fingerprint(recipient: str) -> str:
    """SHA-256 (hex) of the recipient string: what the page, the API and the receipt print."""
    return hashlib.sha256(recipient.encode("ascii")).hexdigest()


def grouped(value: str, size: int = 4) -> str:
    """`value` in blocks of `size` characters separated by spaces, for reading aloud."""
    return " ".join(value[i : i + size] for i in range(0, len(value), size))


def encrypt_to(recipient: str, data: bytes) -> bytes:
    return pyrage.encrypt(data, [pyrage.x25519.Recipient.from_str(recipient)])


def decrypt_with(identity: str, data: bytes) -> bytes:
    try:
        return pyrage.decrypt(data, [pyrage.x25519.Identity.from_str(identity)])
    except Exception as error:
        raise SealingCryptoError("cannot decrypt with this identity") from error


# --- Shamir over GF(256) ----------------------------------------------------------------------------
# The field is GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1 (0x11B); 3 generates its
# multiplicative group. Tables make multiplication a lookup; addition is XOR.

_EXP = [0] * 512
_LOG = [0] * 256
_value = 1
for _power in range(255):
    _EXP[_power] = _value
    _LOG[_value] = _power
    _value ^= (_value << 1) ^ (0x11B if _value & 0x80 else 0)  # multiply by 3 = x + 1
    _value &= 0xFF
for _power in range(255, 512):
    _EXP[_power] = _EXP[_power - 255]
del _value, _power


def gf_mul(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return _EXP[_LOG[a] + _LOG[b]]


def gf_div(a: int, b: int) -> int:
    if b == 0:
        raise ZeroDivisionError("division by zero in GF(256)")
    if a == 0:
        return 0
    return _EXP[(_LOG[a] - _LOG[b]) % 255]


def split(secret: bytes, n: int, k: int) -> list[tuple[int, bytes]]:
    """Cut `secret` into `n` shares (x = 1..n, y = bytes as long as the secret); any `k` rebuild it."""
    if not 1 <= k <= n <= MAX_SHARES:
        raise ValueError("need 1 <= k <= n <= 255")
    if not secret:
        raise ValueError("empty secret")
    # One random polynomial per byte: coefficients[0] is the secret byte, the others are random.
    randoms = [secrets.token_bytes(len(secret)) for _ in range(k - 1)]
    shares = []
    for x in range(1, n + 1):
        y = bytearray(len(secret))
        for position, byte in enumerate(secret):
            # Horner, highest degree first.
            accumulator = 0
            for coefficients in reversed(randoms):
                accumulator = gf_mul(accumulator, x) ^ coefficients[position]
            y[position] = gf_mul(accumulator, x) ^ byte
        shares.append((x, bytes(y)))
    return shares


def combine(shares: list[tuple[int, bytes]]) -> bytes:
    """Lagrange interpolation at 0 of the given shares. Refuses no share, x = 0, a repeated x, or shares of
    different lengths. With fewer than k shares the result is a meaningless value, not the secret: callers
    check the count and the result (`rebuild_checked`)."""
    if not shares:
        raise ValueError("no share")
    xs = [x for x, _ in shares]
    if any(not isinstance(x, int) or not 1 <= x <= 255 for x in xs):
        raise ValueError("share x must be 1..255")
    if len(set(xs)) != len(xs):
        raise ValueError("duplicate share x")
    length = len(shares[0][1])
    if length == 0 or any(len(y) != length for _, y in shares):
        raise ValueError("shares of different lengths")
    # Lagrange basis at 0: l_i(0) = prod_{j != i} x_j / (x_j - x_i); subtraction is XOR.
    weights = []
    for i, xi in enumerate(xs):
        numerator, denominator = 1, 1
        for j, xj in enumerate(xs):
            if i != j:
                numerator = gf_mul(numerator, xj)
                denominator = gf_mul(denominator, xj ^ xi)
        weights.append(gf_div(numerator, denominator))
    secret = bytearray(length)
    for weight, (_, y) in zip(weights, shares, strict=True):
        for position, byte in enumerate(y):
            secret[position] ^= gf_mul(weight, byte)
    return bytes(secret)


# --- Share envelopes and the checked rebuild --------------------------------------------------------

SHARE_FORMAT = "ebourgogne-share/1"


def pack_share(*, x: int, y: bytes, threshold: int, key_fingerprint: str) -> bytes:
    """The plaintext encrypted to a holder: the share with what it belongs to."""
    return json.dumps(
        {
            "format": SHARE_FORMAT,
            "fingerprint": key_fingerprint,
            "threshold": threshold,
            "x": x,
            "y": base64.b64encode(y).decode("ascii"),
        },
        sort_keys=True,
    ).encode("ascii")


def unpack_share(data: bytes, *, x: int, key_fingerprint: str) -> bytes:
    """The y bytes of a decrypted share envelope, after checking it is the share expected (this key, this
    position). SealingCryptoError otherwise."""
    try:
        envelope = json.loads(data.decode("ascii"))
        y = base64.b64decode(envelope["y"], validate=True)
        ok = (
            envelope["format"] == SHARE_FORMAT
            and envelope["fingerprint"] == key_fingerprint
            and envelope["x"] == x
            and len(y) > 0
        )
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise SealingCryptoError("malformed share") from error
    if not ok:
        raise SealingCryptoError("share of another key or position")
    return y


def rebuild_checked(shares: list[tuple[int, bytes]], *, recipient: str) -> str:
    """Combine shares into the identity string and check it: an age X25519 identity whose public recipient
    is `recipient` (and whose fingerprint follows). SealingCryptoError on any mismatch."""
    try:
        value = combine(shares)
    except ValueError as error:
        raise SealingCryptoError(str(error)) from error
    try:
        identity = value.decode("ascii")
    except UnicodeDecodeError as error:
        raise SealingCryptoError("wrong combination") from error
    if not identity.startswith(IDENTITY_PREFIX):
        raise SealingCryptoError("wrong combination")
    if not hmac.compare_digest(recipient_of(identity), recipient):
        raise SealingCryptoError("wrong combination")
    return identity


# --- age scrypt (passphrase) ------------------------------------------------------------------------

_AGE_VERSION = b"age-encryption.org/v1"
_SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"
_CHUNK = 64 * 1024


def _b64(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def _hkdf(key: bytes, *, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(key)


def passphrase_encrypt(data: bytes, passphrase: str, *, work_factor: int = PRODUCTION_WORK_FACTOR) -> bytes:
    """`data` encrypted with `passphrase` in the age scrypt format (one scrypt stanza, log2 N =
    `work_factor`, r = 8, p = 1). Readable by pyrage.passphrase.decrypt and `age -d`."""
    if not 1 <= work_factor <= 22:  # age refuses more than 22 by default
        raise ValueError("work factor must be 1..22")
    file_key = os.urandom(16)
    salt = os.urandom(16)
    wrapping_key = Scrypt(salt=_SCRYPT_LABEL + salt, length=32, n=2**work_factor, r=8, p=1).derive(
        passphrase.encode("utf-8")
    )
    wrapped = ChaCha20Poly1305(wrapping_key).encrypt(b"\x00" * 12, file_key, None)
    header = (
        _AGE_VERSION
        + b"\n-> scrypt "
        + _b64(salt)
        + b" "
        + str(work_factor).encode()
        + b"\n"
        + _b64(wrapped)  # 43 characters: one body line, shorter than 64 as the format requires
        + b"\n---"
    )
    mac = hmac.new(_hkdf(file_key, salt=b"", info=b"header"), header, hashlib.sha256).digest()
    nonce = os.urandom(16)
    payload_cipher = ChaCha20Poly1305(_hkdf(file_key, salt=nonce, info=b"payload"))
    # STREAM: 64 KiB chunks, nonce = 11-byte big-endian counter + 1-byte last-chunk flag. The last chunk
    # is never empty unless the whole plaintext is.
    chunks = [data[i : i + _CHUNK] for i in range(0, len(data), _CHUNK)] or [b""]
    body = []
    for counter, chunk in enumerate(chunks):
        flag = b"\x01" if counter == len(chunks) - 1 else b"\x00"
        body.append(payload_cipher.encrypt(counter.to_bytes(11, "big") + flag, chunk, None))
    return header + b" " + _b64(mac) + b"\n" + nonce + b"".join(body)


def passphrase_decrypt(data: bytes, passphrase: str) -> bytes:
    """Decrypt an age scrypt file with pyrage (the reference reader). SealingCryptoError on a wrong
    passphrase or damaged data."""
    try:
        return pyrage.passphrase.decrypt(bytes(data), passphrase)
    except Exception as error:
        raise SealingCryptoError("wrong passphrase or damaged data") from error


# --- Platform key (identities kept after the opening, by policy) ------------------------------------


def _platform_key(secret_key: str) -> bytes:
    return _hkdf(secret_key.encode("utf-8"), salt=b"ebourgogne-sealing", info=b"retained-identity/1")


def platform_seal(identity: str, *, secret_key: str, context: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + ChaCha20Poly1305(_platform_key(secret_key)).encrypt(nonce, identity.encode("ascii"), context)


def platform_unseal(data: bytes, *, secret_key: str, context: bytes) -> str:
    data = bytes(data)
    try:
        plain = ChaCha20Poly1305(_platform_key(secret_key)).decrypt(data[:12], data[12:], context)
    except InvalidTag as error:
        raise SealingCryptoError("retained identity does not open with this platform key") from error
    return plain.decode("ascii")
