"""Background work of the DCE: the ZIP of each published version, built once.

The archive is written by `zipfile` into a temporary file on disk, one member at a time, each copied
from storage in 1 MiB blocks (never a whole file in memory); ZIP64 is used for members of 2 GiB or
more and for archives past 4 GiB. Formats that are already compressed (PDF, office files, images,
archives) are stored as they are; the others are deflated. The finished archive goes to storage, with
its size and SHA-256 recorded on the version.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import zipfile

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.tasks import task
from django.utils import timezone
from django_scopes import scopes_disabled

from ebourgogne.core import clock

COPY_BLOCK = 1024 * 1024
ZIP64_MEMBER = 2 * 1024**3 - 1

# Already compressed: deflating them again costs time and saves nothing.
STORED_EXTENSIONS = frozenset(
    {
        "pdf",
        "zip",
        "7z",
        "gz",
        "bz2",
        "xz",
        "rar",
        "docx",
        "xlsx",
        "pptx",
        "odt",
        "ods",
        "odp",
        "jpg",
        "jpeg",
        "png",
        "gif",
        "webp",
        "mp4",
        "mp3",
        "dwfx",
        "kmz",
    }
)


def _compression(name: str) -> int:
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return zipfile.ZIP_STORED if extension in STORED_EXTENSIONS else zipfile.ZIP_DEFLATED


def archive_members(version):
    """The files of a published version: added in it or before, not removed in it or before."""
    from django.db.models import Q

    from ebourgogne.dce.models import DceFile

    return (
        DceFile.objects.filter(consultation_id=version.consultation_id, added_in__number__lte=version.number)
        .filter(Q(removed_in__isnull=True) | Q(removed_in__number__gt=version.number))
        .order_by("name")
    )


def write_archive(version, target) -> None:
    """Write the ZIP of `version` into the open binary file `target`."""
    with zipfile.ZipFile(target, "w", allowZip64=True) as archive:
        for member in archive_members(version):
            info = zipfile.ZipInfo(member.name, date_time=timezone.localtime(member.uploaded_at).timetuple()[:6])
            info.compress_type = _compression(member.name)
            info.file_size = member.size
            with default_storage.open(member.storage_name, "rb") as source:
                with archive.open(info, "w", force_zip64=member.size >= ZIP64_MEMBER) as destination:
                    shutil.copyfileobj(source, destination, COPY_BLOCK)


@task()
def build_archive(version_id: int) -> dict:
    """Build the ZIP of a published DCE version once (does nothing if it exists already)."""
    from ebourgogne.dce.models import DceVersion

    with scopes_disabled():
        version = DceVersion.objects.filter(pk=version_id, published_at__isnull=False).first()
        if version is None or version.archive_ready_at is not None:
            return {"built": False}
        with tempfile.TemporaryFile(prefix="dce-zip-") as temporary:
            write_archive(version, temporary)
            size = temporary.tell()
            temporary.seek(0)
            hasher = hashlib.sha256()
            for block in iter(lambda: temporary.read(COPY_BLOCK), b""):
                hasher.update(block)
            temporary.seek(0)
            name = default_storage.save(
                f"dce/{version.consultation_id}/archives/dce-v{version.number}.zip", File(temporary)
            )
        with transaction.atomic():
            updated = DceVersion.objects.filter(pk=version.pk, archive_ready_at__isnull=True).update(
                archive_name=name, archive_size=size, archive_sha256=hasher.hexdigest(), archive_ready_at=clock.now()
            )
        if not updated:  # built twice at once: keep the first
            default_storage.delete(name)
    return {"built": bool(updated), "size": size}
