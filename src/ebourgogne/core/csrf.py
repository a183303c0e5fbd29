"""CSRF secrets and masks drawn from one read of the system's random source instead of 32.

Django makes a CSRF secret (for a visitor without the cookie) and a mask (for every token put in a page)
with `get_random_string(32, CSRF_ALLOWED_CHARS)`, which calls `secrets.choice` once per character: 64
reads of `os.urandom` and their Python around them, about 0.1 ms for each page that carries a token (the
lighter pages, kept whole in `core.pagecache`, spent a sixth of their time there).

`new_csrf_string()` gives strings of the same length over the same 62 characters, each character uniform
and independent, from the same source (`os.urandom`): bytes below 248 (= 4 × 62) are kept and taken modulo
62, the others dropped (rejection sampling, so no character is more likely than another). Nothing else of
Django's CSRF protection changes: the cookie, the masking, the checks are Django's own; only the function
that draws the random strings is replaced (`install()`, called when the core app is ready). If Django
renames it, `install()` refuses to start rather than silently doing nothing (a test checks it too).

`mask_cipher_secret()` is Django's `_mask_cipher_secret()` (every page with a form or a token pays it) with
the character arithmetic read from a table of the 62 × 62 pairs instead of two `str.index` and a modulo per
character in a generator: the same token for the same secret and mask (a test compares them on random
pairs), and Django's own unmasking reads it back.
"""

from __future__ import annotations

import os

from django.middleware import csrf

_ALPHABET = csrf.CSRF_ALLOWED_CHARS
_KEPT = 4 * len(_ALPHABET)  # 248: the largest multiple of 62 that a byte can hold
_TABLE = bytes(_ALPHABET[value % len(_ALPHABET)].encode("ascii")[0] if value < _KEPT else 0 for value in range(256))
_DROPPED = bytes(range(_KEPT, 256))
# 48 bytes give 32 kept ones but with a probability below 1e-15 (each kept with probability 248/256).
_READ = 48


def new_csrf_string() -> str:
    """CSRF_SECRET_LENGTH characters of CSRF_ALLOWED_CHARS, uniform and independent, from os.urandom."""
    length = csrf.CSRF_SECRET_LENGTH
    drawn = b""
    while len(drawn) < length:
        drawn += os.urandom(_READ).translate(_TABLE, _DROPPED)
    return drawn[:length].decode("ascii")


# secret character + mask character -> the masked character, as Django computes it:
# ALPHABET[(ALPHABET.index(secret) + ALPHABET.index(mask)) % 62].
_MASKED = {
    secret + mask: _ALPHABET[(i + j) % len(_ALPHABET)]
    for i, secret in enumerate(_ALPHABET)
    for j, mask in enumerate(_ALPHABET)
}


def mask_with(secret: str, mask: str) -> str:
    """Django's masking of `secret` by `mask` (both CSRF_SECRET_LENGTH characters of the alphabet)."""
    return mask + "".join(map(_MASKED.__getitem__, map(str.__add__, secret, mask)))


def mask_cipher_secret(secret: str) -> str:
    """`django.middleware.csrf._mask_cipher_secret`: a new mask, then the secret masked with it."""
    return mask_with(secret, new_csrf_string())


def install() -> None:
    if (
        len(_ALPHABET) != 62
        or not callable(getattr(csrf, "_get_new_csrf_string", None))
        or not callable(getattr(csrf, "_mask_cipher_secret", None))
        or not callable(getattr(csrf, "_unmask_cipher_token", None))
    ):
        raise RuntimeError("django.middleware.csrf changed: review ebourgogne.core.csrf")
    csrf._get_new_csrf_string = new_csrf_string
    csrf._mask_cipher_secret = mask_cipher_secret
