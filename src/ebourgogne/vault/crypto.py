"""Encryption at rest of the vault's files (no database here; keys come in as arguments).

Keys
- Each company has a data key: 32 random bytes, made once (`new_data_key`). It is stored only wrapped by
  the platform key (`wrap_data_key`: `sealing.crypto.platform_seal`, ChaCha20-Poly1305 with a key derived
  from the platform secret, with the context `ebourgogne-vault/data-key/1:<company id>` as associated data,
  so that a wrapped key copied onto another company does not open).
- The platform secret is the setting `VAULT_PLATFORM_KEY` (SECRET_KEY when empty). Rotation: set the new
  secret in `VAULT_PLATFORM_KEY` and the old one in `VAULT_PLATFORM_KEY_PREVIOUS`, run
  `ebourgogne vault_rewrap` (every data key is unwrapped with the old secret and wrapped again with the new
  one, in one transaction per company), then remove the previous secret. The files themselves are not
  re-encrypted: only the small wrapped keys change. `platform_key_id` (16 hex digits of an HMAC of the
  secret) records which secret wraps each key.
- Each file has its own key: HKDF-SHA-256(data key, salt = the file's random 16-byte id, info =
  "ebourgogne-vault/file/1").

File format (version 1)
    header = b"EBVAULT1" || chunk size (4 bytes, big-endian) || file id (16 bytes)
    then the chunks: AES-256-GCM(file key, nonce, plaintext chunk, aad) = ciphertext || 16-byte tag
    nonce  = chunk index (11 bytes, big-endian) || final flag (1 byte: 1 for the last chunk, else 0)
    aad    = header || chunk index (8 bytes, big-endian) || final flag
Every chunk but the last holds exactly `chunk size` bytes of plaintext; the last holds 0 to chunk size
bytes (an empty file is one empty final chunk). Reordered chunks (the index), a cut at a chunk boundary
(no final flag at the end), bytes appended after the final chunk, a header swapped with another file's
(the file id is checked against the database's) and any changed byte make decryption fail with
`VaultIntegrityError`. Nothing is ever held whole in memory: one chunk at a time, both ways.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from collections.abc import Iterator
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ebourgogne.sealing.crypto import SealingCryptoError, platform_seal, platform_unseal

MAGIC = b"EBVAULT1"
CHUNK = 64 * 1024
TAG = 16
FILE_ID_LENGTH = 16
HEADER_LENGTH = len(MAGIC) + 4 + FILE_ID_LENGTH
DATA_KEY_LENGTH = 32


class VaultIntegrityError(Exception):
    """A stored file or wrapped key does not decrypt: damaged, truncated, reordered or not this one."""


# --- Data keys --------------------------------------------------------------------------------------


def new_data_key() -> bytes:
    return os.urandom(DATA_KEY_LENGTH)


def key_context(company_id: int) -> bytes:
    return b"ebourgogne-vault/data-key/1:" + str(company_id).encode("ascii")


def platform_key_id(secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), b"ebourgogne-vault/key-id", hashlib.sha256).hexdigest()[:16]


def wrap_data_key(data_key: bytes, *, company_id: int, secret: str) -> bytes:
    return platform_seal(data_key.hex(), secret_key=secret, context=key_context(company_id))


def unwrap_data_key(wrapped: bytes, *, company_id: int, secret: str) -> bytes:
    try:
        value = bytes.fromhex(platform_unseal(bytes(wrapped), secret_key=secret, context=key_context(company_id)))
    except (SealingCryptoError, ValueError, UnicodeDecodeError) as error:
        raise VaultIntegrityError("the data key does not open with this platform key") from error
    if len(value) != DATA_KEY_LENGTH:
        raise VaultIntegrityError("wrong data key length")
    return value


def file_key(data_key: bytes, file_id: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=file_id, info=b"ebourgogne-vault/file/1").derive(data_key)


# --- Files ------------------------------------------------------------------------------------------


def header(file_id: bytes, chunk_size: int = CHUNK) -> bytes:
    return MAGIC + struct.pack(">I", chunk_size) + file_id


def _nonce(index: int, final: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if final else b"\x00")


def _aad(head: bytes, index: int, final: bool) -> bytes:
    return head + index.to_bytes(8, "big") + (b"\x01" if final else b"\x00")


def stored_size(plain_size: int, chunk_size: int = CHUNK) -> int:
    chunks = max(1, -(-plain_size // chunk_size))
    return HEADER_LENGTH + plain_size + chunks * TAG


class Encryptor:
    """Encrypts a stream written to it piece by piece into `out`; `close()` writes the final chunk.

    Also counts the plaintext and its SHA-256 (`size`, `sha256`), so that one pass does everything."""

    def __init__(self, data_key: bytes, file_id: bytes, out: IO[bytes], chunk_size: int = CHUNK) -> None:
        if len(file_id) != FILE_ID_LENGTH:
            raise ValueError("file id must be 16 bytes")
        self.head = header(file_id, chunk_size)
        self.aead = AESGCM(file_key(data_key, file_id))
        self.out = out
        self.chunk_size = chunk_size
        self.buffer = bytearray()
        self.index = 0
        self.size = 0
        self.hasher = hashlib.sha256()
        self.closed = False
        out.write(self.head)

    def _emit(self, chunk: bytes, final: bool) -> None:
        self.out.write(self.aead.encrypt(_nonce(self.index, final), chunk, _aad(self.head, self.index, final)))
        self.index += 1

    def write(self, data: bytes) -> None:
        self.size += len(data)
        self.hasher.update(data)
        self.buffer += data
        # Keep at least one byte back: the last chunk must be the one flagged final.
        while len(self.buffer) > self.chunk_size:
            self._emit(bytes(self.buffer[: self.chunk_size]), False)
            del self.buffer[: self.chunk_size]

    def close(self) -> None:
        if not self.closed:
            self._emit(bytes(self.buffer), True)
            self.buffer.clear()
            self.closed = True

    @property
    def sha256(self) -> str:
        return self.hasher.hexdigest()


def encrypt_file(data_key: bytes, file_id: bytes, source: IO[bytes], out: IO[bytes]) -> Encryptor:
    encryptor = Encryptor(data_key, file_id, out)
    while block := source.read(1024 * 1024):
        encryptor.write(block)
    encryptor.close()
    return encryptor


def decrypt_chunks(data_key: bytes, source: IO[bytes], *, expected_file_id: bytes) -> Iterator[bytes]:
    """The plaintext of a stored file, chunk by chunk. VaultIntegrityError as soon as anything is wrong
    (a caller that needs certainty before sending anything runs it to the end first: `verify`)."""
    head = source.read(HEADER_LENGTH)
    if len(head) != HEADER_LENGTH or not head.startswith(MAGIC):
        raise VaultIntegrityError("not a vault file")
    (chunk_size,) = struct.unpack(">I", head[len(MAGIC) : len(MAGIC) + 4])
    file_id = head[len(MAGIC) + 4 :]
    if not hmac.compare_digest(file_id, expected_file_id):
        raise VaultIntegrityError("another file's header")
    if not 1 <= chunk_size <= 16 * 1024 * 1024:
        raise VaultIntegrityError("bad chunk size")
    aead = AESGCM(file_key(data_key, file_id))
    sealed = chunk_size + TAG
    index = 0
    current = source.read(sealed)
    while True:
        following = source.read(sealed) if len(current) == sealed else b""
        final = not following
        if len(current) < TAG:
            raise VaultIntegrityError("truncated")
        try:
            yield aead.decrypt(_nonce(index, final), current, _aad(head, index, final))
        except InvalidTag as error:
            raise VaultIntegrityError(f"chunk {index} does not decrypt (damaged, truncated or reordered)") from error
        if final:
            return
        index += 1
        current = following


def verify(data_key: bytes, source: IO[bytes], *, expected_file_id: bytes, sha256: str, size: int) -> None:
    """Decrypt everything, discarding it, and check the plaintext's size and SHA-256."""
    hasher = hashlib.sha256()
    total = 0
    for chunk in decrypt_chunks(data_key, source, expected_file_id=expected_file_id):
        hasher.update(chunk)
        total += len(chunk)
    if total != size or not hmac.compare_digest(hasher.hexdigest(), sha256):
        raise VaultIntegrityError("plaintext differs from the one recorded")
