"""The state-changing operation of the indicators app (a buyer's refresh on demand), for the authorisation
matrix (ebourgogne/core/tests/test_authorisation_matrix.py)."""

from __future__ import annotations

from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.indicators.models import Refresh, buyer_key
from ebourgogne.testing.authorisation import Operation, World


def _refreshes(world: World):
    with scopes_disabled():
        return list(Refresh.objects.filter(scope_key=buyer_key(world.buyer.pk)).values_list("computed_at", flat=True))


OPERATIONS = [
    Operation(
        name="indicators.refresh",
        target="indicators_buyer:refresh",
        method="POST",
        permission="indicators.view",
        url=lambda w: reverse("indicators_buyer:refresh", args=[w.buyer.slug]),
        snapshot=_refreshes,
    ),
]
