"""The meetings API."""

from ninja import Router

router = Router(tags=["meetings"])
