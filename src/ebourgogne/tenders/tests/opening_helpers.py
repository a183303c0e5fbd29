"""Helpers of the opening and practice tests: deposited bids written straight to the database and the
bid storage (the upload protocol has its own tests), small ZIP archives, the opening job run in-process."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from typing import Any

from django.db.models import Max
from django_scopes import scopes_disabled

from ebourgogne.core import clock
from ebourgogne.sealing.models import ConsultationKey
from ebourgogne.tenders import uploads
from ebourgogne.tenders.models import Bid, BidFile, BidKind, BidState, Envelope, FileState, Receipt
from ebourgogne.testing.sealing import encrypt_to


def make_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def corrupt_zip() -> bytes:
    """A ZIP whose member's compressed data is damaged (its CRC no longer matches)."""
    data = bytearray(make_zip({"memoire.txt": b"Memoire technique " * 400}))
    middle = 30 + len("memoire.txt") + 20  # inside the compressed data of the first member
    data[middle] ^= 0xFF
    return bytes(data)


def deposit(
    consultation: Any,
    company: Any,
    files: list[tuple[str, bytes]],
    *,
    kind: str = BidKind.BID,
    late: bool = False,
    at: dt.datetime | None = None,
    recipient: str | None = None,
    physical_backup: bool = False,
    receipt_sha256: dict[str, str] | None = None,
) -> Bid:
    """A deposited bid of `company`: each (name, plaintext) encrypted to the consultation's recipient (or
    `recipient`), stored where the opening reads it, and a receipt listing the files' SHA-256."""
    with scopes_disabled():
        recipient = recipient or ConsultationKey.objects.get(consultation=consultation).recipient
        number = (Bid.objects.filter(consultation=consultation).aggregate(Max("number"))["number__max"] or 0) + 1
        moment = at or clock.now()
        bid = Bid.objects.create(
            consultation=consultation,
            company=company,
            kind=kind,
            state=BidState.DEPOSITED,
            upload_started_at=moment - dt.timedelta(minutes=1),
            deposited_at=moment,
            number=number,
            is_late=late,
            physical_backup_declared=physical_backup,
        )
        entries = []
        for name, plaintext in files:
            ciphertext = encrypt_to(recipient, plaintext)
            digest = hashlib.sha256(ciphertext).hexdigest()
            bid_file = BidFile.objects.create(
                bid=bid,
                envelope=Envelope.OFFER,
                name=name,
                size=len(ciphertext),
                received=len(ciphertext),
                sha256=digest,
                state=FileState.COMPLETE,
                completed_at=moment,
            )
            bid_file.storage_name = uploads.storage_name_for(bid_file)
            bid_file.save(update_fields=["storage_name"])
            path = uploads.path_of(bid_file)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(ciphertext)
            entries.append(
                {
                    "envelope": bid_file.envelope,
                    "name": name,
                    "size": len(ciphertext),
                    "sha256": (receipt_sha256 or {}).get(name, digest),
                }
            )
        payload = json.dumps({"bid": bid.pk, "files": entries}, sort_keys=True).encode()
        Receipt.objects.create(
            bid=bid,
            number=f"EB-{consultation.pk}-{number}",
            issued_at=moment,
            payload=payload,
            digest=hashlib.sha256(payload).hexdigest(),
            is_late=late,
        )
    return bid


def run_jobs(opening: Any) -> Any:
    """Run the opening job as the worker would, in this process; returns the refreshed opening."""
    from ebourgogne.tenders.tasks import run_opening_task

    run_opening_task.call(opening.pk)
    opening.refresh_from_db()
    return opening
