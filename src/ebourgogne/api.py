"""The JSON API, under /api/v1, with its OpenAPI schema at /api/v1/openapi.json and docs at /api/v1/docs.

Each app contributes a router from its own `api.py`. Errors are JSON everywhere, in the caller's language
(French by default, English with `Accept-Language: en`): `{"detail": "...", "code": "...", "errors": {...}}`
where `errors` gives messages per field for invalid input (422) and `code` a stable machine-readable reason.
"""

from __future__ import annotations

from ninja import NinjaAPI

from ebourgogne.apitokens.errors import install as install_error_handlers

api = NinjaAPI(
    title="e-bourgogne API",
    version="1",
    urls_namespace="api",
    description=(
        "API of e-bourgogne, the regional e-administration platform. Public reads need no authentication; "
        "buyers' operations take a personal token (`Authorization: Bearer ebg_...`, created at "
        "/compte/jetons-api/) or the browser's session (with its CSRF token on writes)."
    ),
)

install_error_handlers(api)


def _register_routers() -> None:
    from ebourgogne.organisations.api import router as organisations_router

    api.add_router("/organisations", organisations_router)

    from ebourgogne.audit.api import router as audit_router

    api.add_router("/audit", audit_router)

    from ebourgogne.consultations.api import buyer_router as consultations_buyer_router
    from ebourgogne.consultations.api import router as consultations_router

    api.add_router("/consultations", consultations_router)
    api.add_router("/buyers", consultations_buyer_router)

    from ebourgogne.dce.api import buyer_router as dce_buyer_router
    from ebourgogne.dce.api import router as dce_router

    api.add_router("/consultations", dce_router)
    api.add_router("/buyers", dce_buyer_router)

    from ebourgogne.questions.api import buyer_router as questions_buyer_router
    from ebourgogne.questions.api import router as questions_router

    api.add_router("/consultations", questions_router)
    api.add_router("/buyers", questions_buyer_router)

    from ebourgogne.sealing.api import router as sealing_router

    api.add_router("/consultations", sealing_router)

    from ebourgogne.tenders.api import buyer_router as tenders_buyer_router
    from ebourgogne.tenders.api import company_router as tenders_company_router

    api.add_router("/companies", tenders_company_router)
    api.add_router("/buyers", tenders_buyer_router)

    from ebourgogne.tenders.api_opening import router as opening_router
    from ebourgogne.tenders.api_receipts import router as receipts_router

    api.add_router("/companies", receipts_router)
    api.add_router("/buyers", opening_router)

    from ebourgogne.meetings.api import router as meetings_router

    api.add_router("/meetings", meetings_router)

    from ebourgogne.signatures.api import router as signatures_router

    api.add_router("/signatures", signatures_router)

    from ebourgogne.alerts.api import router as alerts_router

    api.add_router("/alerts", alerts_router)

    from ebourgogne.awards.api import router as awards_router

    api.add_router("/awards", awards_router)

    from ebourgogne.indicators.api import router as indicators_router

    api.add_router("/indicators", indicators_router)

    from ebourgogne.vault.api import router as vault_router

    api.add_router("/companies", vault_router)

    from ebourgogne.contracts.api import router as contracts_router
    from ebourgogne.contracts.api_decp import router as decp_router

    api.add_router("/contracts", contracts_router)
    api.add_router("/decp", decp_router)


_register_routers()
