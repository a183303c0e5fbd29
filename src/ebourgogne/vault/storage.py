"""Where the vault's encrypted files live, the company data keys, and the streamed upload.

- Files: `vault_root()` = the setting `VAULT_STORAGE_DIR`, or `<data dir>/vault`; each version is
  `<company id>/<file id>.ebv`. With several application nodes this is a shared volume.
- Keys: `data_key_for(company)` unwraps the company's key (made on first use) with the platform secret
  (`VAULT_PLATFORM_KEY`, else SECRET_KEY; `VAULT_PLATFORM_KEY_PREVIOUS` during a rotation, see
  `vault.crypto`).
- `VaultUploadHandler`: a Django upload handler that encrypts the file as the request body arrives (64 KiB
  at a time) straight into a temporary file of the vault folder: the plaintext never touches the disk and
  is never whole in memory. It stops at the size limit (`VAULT_MAX_FILE_SIZE`, 100 Mo by default, the
  practice bid's limit so that any vault document fits a practice bid) and at the first bytes when they
  do not match the file's extension (`check_content`).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.core import clock
from ebourgogne.vault import crypto

MAX_FILE_SIZE_DEFAULT = 100 * 1024 * 1024

# Accepted formats: extension -> what the first bytes must be. Office files (OOXML, OpenDocument) are ZIP
# archives; a DUME is an XML file. Anything else (executables, scripts, HTML...) is refused.
ZIP = (b"PK\x03\x04",)
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "odt": ZIP,
    "ods": ZIP,
    "docx": ZIP,
    "xlsx": ZIP,
    "zip": ZIP,
    "xml": (b"<?xml", b"\xef\xbb\xbf<?xml", b"<"),
}
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
    "xml": "application/xml",
}
SNIFF_LENGTH = 16


def max_file_size() -> int:
    return int(getattr(settings, "VAULT_MAX_FILE_SIZE", MAX_FILE_SIZE_DEFAULT))


def accepted_extensions() -> str:
    return ", ".join(sorted(SIGNATURES))


def extension_of(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def check_content(name: str, first_bytes: bytes) -> str | None:
    """None when the file's first bytes are what its extension says, else a translated message."""
    extension = extension_of(name)
    signatures = SIGNATURES.get(extension)
    if signatures is None:
        return _("Ce type de fichier n'est pas accepté dans le coffre-fort (formats acceptés : %(formats)s).") % {
            "formats": accepted_extensions()
        }
    if not any(first_bytes.startswith(signature) for signature in signatures):
        return _(
            "Le contenu du fichier « %(name)s » ne correspond pas à un fichier %(extension)s : "
            "vérifiez le fichier ou son extension."
        ) % {"name": name, "extension": extension.upper()}
    return None


def content_type_for(name: str) -> str:
    return CONTENT_TYPES.get(extension_of(name), "application/octet-stream")


# --- Files --------------------------------------------------------------------------------------------


def vault_root() -> Path:
    configured = getattr(settings, "VAULT_STORAGE_DIR", None)
    return Path(configured) if configured else Path(settings.DATA_DIR) / "vault"


def storage_name_for(company_id: int, file_id: uuid.UUID) -> str:
    return f"{company_id}/{file_id.hex}.ebv"


def path_of(storage_name: str) -> Path:
    return vault_root() / storage_name


def temporary_file() -> Any:
    folder = vault_root() / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    return tempfile.NamedTemporaryFile(dir=folder, prefix="upload-", suffix=".part", delete=False)  # noqa: SIM115


def move_into_place(temporary: str | Path, storage_name: str) -> Path:
    target = path_of(storage_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, target)
    return target


def discard(path: str | Path | None) -> None:
    if path:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


# --- Keys ---------------------------------------------------------------------------------------------


def platform_secret() -> str:
    return getattr(settings, "VAULT_PLATFORM_KEY", "") or settings.SECRET_KEY


def previous_platform_secret() -> str:
    return getattr(settings, "VAULT_PLATFORM_KEY_PREVIOUS", "") or ""


def data_key_for(company: Any) -> bytes:
    """The company's data key, made and stored (wrapped) on first use."""
    from ebourgogne.vault.models import CompanyKey

    with scopes_disabled():
        record = CompanyKey.objects.filter(company_id=company.pk).first()
        if record is None:
            data_key = crypto.new_data_key()
            secret = platform_secret()
            try:
                with transaction.atomic():
                    CompanyKey.objects.create(
                        company_id=company.pk,
                        wrapped=crypto.wrap_data_key(data_key, company_id=company.pk, secret=secret),
                        platform_key_id=crypto.platform_key_id(secret),
                    )
                return data_key
            except IntegrityError:  # made meanwhile by another request
                record = CompanyKey.objects.get(company_id=company.pk)
    return unwrap(record)


