"""The public side of opening keys: GET /consultations/{pk}/opening-key (recipient, fingerprint, k of n)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["sealing"])
