"""The awards API."""

from ninja import Router

router = Router(tags=["awards"])
