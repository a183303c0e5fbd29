"""The operations of the tenders app guarded by `bids.submit` and `bids.register`, for the authorisation
matrix (ebourgogne/core/tests/test_authorisation_matrix.py). Reads guarded by those permissions are listed
too (`changes=False`): a stranger must get 404, a member without the role 403."""

from __future__ import annotations

import io
from typing import Any

from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.tenders import services
from ebourgogne.tenders.models import Bid, BidFile
from ebourgogne.testing.authorisation import Operation, World
from ebourgogne.testing.factories import ConsultationFactory
from ebourgogne.testing.sealing import encrypt_to, give_test_key

API = "/api/v1/companies/{org_slug}"
UPLOAD = API + "/uploads/{upload_id}"


def _consultation(world: World):
    if "tenders.consultation" not in world.extra:
        from ebourgogne.sealing.models import ConsultationKey

        consultation = ConsultationFactory(organisation=world.buyer, published=True)
        give_test_key(consultation)
        with scopes_disabled():
            world.extra["tenders.recipient"] = ConsultationKey.objects.get(consultation=consultation).recipient
        world.extra["tenders.consultation"] = consultation
    return world.extra["tenders.consultation"]


def _bid(world: World) -> Bid:
    """A draft bid of the world's company."""
    if "tenders.bid" not in world.extra:
        world.extra["tenders.bid"] = services.bid_create(
            acting_user=world.company_admin, company=world.company, consultation_id=_consultation(world).pk
        )
    return world.extra["tenders.bid"]


def _file(world: World, *, complete: bool) -> BidFile:
    """A file of that bid: complete, or with its age header received and 2 bytes to go."""
    key = f"tenders.file.{complete}"
    if key not in world.extra:
        bid = _bid(world)
        _consultation(world)
        data = encrypt_to(world.extra["tenders.recipient"], b"offre " * 50)
        with scopes_disabled():
            bid_file = services.file_announce(
                acting_user=world.company_admin,
                company=world.company,
                bid=bid,
                envelope="offer",
                name="o.pdf",
                size=len(data),
            )
            sent = data if complete else data[:-2]
            bid_file = services.upload_chunk(
                acting_user=world.company_admin,
                company=world.company,
                bid_file=BidFile.objects.select_related("bid").get(pk=bid_file.pk),
                offset=0,
                stream=io.BytesIO(sent),
                content_length=len(sent),
            )
        world.extra[key] = bid_file
    return world.extra[key]


def _api(path: str, world: World, **params: Any) -> str:
    return path.format(org_slug=world.company.slug, **params)


def _bids(world: World) -> Any:
    return sorted(Bid.objects.filter(company=world.company).values_list("pk", "state", "number"))


def _files(world: World) -> Any:
    return sorted(BidFile.objects.filter(bid__company=world.company).values_list("pk", "received", "state"))


def _nothing(world: World) -> Any:
    return None


def _company_op(
    name: str, method: str, target_path: str, url, snapshot=_files, data=None, changes=True, html=False, prepare=None
):
    """An operation of the world's company; `prepare(world)` makes its objects before the first snapshot."""

    def taken(world: World) -> Any:
        if prepare is not None:
            prepare(world)
        return snapshot(world)

    return Operation(
        name=name,
        target=target_path if html else f"api {method} /api/v1/companies/{{org_slug}}{target_path}",
        method=method,
        permission="bids.submit",
        organisation=lambda w: w.company,
        url=url,
        data=data or (lambda w: {}),
        snapshot=taken,
        api=not html,
        changes=changes,
    )


