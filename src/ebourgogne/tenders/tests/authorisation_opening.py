"""The opening's and the practice consultation's guarded operations, for the authorisation matrix
(ebourgogne/core/tests/test_authorisation_matrix.py reads every tests/authorisation_*.py)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.consultations.models import Consultation
from ebourgogne.core import clock
from ebourgogne.tenders.models import OpenedFile, Opening
from ebourgogne.testing.authorisation import Operation, World


def _deadline_passed(consultation) -> None:
    now = clock.now()
    with scopes_disabled():
        Consultation.objects.filter(pk=consultation.pk).update(
            published_at=now - dt.timedelta(days=2), bids_deadline=now - dt.timedelta(hours=1)
        )
    consultation.refresh_from_db()


def _sealed(world: World):
    """A consultation with real shares and one deposited bid, its deadline passed."""
    if "opening.sealed" not in world.extra:
        from ebourgogne.tenders.tests.opening_helpers import deposit
        from ebourgogne.testing.sealing import sealed_consultation

        sealed = sealed_consultation(world.buyer)
        deposit(sealed.consultation, world.company, [("offre.pdf.age", b"%PDF")])
        _deadline_passed(sealed.consultation)
        world.extra["opening.sealed"] = sealed
    return world.extra["opening.sealed"]


def _opened(world: World):
    """A consultation whose bids were opened (test key): (consultation, opening, opened file)."""
    if "opening.opened" not in world.extra:
        from ebourgogne.tenders import opening as service
        from ebourgogne.tenders.tests.opening_helpers import deposit, run_jobs
        from ebourgogne.testing.factories import ConsultationFactory
        from ebourgogne.testing.sealing import give_test_key

        consultation = ConsultationFactory(organisation=world.buyer, published=True)
        identity = give_test_key(consultation)
        deposit(consultation, world.company, [("offre.pdf.age", b"%PDF")])
        _deadline_passed(consultation)
        opening = run_jobs(
            service.opening_begin(
                acting_user=world.buyer_admin, consultation=consultation, identity=identity, members=[world.buyer_admin]
            )
        )
        with scopes_disabled():
            opened = OpenedFile.objects.get(opening=opening)
        world.extra["opening.opened"] = (consultation, opening, opened)
    return world.extra["opening.opened"]


def _practice_bid(world: World):
    if "opening.practice" not in world.extra:
        from ebourgogne.tenders.practice import practice_consultation
        from ebourgogne.tenders.tests.opening_helpers import deposit

        world.extra["opening.practice"] = deposit(practice_consultation(), world.company, [("essai.pdf.age", b"%PDF")])
    return world.extra["opening.practice"]


def _openings(consultation):
    return lambda world: sorted(Opening.objects.filter(consultation=consultation(world)).values_list("pk", "state"))


def _opened_url(name: str, *extra):
    def url(world: World) -> str:
        consultation, opening, opened = _opened(world)
        args = {"report_pdf": [opening.pk], "download": [opened.pk]}.get(name, [])
        return reverse(f"tenders_opening:{name}", args=[world.buyer.slug, consultation.pk, *args])

    return url


def _start_data(world: World) -> dict[str, str]:
    commission = _sealed(world).commission
    return {f"passphrase-{user.pk}": commission.passphrase(user) for user in commission.members[:2]}


_opened_consultation = _openings(lambda world: _opened(world)[0])

OPERATIONS = [
    Operation(
        name="tenders.opening_start",
        target="tenders_opening:start",
        method="POST",
        permission="bids.open",
        url=lambda w: reverse("tenders_opening:start", args=[w.buyer.slug, _sealed(w).consultation.pk]),
        data=_start_data,
        snapshot=_openings(lambda world: _sealed(world).consultation),
    ),
    # Guarded reads: only the buyer's staff and commission members see the opening and what it opened.
    Operation(
        name="tenders.opening_page",
        target="tenders_opening:page",
        method="GET",
        permission="bids.open",
        url=_opened_url("page"),
        snapshot=_opened_consultation,
        changes=False,
    ),
    Operation(
        name="tenders.opening_progress",
        target="tenders_opening:progress",
        method="GET",
        permission="bids.open",
        url=_opened_url("progress"),
        snapshot=_opened_consultation,
        changes=False,
    ),
    Operation(
        name="tenders.opening_report_pdf",
        target="tenders_opening:report_pdf",
        method="GET",
        permission="bids.open",
        url=_opened_url("report_pdf"),
        snapshot=_opened_consultation,
        changes=False,
    ),
    Operation(
        name="tenders.opening_download",
        target="tenders_opening:download",
        method="GET",
        permission="bids.open",
        url=_opened_url("download"),
        snapshot=_opened_consultation,
        changes=False,
    ),
    Operation(
        name="tenders.opening_api",
        target="api GET /api/v1/buyers/{org_slug}/consultations/{int:consultation_id}/opening",
        method="GET",
        permission="bids.open",
        url=lambda w: f"/api/v1/buyers/{w.buyer.slug}/consultations/{_opened(w)[0].pk}/opening",
        snapshot=_opened_consultation,
        api=True,
        changes=False,
    ),
    Operation(
        name="tenders.practice_mock_opening",
        target="tenders_practice:mock_opening",
        method="POST",
        permission="bids.submit",
        organisation=lambda w: w.company,
        url=lambda w: reverse("tenders_practice:mock_opening", args=[w.company.slug]),
        data=lambda w: {"bid": _practice_bid(w).pk},
        snapshot=lambda w: sorted(Opening.objects.values_list("pk", flat=True)),
        changes=False,
    ),
]
