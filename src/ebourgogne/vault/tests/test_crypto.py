"""Encryption at rest (vault.crypto, vault.storage): round trips across chunk boundaries, and every kind of
damage detected (changed byte, cut at a chunk boundary or inside one, chunks swapped, bytes appended, another
file's header), the data key wrapped per company, and the platform key's rotation."""

from __future__ import annotations

import io
import os

import pytest
from django_scopes import scopes_disabled

from ebourgogne.vault import crypto, storage
from ebourgogne.vault.models import CompanyKey

CHUNK = 1024  # small chunks so that the tests cross many boundaries


def encrypt(data: bytes, key: bytes, file_id: bytes) -> bytes:
    out = io.BytesIO()
    encryptor = crypto.Encryptor(key, file_id, out, chunk_size=CHUNK)
    # Written in uneven pieces, as an upload arrives.
    position = 0
    for piece in (1, 7, 1000, 3000):
        encryptor.write(data[position : position + piece])
        position += piece
    encryptor.write(data[position:])
    encryptor.close()
    return out.getvalue()


def decrypt(blob: bytes, key: bytes, file_id: bytes) -> bytes:
    return b"".join(crypto.decrypt_chunks(key, io.BytesIO(blob), expected_file_id=file_id))


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 5 * CHUNK + 17])
def test_round_trip_and_the_stored_bytes_are_not_the_plaintext(size):
    key, file_id = os.urandom(32), os.urandom(16)
    data = os.urandom(size)
    blob = encrypt(data, key, file_id)
    assert decrypt(blob, key, file_id) == data
    assert len(blob) == crypto.stored_size(size, CHUNK)
    if size >= 16:
        assert data[:16] not in blob


def test_a_repeated_plaintext_does_not_show_in_the_ciphertext():
    key, file_id = os.urandom(32), os.urandom(16)
    data = b"SIREN 123456789 " * 1000
    blob = encrypt(data, key, file_id)
    assert b"SIREN" not in blob and b"123456789" not in blob


def _damaged(kind: str, blob: bytes) -> bytes:
    head, sealed = crypto.HEADER_LENGTH, CHUNK + crypto.TAG
    if kind == "flipped byte":
        return blob[:100] + bytes([blob[100] ^ 1]) + blob[101:]
    if kind == "cut at a chunk boundary":
        return blob[: head + 2 * sealed]
    if kind == "cut inside a chunk":
        return blob[:-5]
    if kind == "chunks swapped":
        first, second = blob[head : head + sealed], blob[head + sealed : head + 2 * sealed]
        return blob[:head] + second + first + blob[head + 2 * sealed :]
    if kind == "bytes appended":
        return blob + b"\x00" * 20
    if kind == "header only":
        return blob[:head]
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "flipped byte",
        "cut at a chunk boundary",
        "cut inside a chunk",
        "chunks swapped",
        "bytes appended",
        "header only",
    ],
)
def test_damage_is_detected(kind):
    key, file_id = os.urandom(32), os.urandom(16)
    data = os.urandom(4 * CHUNK + 100)
    blob = _damaged(kind, encrypt(data, key, file_id))
    with pytest.raises(crypto.VaultIntegrityError):
        decrypt(blob, key, file_id)


def test_another_files_bytes_or_another_key_do_not_decrypt():
    key, file_id = os.urandom(32), os.urandom(16)
    blob = encrypt(b"%PDF- kbis", key, file_id)
    with pytest.raises(crypto.VaultIntegrityError, match="another file"):
        decrypt(blob, key, os.urandom(16))  # the database expects another file here
    with pytest.raises(crypto.VaultIntegrityError):
        decrypt(blob, os.urandom(32), file_id)


def test_verify_checks_size_and_digest():
    key, file_id = os.urandom(32), os.urandom(16)
    out = io.BytesIO()
    encryptor = crypto.encrypt_file(key, file_id, io.BytesIO(b"attestation"), out)
    crypto.verify(key, io.BytesIO(out.getvalue()), expected_file_id=file_id, sha256=encryptor.sha256, size=11)
    with pytest.raises(crypto.VaultIntegrityError):
        crypto.verify(key, io.BytesIO(out.getvalue()), expected_file_id=file_id, sha256="0" * 64, size=11)


def test_a_wrapped_data_key_opens_only_for_its_company_and_platform_key():
    data_key = crypto.new_data_key()
    wrapped = crypto.wrap_data_key(data_key, company_id=7, secret="platform secret")
    assert data_key not in wrapped
    assert crypto.unwrap_data_key(wrapped, company_id=7, secret="platform secret") == data_key
    with pytest.raises(crypto.VaultIntegrityError):
        crypto.unwrap_data_key(wrapped, company_id=8, secret="platform secret")
    with pytest.raises(crypto.VaultIntegrityError):
        crypto.unwrap_data_key(wrapped, company_id=7, secret="another secret")


def test_platform_key_rotation_rewraps_the_data_keys(settings, company, other_company, vault_dir):
    settings.VAULT_PLATFORM_KEY = "old platform secret"
    first = storage.data_key_for(company)
    second = storage.data_key_for(other_company)
    assert storage.data_key_for(company) == first  # made once, then unwrapped

    settings.VAULT_PLATFORM_KEY = "new platform secret"
    with pytest.raises(crypto.VaultIntegrityError):  # the old secret is gone and no rewrap was done
        storage.data_key_for(company)
    settings.VAULT_PLATFORM_KEY_PREVIOUS = "old platform secret"
    assert storage.data_key_for(company) == first  # during the rotation, the previous secret still opens
    assert storage.rewrap_all() == 2
    assert storage.rewrap_all() == 0
    settings.VAULT_PLATFORM_KEY_PREVIOUS = ""
    assert storage.data_key_for(company) == first
    assert storage.data_key_for(other_company) == second
    with scopes_disabled():
        assert set(CompanyKey.objects.values_list("platform_key_id", flat=True)) == {
            crypto.platform_key_id("new platform secret")
        }
