"""The consultation generator (consultations.seeding) and `ebourgogne seed --consultations`."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django_scopes import scopes_disabled

from ebourgogne.consultations.models import PUBLIC_STATES, Consultation, ConsultationCpv, CpvCode, Lot, State
from ebourgogne.consultations.seeding import TEMPLATES, seed_consultations
from ebourgogne.core import clock
from ebourgogne.organisations.seeding import seed
from ebourgogne.search.models import SearchEntry
from ebourgogne.search.selectors import Criteria, StateFilter, search

pytestmark = pytest.mark.django_db


def test_every_template_code_is_a_real_cpv_code():
    codes = {code for template in TEMPLATES for code in template.codes}
    assert set(CpvCode.objects.filter(code__in=codes).values_list("code", flat=True)) == codes


def test_seeded_consultations_are_consistent_and_indexed():
    seed(buyers=10, companies=0, seed=3)
    counts = seed_consultations(count=400, seed=3)
    now = clock.now()
    with scopes_disabled():
        consultations = list(Consultation.objects.all())
        assert counts["consultations"] == len(consultations) == 400
        assert counts["lots"] == Lot.objects.count() > 0
        assert ConsultationCpv.objects.filter(is_main=True, lot=None).count() == 400
        states = {c.state for c in consultations}
        assert {State.DRAFT, State.PUBLISHED, State.CLOSED, State.AWARDED, State.CANCELLED} <= states
        for c in consultations:
            assert c.title and c.object and c.main_cpv_id and c.department and c.commune
            if c.state == State.DRAFT:
                assert c.published_at is None and c.bids_deadline > now
            else:
                assert c.published_at <= now
                assert c.questions_deadline < c.bids_deadline
            if c.state == State.PUBLISHED:
                assert c.bids_deadline > now
            if c.state in (State.CLOSED, State.OPENED, State.AWARDED, State.UNSUCCESSFUL, State.ABANDONED):
                assert c.bids_deadline < now and c.closed_at == c.bids_deadline
        public = sum(1 for c in consultations if c.state in PUBLIC_STATES)
        published = sum(1 for c in consultations if c.state == State.PUBLISHED)
    assert published > 400 // 2
    assert counts["indexed"] == SearchEntry.objects.count() == public
    assert search(Criteria(state=StateFilter.ALL)).count == min(public, 201)  # capped count
    assert search(Criteria(q="voirie", state=StateFilter.ALL)).count > 0


def test_same_seed_same_consultations():
    seed(buyers=5, companies=0, seed=1)
    seed_consultations(count=50, seed=8)
    with scopes_disabled():
        first = list(
            Consultation.objects.order_by("pk").values_list("title", "state", "main_cpv_id", "estimated_value")
        )
        Consultation.objects.all().delete()
    seed_consultations(count=50, seed=8)
    with scopes_disabled():
        second = list(
            Consultation.objects.order_by("pk").values_list("title", "state", "main_cpv_id", "estimated_value")
        )
    assert first == second


def test_seed_adds_to_existing_consultations():
    seed(buyers=5, companies=0, seed=1)
    seed_consultations(count=30, seed=1)
    seed_consultations(count=20, seed=2)
    with scopes_disabled():
        assert Consultation.objects.count() == 50
    # the id sequence still works after explicit ids (PostgreSQL)
    from ebourgogne.testing.factories import ConsultationFactory

    with scopes_disabled():
        assert ConsultationFactory().pk > 50


def test_seed_command(capsys):
    call_command("seed", buyers=5, consultations=40, seed=4)
    out = capsys.readouterr().out
    assert "40 consultations" in out
    with pytest.raises(CommandError):
        call_command("seed", consultations=-1)


def test_seed_command_without_buyers_is_a_clear_error():
    with pytest.raises(CommandError, match="Aucun acheteur public"):
        call_command("seed", consultations=10)


def test_rebuild_command(capsys):
    seed(buyers=3, companies=0, seed=1)
    seed_consultations(count=20, seed=1, index=False)
    assert SearchEntry.objects.count() == 0
    call_command("search_index", rebuild=True)
    assert SearchEntry.objects.count() > 0
    assert "consultations indexées" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("search_index")
