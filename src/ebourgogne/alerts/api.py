"""The alerts API (/api/v1/alerts): the caller's own alerts, as on the page /compte/alertes/. Same rules
and messages as the pages (alerts.services); another user's alert is 404."""

from decimal import Decimal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from ebourgogne.alerts import selectors, services
from ebourgogne.alerts.models import Alert, Delivery
from ebourgogne.apitokens.auth import api_auth
from ebourgogne.core.access import authenticated
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused

router = Router(tags=["alerts"], auth=api_auth)


class ErrorOut(Schema):
    detail: str
    field: str | None = None


class AlertIn(Schema):
    name: str
    q: str = ""
    cpv_codes: list[str] = Field(default_factory=list, description="8-digit CPV codes; each finds its subtree")
    departments: list[str] = Field(default_factory=list)
    buyers: list[str] = Field(default_factory=list, description="buyers' slugs")
    procedures: list[str] = Field(default_factory=list)
    contract_types: list[str] = Field(default_factory=list)
    value_min: Decimal | None = None
    value_max: Decimal | None = None
    delivery: str = Field(Delivery.DAILY, description="immediate, daily or weekly")
    company: int | None = Field(None, description="id of one of the caller's companies")


class AlertOut(Schema):
    id: int
    name: str
    q: str
    cpv_codes: list[str]
    departments: list[str]
    buyers: list[str]
    procedures: list[str]
    contract_types: list[str]
    value_min: Decimal | None
    value_max: Decimal | None
    delivery: str
    is_active: bool
    feed_url: str


def _out(request: HttpRequest, alert: Alert) -> dict:
    from django.urls import reverse

    return {
        **{name: getattr(alert, name) for name in AlertOut.model_fields if name not in ("feed_url",)},
        "feed_url": request.build_absolute_uri(reverse("alerts_public:feed", kwargs={"token": alert.feed_token})),
    }


def _error(error: DomainError):
    status = 404 if isinstance(error, NotFound) else 403 if isinstance(error, PermissionRefused) else 422
    field = error.code if error.code not in ("invalid", "forbidden", "not_found", "__all__") else None
    return Status(status, ErrorOut(detail=str(error.message), field=field))


@router.get("/", response={200: list[AlertOut], 401: ErrorOut}, summary="My alerts")
@authenticated
def my_alerts(request: HttpRequest):
    return [_out(request, alert) for alert in selectors.alerts_of(request.user)]


@router.post("/", response={201: AlertOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}, summary="Create an alert")
@authenticated
def create_alert(request: HttpRequest, payload: AlertIn):
    data = payload.model_dump()
    try:
        alert = services.create_alert(
            owner=request.user,
            name=data.pop("name"),
            delivery=data.pop("delivery"),
            company=data.pop("company"),
            criteria=data,
            request=request,
        )
    except DomainError as error:
        return _error(error)
    return Status(201, _out(request, alert))


@router.delete("/{alert_id}", response={204: None, 401: ErrorOut, 404: ErrorOut}, summary="Delete an alert")
@authenticated
def delete_alert(request: HttpRequest, alert_id: int):
    alert = selectors.owned_alert(request.user, alert_id)
    if alert is None:
        return Status(404, ErrorOut(detail=_("Alerte introuvable.")))
    services.delete_alert(alert=alert, acting_user=request.user, request=request)
    return Status(204, None)
