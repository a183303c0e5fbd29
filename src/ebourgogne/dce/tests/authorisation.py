"""The state-changing operations of the DCE, for the authorisation matrix
(ebourgogne/core/tests/test_authorisation_matrix.py)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.dce.models import DceFile, DceVersion
from ebourgogne.testing.authorisation import Operation, World


def _consultation(world: World, *, published: bool):
    key = f"dce-consultation-{published}"
    if key not in world.extra:
        from ebourgogne.dce.tests.helpers import add_file, published_with_files
        from ebourgogne.testing.factories import ConsultationFactory

        if published:
            consultation = published_with_files(world.buyer, world.buyer_admin, {"RC.pdf": b"rc"}, archive=False)
            add_file(world.buyer_admin, consultation, "Plan.pdf", b"plan")  # a change waiting to be published
        else:
            consultation = ConsultationFactory(organisation=world.buyer)
            add_file(world.buyer_admin, consultation, "RC.pdf", b"rc")
        world.extra[key] = consultation
    return world.extra[key]


def _file(world: World):
    with scopes_disabled():
        return DceFile.objects.get(consultation=_consultation(world, published=False), name="RC.pdf")


def _files(world: World, *, published: bool = False):
    with scopes_disabled():
        return sorted(
            DceFile.objects.filter(consultation=_consultation(world, published=published)).values_list(
                "name", "sha256", "removed_in_id"
            )
        )


def _url(name: str, world: World, *, published: bool = False, **kwargs) -> str:
    consultation = _consultation(world, published=published)
    return reverse(name, kwargs={"org_slug": world.buyer.slug, "pk": consultation.pk, **kwargs})


OPERATIONS = [
    Operation(
        name="dce.upload",
        target="dce_buyer:upload",
        method="POST",
        permission="dce.manage",
        url=lambda w: _url("dce_buyer:upload", w),
        data=lambda w: {"file": SimpleUploadedFile("CCTP.pdf", b"%PDF cctp", content_type="application/pdf")},
        snapshot=_files,
    ),
    Operation(
        name="dce.replace",
        target="dce_buyer:replace",
        method="POST",
        permission="dce.manage",
        url=lambda w: _url("dce_buyer:replace", w, file_id=_file(w).pk),
        data=lambda w: {"file": SimpleUploadedFile("RC v2.pdf", b"%PDF rc2", content_type="application/pdf")},
        snapshot=_files,
    ),
    Operation(
        name="dce.remove",
        target="dce_buyer:remove",
        method="POST",
        permission="dce.manage",
        url=lambda w: _url("dce_buyer:remove", w, file_id=_file(w).pk),
        snapshot=_files,
    ),
    Operation(
        name="dce.publish",
        target="dce_buyer:publish",
        method="POST",
        permission="dce.manage",
        url=lambda w: _url("dce_buyer:publish", w, published=True),
        data=lambda w: {"reason": "Plan des locaux ajouté."},
        snapshot=lambda w: sorted(
            DceVersion.objects.filter(consultation=_consultation(w, published=True)).values_list(
                "number", "published_at", "reason"
            )
        ),
    ),
]
