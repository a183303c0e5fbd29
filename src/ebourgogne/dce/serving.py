"""Serving a stored file efficiently: streaming, one HTTP range, conditional requests, X-Accel-Redirect.

- The body is a `FileResponse` over the open file: gunicorn hands it to the kernel with sendfile(),
  other servers read it block by block; nothing is loaded whole.
- ETag: the file's SHA-256 (strong). `If-None-Match` → 304. `If-Range` with the ETag → the range is
  honoured, otherwise the whole file is sent.
- `Range: bytes=a-b`, `a-` or `-n` (one range) → 206 with Content-Range; an unsatisfiable range → 416
  with `Content-Range: bytes */size`. Several ranges or a malformed header: the whole file (200), as
  RFC 9110 allows.
- With `settings.DCE_X_ACCEL_REDIRECT` (environment EBOURGOGNE_X_ACCEL_REDIRECT, e.g. "/_dce/"), the
  response carries no body but `X-Accel-Redirect: <prefix><storage name>`: nginx serves the file from
  its internal location (ranges and sendfile included). The platform still checks access, answers 304
  itself and records the download.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header

BLOCK_SIZE = 1024 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class Served:
    storage_name: str
    size: int
    sha256: str
    content_type: str
    filename: str


def etag_of(sha256: str) -> str:
    return f'"{sha256}"'


def _etag_matches(header: str, etag: str) -> bool:
    """If-None-Match uses weak comparison: W/"x" matches "x"; `*` matches anything."""
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*":
            return True
        if candidate.removeprefix("W/") == etag:
            return True
    return False


def parse_range(header: str, size: int) -> tuple[int, int] | None | str:
    """(first, last) of a single satisfiable range; None to send the whole file; "unsatisfiable"."""
    match = _RANGE.match(header.replace(" ", ""))
    if not match:
        return None  # several ranges, other units or bad syntax: ignored
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # suffix: the last n bytes
        length = int(last_text)
        if length == 0 or size == 0:
            return "unsatisfiable"
        return max(size - length, 0), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if last_text and last < first:
        return None  # invalid: ignored
    if first >= size:
        return "unsatisfiable"
    return first, min(last, size - 1)


class RangeFile(io.RawIOBase):
    """A read-only window [first, first+length) over an open file, which still has a `fileno()`: gunicorn's
    sendfile() starts at the current offset and sends Content-Length bytes."""

    def __init__(self, raw: Any, first: int, length: int) -> None:
        self._raw = raw
        self._remaining = length
        raw.seek(first)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._remaining <= 0:
            return b""
        if size is None or size < 0 or size > self._remaining:
            size = self._remaining
        data = self._raw.read(size)
        self._remaining -= len(data)
        return data

    def fileno(self) -> int:
        return self._raw.fileno()

    def tell(self) -> int:
        return self._raw.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def _open(storage_name: str):
    try:
        path = default_storage.path(storage_name)
    except NotImplementedError:  # object storage: no local path
        return default_storage.open(storage_name, "rb")
    return open(path, "rb")  # noqa: SIM115 - closed by the response


def _common_headers(response: HttpResponse, served: Served) -> None:
    response.headers["ETag"] = etag_of(served.sha256)
    response.headers["Accept-Ranges"] = "bytes"
    # Public files that never change under a given URL and ETag; revalidated cheaply by ETag.
    response.headers["Cache-Control"] = "public, max-age=0, must-revalidate"
    response.headers["X-Content-Type-Options"] = "nosniff"


def serve(request: HttpRequest, served: Served, *, accel: bool = True) -> HttpResponse:
    """The response for `served` to `request` (GET or HEAD)."""
    etag = etag_of(served.sha256)
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and _etag_matches(if_none_match, etag):
        response = HttpResponse(status=304)
        _common_headers(response, served)
        return response

    disposition = content_disposition_header(True, served.filename)
    prefix = getattr(settings, "DCE_X_ACCEL_REDIRECT", "") if accel else ""
    if prefix:
        response = HttpResponse(content_type=served.content_type)
        response.headers["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + quote(served.storage_name)
        response.headers["Content-Disposition"] = disposition
        _common_headers(response, served)
        return response

    wanted: tuple[int, int] | None | str = None
    range_header = request.headers.get("Range")
    if range_header:
        if_range = request.headers.get("If-Range")
        if if_range is None or if_range.strip() == etag:
            wanted = parse_range(range_header, served.size)
    if wanted == "unsatisfiable":
        response = HttpResponse(status=416)
        response.headers["Content-Range"] = f"bytes */{served.size}"
        _common_headers(response, served)
        return response

    raw = _open(served.storage_name)
    if isinstance(wanted, tuple):
        first, last = wanted
        length = last - first + 1
        body: Any = RangeFile(raw, first, length) if _has_fileno(raw) else _Window(raw, first, length)
        response = FileResponse(body, status=206, content_type=served.content_type)
        response.headers["Content-Length"] = str(length)
        response.headers["Content-Range"] = f"bytes {first}-{last}/{served.size}"
    else:
        response = FileResponse(raw, content_type=served.content_type)
        response.headers["Content-Length"] = str(served.size)
    response.block_size = BLOCK_SIZE
    response.headers["Content-Disposition"] = disposition
    _common_headers(response, served)
    return response


def _has_fileno(raw: Any) -> bool:
    try:
        os.fstat(raw.fileno())
    except (AttributeError, OSError, io.UnsupportedOperation):
        return False
    return True


class _Window:
    """A range over a file without a descriptor (object storage)."""

    def __init__(self, raw: Any, first: int, length: int) -> None:
        self._raw = raw
        self._remaining = length
        raw.seek(first)

    def read(self, size: int = -1) -> bytes:
        if self._remaining <= 0:
            return b""
        if size is None or size < 0 or size > self._remaining:
            size = self._remaining
        data = self._raw.read(size)
        self._remaining -= len(data)
        return data

    def close(self) -> None:
        self._raw.close()
