"""The CPV codes loaded by migration come back after a transactional test emptied the tables."""

import pytest
from django.db import connection

from ebourgogne.consultations.models import CpvCode
from ebourgogne.testing.reference_data import ensure_cpv_codes


@pytest.mark.django_db(transaction=True)
def test_codes_come_back_after_the_table_was_emptied():
    assert CpvCode.objects.count() == 9454  # the fixture loaded them before the test
    with connection.cursor() as cursor:  # what the flush at the end of a transactional test does
        cursor.execute("DELETE FROM consultations_cpvcode")
    assert not CpvCode.objects.exists()
    ensure_cpv_codes()
    assert CpvCode.objects.count() == 9454
    assert CpvCode.objects.get(code="45210000").parent_id == "45200000"


@pytest.mark.django_db
def test_a_plain_test_after_it_has_the_codes_too():
    assert CpvCode.objects.filter(code="45000000").exists()
