"""Uploads of DCE files: streamed to a temporary file on disk, hashed on the way, never held in memory.

Django parses a multipart body chunk by chunk (64 KiB) and hands each chunk to its upload handlers.
`DceUploadHandler` writes every chunk to a `TemporaryUploadedFile` (a named file in the temporary folder),
feeds it to SHA-256 at the same time, and stops as soon as the file goes past the room left in the
consultation's DCE: the rest of the body is read and dropped, so the browser still gets a clear answer.

File data is not counted by DATA_UPLOAD_MAX_MEMORY_SIZE (it only limits the other fields of a
multipart body), so uploads of several gigabytes pass without raising the platform-wide limit.
Storage (`default_storage.save`) then moves the temporary file into place (a rename on the same
file system, a chunked copy otherwise).
"""

from __future__ import annotations

import hashlib
import mimetypes
import unicodedata
from typing import Any

from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload
from django.utils.translation import gettext as _

from ebourgogne.core.errors import DomainError

MAX_NAME_LENGTH = 255


class DceUploadHandler(FileUploadHandler):
    """One file per request, to disk, with its SHA-256 and a size limit (`max_bytes`)."""

    def __init__(self, request: Any = None, *, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.too_large = False
        self.files_seen = 0
        # `self.file` exists only once a file has started: Django's parser closes `handler.file` when it stops.
        self.received = 0
        self.hasher = hashlib.sha256()

    def new_file(self, field_name, file_name, content_type, content_length, charset=None, content_type_extra=None):
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        self.files_seen += 1
        if self.files_seen > 1:  # one file per request: the others are ignored
            raise SkipFile()
        self.file = TemporaryUploadedFile(file_name, content_type, 0, charset, content_type_extra)
        self.received = 0
        self.hasher = hashlib.sha256()

    def receive_data_chunk(self, raw_data: bytes, start: int):
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self.too_large = True
            self.file.close()  # deletes the temporary file
            raise StopUpload(connection_reset=False)
        self.hasher.update(raw_data)
        self.file.write(raw_data)
        return None  # no other handler sees the data

    def file_complete(self, file_size: int):
        if self.file.closed:
            return None
        self.file.seek(0)
        self.file.size = file_size
        self.file.sha256 = self.hasher.hexdigest()  # type: ignore[attr-defined]
        return self.file

    def upload_interrupted(self) -> None:
        file = getattr(self, "file", None)
        if file is not None:
            file.close()


def sha256_of(uploaded: Any) -> str:
    """The SHA-256 of an uploaded file: the one computed while streaming, else read chunk by chunk."""
    known = getattr(uploaded, "sha256", None)
    if known:
        return known
    hasher = hashlib.sha256()
    uploaded.seek(0)
    for chunk in uploaded.chunks():
        hasher.update(chunk)
    uploaded.seek(0)
    return hasher.hexdigest()


def check_file_name(name: str) -> str:
    """The file name as stored and shown, or DomainError.

    Our choice (docs/guide/dce.md): a name with a path separator (/ or \\) or a control character is
    refused with a message, never silently changed, so that what bidders see is what the buyer sent.
    Browsers send the file's own name only; Django's upload parser already keeps the last part of a
    path and drops control characters from names sent over HTTP, so these refusals concern the API and
    other callers. The name is normalised to Unicode NFC and stripped of surrounding spaces.
    """
    cleaned = unicodedata.normalize("NFC", str(name or "")).strip()
    if not cleaned:
        raise DomainError(_("Le fichier n'a pas de nom : renommez-le puis déposez-le à nouveau."), code="file_name")
    if "/" in cleaned or "\\" in cleaned:
        raise DomainError(
            _("Le nom de fichier « %(name)s » contient une barre oblique (/ ou \\) : renommez le fichier.")
            % {"name": cleaned.encode("unicode_escape").decode("ascii", "replace")},
            code="file_name",
        )
    if any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in cleaned):
        raise DomainError(
            _("Le nom de fichier « %(name)s » contient un caractère de contrôle : renommez le fichier.")
            % {"name": cleaned.encode("unicode_escape").decode("ascii", "replace")},
            code="file_name",
        )
    if cleaned in (".", ".."):
        raise DomainError(_("Ce nom de fichier n'est pas permis : renommez le fichier."), code="file_name")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise DomainError(
            _("Le nom de fichier ne peut pas dépasser %(max)d caractères : raccourcissez-le.")
            % {"max": MAX_NAME_LENGTH},
            code="file_name",
        )
    return cleaned


def content_type_of(name: str, declared: str | None = None) -> str:
    """The MIME type from the file's extension (what browsers send is often missing or generic)."""
    guessed, _encoding = mimetypes.guess_type(name, strict=False)
    if guessed:
        return guessed
    declared = (declared or "").split(";")[0].strip().lower()
    if declared and "/" in declared and len(declared) <= 150:
        return declared
    return "application/octet-stream"
