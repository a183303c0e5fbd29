"""The signatures API."""

from ninja import Router

router = Router(tags=["signatures"])
