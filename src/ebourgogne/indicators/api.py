"""The indicators API."""

from ninja import Router

router = Router(tags=["indicators"])