OPERATIONS = [
    _company_op("tenders.api.bids", "GET", "/bids", lambda w: _api(API + "/bids", w), _nothing, changes=False),
    _company_op(
        "tenders.api.bid_create",
        "POST",
        "/bids",
        lambda w: _api(API + "/bids", w),
        _bids,
        data=lambda w: {"consultation": _consultation(w).pk},
    ),
    _company_op(
        "tenders.api.bid_detail",
        "GET",
        "/bids/{int:bid_id}",
        lambda w: _api(API + "/bids/{bid_id}", w, bid_id=_bid(w).pk),
        _nothing,
        changes=False,
    ),
    _company_op(
        "tenders.api.file_announce",
        "POST",
        "/bids/{int:bid_id}/files",
        lambda w: _api(API + "/bids/{bid_id}/files", w, bid_id=_bid(w).pk),
        data=lambda w: {"envelope": "application", "name": "dume.xml", "size": 1000},
        prepare=_bid,
    ),
    _company_op(
        "tenders.api.deposit",
        "POST",
        "/bids/{int:bid_id}/deposit",
        lambda w: _api(API + "/bids/{bid_id}/deposit", w, bid_id=_file(w, complete=True).bid_id),
        _bids,
        prepare=lambda w: _file(w, complete=True),
    ),
    _company_op(
        "tenders.api.upload_state",
        "GET",
        "/uploads/{uuidstr:upload_id}",
        lambda w: _api(UPLOAD, w, upload_id=_file(w, complete=False).upload_id),
        _nothing,
        changes=False,
    ),
    _company_op(
        "tenders.api.upload_head",
        "HEAD",
        "/uploads/{uuidstr:upload_id}",
        lambda w: _api(UPLOAD, w, upload_id=_file(w, complete=False).upload_id),
        _nothing,
        changes=False,
    ),
    # The matrix sends the JSON of `data` as the body: "{}", the 2 bytes the file still needs.
    _company_op(
        "tenders.api.upload_chunk",
        "PATCH",
        "/uploads/{uuidstr:upload_id}",
        lambda w: (
            _api(UPLOAD, w, upload_id=_file(w, complete=False).upload_id)
            + f"?offset={_file(w, complete=False).received}"
        ),
        prepare=lambda w: _file(w, complete=False),
    ),
    _company_op(
        "tenders.api.upload_remove",
        "DELETE",
        "/uploads/{uuidstr:upload_id}",
        lambda w: _api(UPLOAD, w, upload_id=_file(w, complete=False).upload_id),
        prepare=lambda w: _file(w, complete=False),
    ),
    Operation(
        name="tenders.api.deposit_register",
        target="api GET /api/v1/buyers/{org_slug}/consultations/{int:consultation_id}/bids",
        method="GET",
        permission="bids.register",
        url=lambda w: f"/api/v1/buyers/{w.buyer.slug}/consultations/{_consultation(w).pk}/bids",
        snapshot=_nothing,
        api=True,
        changes=False,
    ),
]


def _html(name: str, method: str, url, snapshot=_nothing, data=None, changes=False, prepare=None) -> Operation:
    return _company_op(
        f"tenders.{name.split(':')[1]}",
        method,
        name,
        url,
        snapshot,
        data=data,
        changes=changes,
        html=True,
        prepare=prepare,
    )


OPERATIONS += [
    _html("tenders_company:list", "GET", lambda w: reverse("tenders_company:list", args=[w.company.slug])),
    _html(
        "tenders_company:new",
        "POST",
        lambda w: reverse("tenders_company:new", args=[w.company.slug, _consultation(w).pk]),
        _bids,
        data=lambda w: {"kind": "bid"},
        changes=True,
        prepare=_consultation,
    ),
    _html("tenders_company:bid", "GET", lambda w: reverse("tenders_company:bid", args=[w.company.slug, _bid(w).pk])),
    _html(
        "tenders_company:file_remove",
        "POST",
        lambda w: reverse(
            "tenders_company:file_remove",
            args=[w.company.slug, _bid(w).pk, _file(w, complete=False).upload_id],
        ),
        _files,
        changes=True,
        prepare=lambda w: _file(w, complete=False),
    ),
    _html(
        "tenders_company:deposit",
        "POST",
        lambda w: reverse("tenders_company:deposit", args=[w.company.slug, _file(w, complete=True).bid_id]),
        _bids,
        data=lambda w: {"confirm": "on"},
        changes=True,
        prepare=lambda w: _file(w, complete=True),
    ),
    _html(
        "tenders_company:result", "GET", lambda w: reverse("tenders_company:result", args=[w.company.slug, _bid(w).pk])
    ),
]

for _name in ("tenders_buyer:register", "tenders_buyer:register_csv"):
    OPERATIONS.append(
        Operation(
            name=f"tenders.{_name.split(':')[1]}",
            target=_name,
            method="GET",
            permission="bids.register",
            url=lambda w, _name=_name: reverse(_name, args=[w.buyer.slug, _consultation(w).pk]),
            snapshot=_nothing,
            changes=False,
        )
    )
