from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from ebourgogne.search import indexing
from ebourgogne.testing.factories import BuyerFactory, ConsultationFactory, LotFactory


def published(**fields):
    """A published consultation (written directly, as other apps' tests do), then indexed."""
    lots = fields.pop("lots", [])
    extra_cpv = fields.pop("extra_cpv", [])
    fields.setdefault("published", True)
    with scopes_disabled():
        consultation = ConsultationFactory(**fields)
        for number, (title, description) in enumerate(lots, start=1):
            LotFactory(consultation=consultation, number=number, title=title, description=description)
        for code in extra_cpv:
            from ebourgogne.consultations.models import ConsultationCpv

            ConsultationCpv.objects.create(consultation=consultation, cpv_id=code)
    indexing.index_consultation(consultation.pk)
    return consultation


@pytest.fixture
def make_published(db):
    return published


@pytest.fixture
def dijon(db):
    return BuyerFactory(name="Commune de Dijon", slug="commune-de-dijon", city="Dijon", department="21")
