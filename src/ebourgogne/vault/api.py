"""The vault API."""

from ninja import Router

router = Router(tags=["vault"])
