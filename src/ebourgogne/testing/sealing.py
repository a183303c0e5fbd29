"""Test helpers for sealed bids (owned by the sealing work; others may use them).

`give_test_key(consultation)` attaches a ConsultationKey made from a fresh age identity and returns the
identity string, so that upload and deposit tests can encrypt to the recipient (and decrypt to check)
without the commission's passphrases. Real keys come from `sealing.services` at publication.
"""

from __future__ import annotations

import hashlib

import pyrage

from ebourgogne.sealing.models import ConsultationKey


def give_test_key(consultation, *, threshold: int = 2, share_count: int = 3) -> str:
    identity = pyrage.x25519.Identity.generate()
    recipient = str(identity.to_public())
    ConsultationKey.objects.update_or_create(
        consultation=consultation,
        defaults={
            "recipient": recipient,
            "fingerprint": hashlib.sha256(recipient.encode()).hexdigest(),
            "threshold": threshold,
            "share_count": share_count,
        },
    )
    return str(identity)


def encrypt_to(recipient: str, data: bytes) -> bytes:
    return pyrage.encrypt(data, [pyrage.x25519.Recipient.from_str(recipient)])
