"""The public side of opening keys: GET /consultations/{pk}/opening-key (recipient, fingerprint, k of n).

What a bidder's software needs before encrypting (docs/bids-protocol.md §1): the recipient to encrypt to,
its fingerprint (printed in the receipt), the deadline and the server's clock, the size limit and the
chunk size of the upload protocol."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from ebourgogne.apitokens.schemas import ErrorOut
from ebourgogne.consultations.api_common import public_consultation
from ebourgogne.core import clock
from ebourgogne.core.access import public
from ebourgogne.core.errors import NotFound
from ebourgogne.sealing.models import ConsultationKey
from ebourgogne.tenders.limits import CHUNK_SIZE

router = Router(tags=["sealing"])


class OpeningKeyOut(Schema):
    recipient: str = Field(description="age X25519 recipient (age1...): encrypt every file to it, and only to it")
    fingerprint: str = Field(description="SHA-256 (hex) of the recipient string; printed in the receipt")
    threshold: int = Field(description="k: how many commission members are needed to open the bids")
    share_count: int = Field(description="n: how many members hold a share of the opening key")
    bids_deadline: str | None = Field(description="bid deadline, UTC (ISO 8601, Z)")
    server_time: str = Field(description="the platform's clock now, UTC (ISO 8601 with milliseconds, Z)")
    bid_size_limit: int = Field(description="largest total ciphertext size of one bid, in bytes")
    chunk_size: int = Field(description="largest upload chunk (PATCH body), in bytes")


def utc_z(value: dt.datetime | None, *, milliseconds: bool = False) -> str | None:
    """`2026-12-01T11:00:00Z` (or with `.512` milliseconds)."""
    if value is None:
        return None
    return (
        value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="milliseconds" if milliseconds else "seconds")
        + "Z"
    )


@router.get(
    "/{int:consultation_id}/opening-key",
    response={200: OpeningKeyOut, 404: ErrorOut},
    summary="The public encryption key of a consultation's bids",
    auth=None,
)
@public(reason="the recipient of a published consultation is public: bidders encrypt to it")
def opening_key(request: HttpRequest, consultation_id: int) -> dict[str, Any]:
    consultation = public_consultation(consultation_id)
    key = (
        ConsultationKey.objects.filter(consultation_id=consultation.pk)
        .values("recipient", "fingerprint", "threshold", "share_count")
        .first()
    )
    if key is None:
        raise NotFound(
            _("Cette consultation n'a pas de clé de chiffrement : elle ne reçoit pas de plis électroniques.")
        )
    return {
        **key,
        "bids_deadline": utc_z(consultation.bids_deadline),
        "server_time": utc_z(clock.now(), milliseconds=True),
        "bid_size_limit": consultation.bid_size_limit,
        "chunk_size": CHUNK_SIZE,
    }
