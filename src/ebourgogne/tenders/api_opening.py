"""Openings in the API: the opening report of a consultation, for the buyer after the opening."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["tenders"])
