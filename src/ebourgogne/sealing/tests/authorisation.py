"""The state-changing operations of the sealing app that any signed-in person may do on their own key,
for the authorisation matrix (ebourgogne/core/tests/test_authorisation_matrix.py). Rotation and replacement
need the person's own existing key: their refusals are tested in test_views.py."""

from __future__ import annotations

from django.urls import reverse

from ebourgogne.sealing.models import PersonalKey
from ebourgogne.testing.authorisation import AUTHENTICATED, Operation

PASSPHRASE = "une longue phrase secrète"  # noqa: S105 - test data

OPERATIONS = [
    Operation(
        name="sealing.set_up",
        target="sealing:set_up",
        method="POST",
        policy=AUTHENTICATED,
        url=lambda w: reverse("sealing:set_up"),
        data=lambda w: {"passphrase": PASSPHRASE, "passphrase_again": PASSPHRASE},
        snapshot=lambda w: PersonalKey.objects.count(),
    ),
]
