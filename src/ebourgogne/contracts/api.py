"""The contracts API, under /api/v1/contracts (skeleton: filled in session 5)."""

from ninja import Router

from ebourgogne.apitokens.auth import api_auth

router = Router(tags=["contracts"], auth=api_auth)