def unwrap(record: Any) -> bytes:
    secrets_to_try = [platform_secret()]
    if previous_platform_secret():
        secrets_to_try.append(previous_platform_secret())
    for secret in secrets_to_try:
        if crypto.platform_key_id(secret) == record.platform_key_id:
            return crypto.unwrap_data_key(record.wrapped, company_id=record.company_id, secret=secret)
    raise crypto.VaultIntegrityError("no configured platform key wraps this company's data key")


def rewrap_all() -> int:
    """Wrap every company key with the current platform secret (after a rotation). Returns how many changed."""
    from ebourgogne.vault.models import CompanyKey

    current = platform_secret()
    current_id = crypto.platform_key_id(current)
    changed = 0
    with scopes_disabled():
        for pk in CompanyKey.objects.exclude(platform_key_id=current_id).values_list("pk", flat=True):
            with transaction.atomic():
                record = CompanyKey.objects.select_for_update().get(pk=pk)
                if record.platform_key_id == current_id:
                    continue
                data_key = unwrap(record)
                record.wrapped = crypto.wrap_data_key(data_key, company_id=record.company_id, secret=current)
                record.platform_key_id = current_id
                record.rewrapped_at = clock.now()
                record.save(update_fields=["wrapped", "platform_key_id", "rewrapped_at"])
                changed += 1
    return changed


# --- Streamed upload ----------------------------------------------------------------------------------


class EncryptedUpload:
    """What an upload left: the encrypted temporary file and what was counted on the way."""

    def __init__(self, *, name: str, path: str, file_id: uuid.UUID, size: int, sha256: str, stored: int) -> None:
        self.name = name
        self.path = path
        self.file_id = file_id
        self.size = size
        self.sha256 = sha256
        self.stored_size = stored

    def discard(self) -> None:
        discard(self.path)


def encrypt_upload(company: Any, name: str, source: Any) -> EncryptedUpload:
    """Encrypt a readable file-like object (API, tests, commands) into a temporary vault file."""
    data_key = data_key_for(company)
    file_id = uuid.uuid4()
    with temporary_file() as out:
        encryptor = crypto.encrypt_file(data_key, file_id.bytes, source, out)
        out.flush()
        stored = out.tell()
    return EncryptedUpload(
        name=name, path=out.name, file_id=file_id, size=encryptor.size, sha256=encryptor.sha256, stored=stored
    )


class VaultUploadHandler(FileUploadHandler):
    """One file per request, encrypted as it arrives, with the size limit and the content check."""

    def __init__(self, request: Any = None, *, company: Any, max_bytes: int | None = None) -> None:
        super().__init__(request)
        self.company = company
        self.max_bytes = max_file_size() if max_bytes is None else max_bytes
        self.too_large = False
        self.refused: str | None = None
        self.files_seen = 0
        self.out: Any = None
        self.encryptor: crypto.Encryptor | None = None
        self.file_id: uuid.UUID | None = None
        self.received = 0
        self.head = b""
        self.result: EncryptedUpload | None = None

    def new_file(self, field_name, file_name, content_type, content_length, charset=None, content_type_extra=None):
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        self.files_seen += 1
        if self.files_seen > 1:
            raise SkipFile()
        self.file_id = uuid.uuid4()
        self.out = temporary_file()
        self.encryptor = crypto.Encryptor(data_key_for(self.company), self.file_id.bytes, self.out)
        self.received = 0
        self.head = b""

    def _abort(self) -> None:
        if self.out is not None:
            self.out.close()
            discard(self.out.name)
            self.out = None
        raise StopUpload(connection_reset=False)

    def receive_data_chunk(self, raw_data: bytes, start: int):
        if self.out is None:
            return None
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self.too_large = True
            self._abort()
        if len(self.head) < SNIFF_LENGTH:
            self.head += raw_data[: SNIFF_LENGTH - len(self.head)]
            if len(self.head) >= SNIFF_LENGTH:
                self.refused = check_content(self.file_name, self.head)
                if self.refused:
                    self._abort()
        self.encryptor.write(raw_data)
        return None

    def file_complete(self, file_size: int):
        if self.out is None:
            return None
        if len(self.head) < SNIFF_LENGTH:  # a file shorter than the sniffed prefix
            self.refused = check_content(self.file_name, self.head)
            if self.refused:
                self.out.close()
                discard(self.out.name)
                self.out = None
                return None
        self.encryptor.close()
        self.out.flush()
        stored = self.out.tell()
        self.out.close()
        self.result = EncryptedUpload(
            name=self.file_name,
            path=self.out.name,
            file_id=self.file_id,
            size=self.encryptor.size,
            sha256=self.encryptor.sha256,
            stored=stored,
        )
        self.out = None
        # Django wants an UploadedFile-like value in request.FILES: a marker that says it arrived.
        from django.core.files.uploadedfile import SimpleUploadedFile

        marker = SimpleUploadedFile(self.file_name, b"", content_type="application/octet-stream")
        marker.encrypted = self.result  # type: ignore[attr-defined]
        return marker

    def upload_interrupted(self) -> None:
        if self.out is not None:
            self.out.close()
            discard(self.out.name)
            self.out = None
