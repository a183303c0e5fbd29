"""The certificate pages' state-changing operations, for the authorisation matrix
(ebourgogne/core/tests/test_authorisation_matrix.py). Any signed-in person acts on their own
certificates; revoking somebody else's answers 404 (tests/test_certificates.py)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ebourgogne.signatures.models import SigningCertificate
from ebourgogne.testing.authorisation import AUTHENTICATED, Operation

PASSPHRASE = "phrase secrète de signature de test"


def _pkcs12(world):
    from ebourgogne.signatures.tests.pkcs12 import PASSWORD, make_pkcs12

    return {"file": SimpleUploadedFile("moi.p12", make_pkcs12(), "application/x-pkcs12"), "password": PASSWORD}


OPERATIONS = [
    Operation(
        name="signatures.upload",
        target="signatures:upload",
        method="POST",
        policy=AUTHENTICATED,
        url=lambda w: reverse("signatures:upload"),
        data=_pkcs12,
        snapshot=lambda w: SigningCertificate.objects.count(),
    ),
    Operation(
        name="signatures.issue",
        target="signatures:issue",
        method="POST",
        policy=AUTHENTICATED,
        url=lambda w: reverse("signatures:issue"),
        data=lambda w: {"passphrase": PASSPHRASE, "passphrase_again": PASSPHRASE},
        snapshot=lambda w: SigningCertificate.objects.count(),
    ),
]
