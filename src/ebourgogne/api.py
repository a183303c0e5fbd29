"""The JSON API, under /api/v1, with its OpenAPI schema at /api/v1/openapi.json and docs at /api/v1/docs.

Each app contributes a router from its own `api.py`.
"""

from ninja import NinjaAPI

api = NinjaAPI(
    title="e-bourgogne API",
    version="1",
    urls_namespace="api",
    description="API of e-bourgogne, the regional e-administration platform.",
)


def _register_routers() -> None:
    from ebourgogne.organisations.api import router as organisations_router

    api.add_router("/organisations", organisations_router)

    from ebourgogne.audit.api import router as audit_router

    api.add_router("/audit", audit_router)


_register_routers()
