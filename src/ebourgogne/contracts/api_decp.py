"""The public DECP bulk endpoint, under /api/v1/decp (skeleton: filled in session 5)."""

from ninja import Router

router = Router(tags=["decp"])
