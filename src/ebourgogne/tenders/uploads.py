"""Where the ciphertext of bid files lives, and how chunks are appended to it durably.

Files are written under `bids_root()`: the setting `TENDERS_STORAGE_DIR` when set, otherwise
`<data dir>/bids`. Each file is `<consultation>/<bid>/<upload id>.age`; `BidFile.storage_name` holds that
path relative to the root, and the file stays there once complete (the opening reads it with
`open_ciphertext`). With several application nodes this folder must be a volume shared by all of them
(an upload may resume on another node), with working `flock` and `fsync`.

Rules that keep an interrupted upload resumable and nothing lost:
- the database's `BidFile.received` is the truth; bytes past it on disk (a chunk written when the server
  died before recording it) are cut off by the next chunk, which starts at `received`;
- each chunk is flushed to disk (fdatasync) before `received` moves forward;
- one writer at a time per file (an exclusive, non-blocking `flock`): a second concurrent chunk is told
  to retry, it never interleaves bytes;
- a request body is read in blocks of `BLOCK` bytes: nothing holds a whole chunk, let alone a file, in
  memory.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from django.conf import settings

BLOCK = 1024 * 1024  # read from the request and written in blocks of 1 MB: never a whole chunk in memory


def bids_root() -> Path:
    configured = getattr(settings, "TENDERS_STORAGE_DIR", None)
    return Path(configured) if configured else Path(settings.DATA_DIR) / "bids"


def storage_name_for(bid_file: Any) -> str:
    bid = bid_file.bid
    return f"{bid.consultation_id}/{bid.pk}/{bid_file.upload_id}.age"


def path_of(bid_file: Any) -> Path:
    """The file on disk (made from the ids when `storage_name` is not recorded yet)."""
    return bids_root() / (bid_file.storage_name or storage_name_for(bid_file))


def open_ciphertext(bid_file: Any) -> IO[bytes]:
    """The stored ciphertext, for reading (the opening, the receipt check)."""
    return path_of(bid_file).open("rb")


def size_on_disk(bid_file: Any) -> int:
    try:
        return path_of(bid_file).stat().st_size
    except FileNotFoundError:
        return 0


class Busy(Exception):
    """Another request is writing this file right now."""


@contextlib.contextmanager
def locked_file(path: Path) -> Iterator[IO[bytes]]:
    """The file opened for writing (created with its folders if needed), locked for this writer alone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
    handle = os.fdopen(descriptor, "r+b")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy from None
        yield handle
    finally:
        handle.close()  # releases the lock


def read_prefix(path: Path, length: int) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(length)
    except FileNotFoundError:
        return b""


def sha256_of_path(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(4 * 1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def fsync_path(path: Path) -> None:
    """Flush a file and the folder that names it, so both survive a crash of the machine."""
    with path.open("rb") as handle:
        os.fsync(handle.fileno())
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove(bid_file: Any) -> None:
    with contextlib.suppress(FileNotFoundError):
        path_of(bid_file).unlink()


# --- The running SHA-256 of uploads in progress -----------------------------------------------------
#
# The SHA-256 of a complete file is that of every byte stored. Rather than reading the whole file again at
# its last chunk, a server process keeps the hash state of the uploads it has been receiving (a client's
# keep-alive connection usually brings the next chunk to the same process). A state is used only for the
# offset it covers, and only if the file is exactly as this process left it (same size and modification
# time, to the nanosecond): any other writer in between, and the file is hashed from disk instead.

_STATES: OrderedDict[int, tuple[int, tuple[int, int, int], Any]] = OrderedDict()
_STATES_LOCK = threading.Lock()
_STATES_MAX = 512


def _stamp(descriptor: int) -> tuple[int, int, int]:
    info = os.fstat(descriptor)
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def running_hash(file_pk: int, offset: int, descriptor: int) -> Any:
    """A hash object covering the file's first `offset` bytes, or None when this process cannot vouch for it."""
    if offset == 0:
        return hashlib.sha256()
    with _STATES_LOCK:
        entry = _STATES.get(file_pk)
    if entry is None or entry[0] != offset or entry[1] != _stamp(descriptor):
        return None
    return entry[2].copy()


def remember_hash(file_pk: int, offset: int, descriptor: int, state: Any) -> None:
    with _STATES_LOCK:
        _STATES[file_pk] = (offset, _stamp(descriptor), state)
        _STATES.move_to_end(file_pk)
        while len(_STATES) > _STATES_MAX:
            _STATES.popitem(last=False)


def forget_hash(file_pk: int) -> None:
    with _STATES_LOCK:
        _STATES.pop(file_pk, None)
