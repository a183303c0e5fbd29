"""The public DECP bulk endpoint, under /api/v1/decp: the essential data of contracts (schema v2.0.3).

GET /api/v1/decp answers in the schema's own root form, `{"marches": {"marche": [...]}}`, one page at a time
(contracts in a stable order, two queries per page whatever its size). Query parameters, all optional:

- `acheteur`: the buyer's SIRET (14 digits) or its identifier on the platform (slug);
- `depuis`, `jusqua` (YYYY-MM-DD, Europe/Paris, included): the contracts with data published in the range
  (initial data, a modification, a subcontracting act or its change); each is given as it stands now;
- `page` (from 1) and `taille` (1 to 1,000, 500 by default).

The `Link` header gives the next and previous pages (`rel="next"`, `rel="prev"`). Wrong parameters get a
400 with a message (`{"detail": ..., "code": "invalid_parameter"}`). Public: no authentication.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router

from ebourgogne.apitokens.errors import ApiError
from ebourgogne.contracts import decp, decp_selectors
from ebourgogne.core.access import public

router = Router(tags=["decp"])

PAGE_SIZE = 500
MAX_PAGE_SIZE = 1000
MAX_PAGE = 1_000_000
SIRET = re.compile(r"^[0-9]{14}$")
SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,80}$")
KNOWN = {"acheteur", "depuis", "jusqua", "page", "taille"}


def _invalid(message: str) -> ApiError:
    return ApiError(400, message, "invalid_parameter")


def _date(request: HttpRequest, name: str) -> dt.date | None:
    value = request.GET.get(name, "").strip()
    if not value:
        return None
    message = _("Paramètre « %(name)s » : date attendue au format AAAA-MM-JJ (reçu « %(value)s »).") % {
        "name": name,
        "value": value[:40],
    }
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise _invalid(message)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _invalid(message) from None


def _integer(request: HttpRequest, name: str, default: int, maximum: int) -> int:
    value = request.GET.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or not 1 <= int(value) <= maximum:
        raise _invalid(
            _("Paramètre « %(name)s » : nombre entier de 1 à %(maximum)s attendu (reçu « %(value)s »).")
            % {"name": name, "maximum": maximum, "value": value[:40]}
        )
    return int(value)


def _link(request: HttpRequest, page: int) -> str:
    query = {key: value for key, value in request.GET.items() if key in KNOWN}
    query["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{urlencode(query)}")


@router.get(
    "",
    auth=None,
    summary="Essential data of contracts (DECP v2.0.3), paginated",
    description=__doc__,
    response={200: dict, 400: dict},
)
@public(reason="open data: the essential data of contracts (DECP), published by law, identified by SIRET")
def decp_bulk(request: HttpRequest) -> HttpResponse:
    unknown = sorted(set(request.GET) - KNOWN)
    if unknown:
        raise _invalid(
            _("Paramètre inconnu : %(names)s. Paramètres acceptés : acheteur, depuis, jusqua, page, taille.")
            % {"names": ", ".join(name[:40] for name in unknown[:5])}
        )
    buyer = request.GET.get("acheteur", "").strip()
    if buyer and not (SIRET.match(buyer) or SLUG.match(buyer)):
        raise _invalid(
            _(
                "Paramètre « acheteur » : SIRET de 14 chiffres ou identifiant de l'acheteur attendu (reçu « %(value)s »)."
            )
            % {"value": buyer[:40]}
        )
    since, until = _date(request, "depuis"), _date(request, "jusqua")
    if since and until and since > until:
        raise _invalid(_("La date « depuis » est postérieure à la date « jusqua »."))
    page = _integer(request, "page", 1, MAX_PAGE)
    size = _integer(request, "taille", PAGE_SIZE, MAX_PAGE_SIZE)
    result = decp_selectors.published_page(
        buyer_siret=buyer if SIRET.match(buyer) else "",
        buyer_slug=buyer if buyer and not SIRET.match(buyer) else "",
        since=since,
        until=until,
        number=page,
        size=size,
    )
    response = HttpResponse(
        json.dumps(decp.wrap(result.items), ensure_ascii=False, separators=(",", ":")),
        content_type="application/json; charset=utf-8",
    )
    links = []
    if result.has_next:
        links.append(f'<{_link(request, page + 1)}>; rel="next"')
    if page > 1:
        links.append(f'<{_link(request, page - 1)}>; rel="prev"')
    if links:
        response["Link"] = ", ".join(links)
    response["X-Page"] = str(page)
    response["X-Page-Size"] = str(size)
    return response


FILES_PAGE_SIZE = 100


@router.get(
    "/fichiers",
    auth=None,
    summary="The daily DECP files (JSON and XML): day, publications, byte size and SHA-256, newest first",
    description=(
        "GET /api/v1/decp/fichiers lists the daily files of the essential data, newest day first, 100 a page "
        "(`page`, from 1; the `Link` header gives the next page). Each gives the day (Europe/Paris), the number "
        "of publications, and for the JSON and the XML file its download URL, its size in bytes and its "
        "SHA-256 (`taille` is null for a file built before sizes were recorded). Public: no authentication."
    ),
    response={200: dict, 400: dict},
)
@public(reason="open data: the list of the daily files of the essential data of contracts (DECP)")
def decp_files(request: HttpRequest) -> HttpResponse:
    from django.urls import reverse

    from ebourgogne.contracts.models import DecpDailyFile

    unknown = sorted(set(request.GET) - {"page"})
    if unknown:
        raise _invalid(
            _("Paramètre inconnu : %(names)s. Paramètre accepté : page.")
            % {"names": ", ".join(name[:40] for name in unknown[:5])}
        )
    page = _integer(request, "page", 1, MAX_PAGE)
    offset = (page - 1) * FILES_PAGE_SIZE
    rows = list(DecpDailyFile.objects.order_by("-day")[offset : offset + FILES_PAGE_SIZE + 1])
    has_next = len(rows) > FILES_PAGE_SIZE

    def one(item: DecpDailyFile, fmt: str) -> dict:
        url = reverse("decp:download", args=[item.day.isoformat(), fmt])
        return {
            "url": request.build_absolute_uri(url),
            "taille": getattr(item, f"{fmt}_size"),
            "sha256": getattr(item, f"{fmt}_sha256"),
        }

    body = {
        "fichiers": [
            {
                "jour": item.day.isoformat(),
                "publications": item.records,
                "json": one(item, "json"),
                "xml": one(item, "xml"),
            }
            for item in rows[:FILES_PAGE_SIZE]
        ]
    }
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")), content_type="application/json; charset=utf-8"
    )
    if has_next:
        query = urlencode({"page": str(page + 1)})
        response["Link"] = f'<{request.build_absolute_uri(f"{request.path}?{query}")}>; rel="next"'
    return response
