"""Services of the consultations app: every rule, every transition, the permission, audit and signals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django_scopes import scopes_disabled

from ebourgogne.audit.models import AuditEvent
from ebourgogne.consultations import services, signals
from ebourgogne.consultations.models import Consultation, ConsultationCpv, Lot, State
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.organisations.roles import Role
from ebourgogne.organisations.services import InvalidData
from ebourgogne.testing.factories import BuyerServiceFactory, make_member
from ebourgogne.testing.sealing import buyer_opening_keys  # noqa: F401 - publication needs an opening commission

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("buyer_opening_keys")]

UTC = dt.UTC
NOW = dt.datetime(2026, 5, 4, 8, 0, tzinfo=UTC)  # Monday 4 May 2026, 10:00 in Paris


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _fields(**overrides):
    fields = {
        "reference": "2026-TX-001",
        "title": "Réfection de la toiture du gymnase",
        "object": "Dépose et remplacement de la couverture en zinc.",
        "contract_type": "works",
        "procedure": "open",
        "main_cpv": "45261000",
        "additional_cpv": ["45261210-9", "45261300"],
        "department": "21",
        "commune": "Beaune",
        "insee_code": "21054",
        "estimated_value": "420000",
        "duration_months": 6,
        "contact_name": "Service de la commande publique",
        "contact_email": "marches@beaune.test",
        "questions_deadline": NOW + dt.timedelta(days=20),
        "bids_deadline": NOW + dt.timedelta(days=30),
    }
    fields.update(overrides)
    return fields


def _events(consultation, action=None):
    events = AuditEvent.objects.filter(object_type="consultations.consultation", object_id=str(consultation.pk))
    if action:
        events = events.filter(action=action)
    return list(events.order_by("seq"))


def _create(agent, buyer, **overrides):
    return services.consultation_create(acting_user=agent, organisation=buyer, **_fields(**overrides))


def _published(agent, buyer, **overrides):
    consultation = _create(agent, buyer, **overrides)
    return services.consultation_publish(acting_user=agent, consultation=consultation)


class Recorder:
    def __init__(self):
        self.published = []
        self.changed = []

    def on_published(self, sender, consultation, **kwargs):
        self.published.append(consultation.pk)

    def on_changed(self, sender, consultation, changes, **kwargs):
        self.changed.append((consultation.pk, changes))


@pytest.fixture
def recorder():
    recorder = Recorder()
    signals.consultation_published.connect(recorder.on_published)
    signals.consultation_changed.connect(recorder.on_changed)
    yield recorder
    signals.consultation_published.disconnect(recorder.on_published)
    signals.consultation_changed.disconnect(recorder.on_changed)


# --- Create --------------------------------------------------------------------------------------------


def test_create_stores_fields_codes_and_lots(frozen, buyer, buyer_agent):
    consultation = _create(
        buyer_agent,
        buyer,
        lots=[
            {
                "title": "Couverture",
                "estimated_value": "300000",
                "main_cpv": "45261000",
                "additional_cpv": ["45261210"],
            },
            {"title": "Zinguerie", "main_cpv": "45261300-7"},
        ],
    )
    assert consultation.state == State.DRAFT
    assert consultation.estimated_value == Decimal("420000.00")
    with scopes_disabled():
        rows = set(
            ConsultationCpv.objects.filter(consultation=consultation).values_list("lot__number", "cpv_id", "is_main")
        )
        lots = list(Lot.objects.filter(consultation=consultation).values_list("number", "title"))
    assert (None, "45261000", True) in rows
    assert (None, "45261210", False) in rows and (None, "45261300", False) in rows
    assert (1, "45261000", True) in rows and (1, "45261210", False) in rows and (2, "45261300", True) in rows
    assert lots == [(1, "Couverture"), (2, "Zinguerie")]
    assert [event.action for event in _events(consultation)] == ["consultation.created"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reference": ""}, "reference"),
        ({"title": "  "}, "title"),
        ({"contract_type": "painting"}, "contract_type"),
        ({"procedure": ""}, "procedure"),
        ({"main_cpv": "99999999"}, "main_cpv"),
        ({"additional_cpv": ["45261000", "12345678"]}, "additional_cpv"),
        ({"main_cpv": "45261000-1"}, "main_cpv"),  # wrong check digit
        ({"estimated_value": "-5"}, "estimated_value"),
        ({"estimated_value": "beaucoup"}, "estimated_value"),
        ({"duration_months": 0}, "duration_months"),
        ({"contact_email": "pas-une-adresse"}, "contact_email"),
        ({"questions_deadline": NOW + dt.timedelta(days=31)}, "questions_deadline"),
        ({"planned_opening_at": NOW + dt.timedelta(days=29)}, "planned_opening_at"),
        ({"bids_deadline": dt.datetime(2026, 6, 1, 17, 0)}, "bids_deadline"),  # naive
        ({"lots": [{"title": ""}]}, "lots"),
        ({"lots": [{"title": "A", "main_cpv": "00000001"}]}, "lots"),
    ],
)
def test_create_refuses_bad_input_and_stores_nothing(frozen, buyer, buyer_agent, overrides, field):
    with pytest.raises(InvalidData) as refused:
        _create(buyer_agent, buyer, **overrides)
    assert field in refused.value.errors
    assert all(message for message in refused.value.errors[field])
    with scopes_disabled():
        assert not Consultation.objects.exists()
        assert not ConsultationCpv.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="consultation.").exists()


def test_unknown_cpv_message_names_the_code(frozen, buyer, buyer_agent):
    with pytest.raises(InvalidData) as refused:
        _create(buyer_agent, buyer, main_cpv="99999999")
    assert "99999999" in refused.value.errors["main_cpv"][0]


def test_duplicate_reference_refused(frozen, buyer, buyer_agent):
    _create(buyer_agent, buyer)
    with pytest.raises(InvalidData) as refused:
        _create(buyer_agent, buyer)
    assert "reference" in refused.value.errors


def test_service_must_belong_to_the_buyer(frozen, buyer, other_buyer, buyer_agent):
    foreign = BuyerServiceFactory(organisation=other_buyer)
    with pytest.raises(InvalidData) as refused:
        _create(buyer_agent, buyer, service=foreign.pk)
    assert "service" in refused.value.errors
    own = BuyerServiceFactory(organisation=buyer)
    assert _create(buyer_agent, buyer, service=own.pk).service == own


# --- Permission ----------------------------------------------------------------------------------------


def test_permission_is_checked(frozen, buyer, other_buyer, buyer_agent, commission_member, outsider, company_admin):
    with pytest.raises(PermissionRefused):
        _create(commission_member, buyer)
    with pytest.raises(NotFound):
        _create(outsider, buyer)
    with pytest.raises(NotFound):
        _create(company_admin, buyer)
    with pytest.raises(PermissionRefused):
        _create(None, buyer)
    consultation = _create(buyer_agent, buyer)
    for call in (
        lambda user: services.consultation_publish(acting_user=user, consultation=consultation),
        lambda user: services.consultation_update(acting_user=user, consultation=consultation, title="X"),
        lambda user: services.consultation_delete_draft(acting_user=user, consultation=consultation),
    ):
        with pytest.raises(PermissionRefused):
            call(commission_member)
        with pytest.raises(NotFound):
            call(outsider)
    with scopes_disabled():
        assert Consultation.objects.get(pk=consultation.pk).state == State.DRAFT


def test_admin_may_manage_too(frozen, buyer, buyer_admin):
    assert _published(buyer_admin, buyer).state == State.PUBLISHED


def test_operator_may_not_manage(frozen, buyer, operator):
    with pytest.raises(PermissionRefused):
        _create(operator, buyer)


# --- Update --------------------------------------------------------------------------------------------


def test_update_draft_fields_codes_and_lots(frozen, buyer, buyer_agent, recorder):
    consultation = _create(buyer_agent, buyer, lots=[{"title": "A"}, {"title": "B"}, {"title": "C"}])
    with scopes_disabled():
        ids = list(Lot.objects.filter(consultation=consultation).order_by("number").values_list("pk", flat=True))
    services.consultation_update(
        acting_user=buyer_agent,
        consultation=consultation,
        title="Nouveau titre",
        reference="2026-TX-002",
        main_cpv="45000000",
        additional_cpv=[],
        lots=[
            {"id": ids[2], "title": "C modifié", "main_cpv": "45261000"},
            {"id": ids[0], "title": "A"},
            {"title": "D"},
        ],
    )
    consultation.refresh_from_db()
    assert (consultation.title, consultation.reference, consultation.main_cpv_id) == (
        "Nouveau titre",
        "2026-TX-002",
        "45000000",
    )
    with scopes_disabled():
        lots = list(
            Lot.objects.filter(consultation=consultation).order_by("number").values_list("pk", "number", "title")
        )
        codes = set(
            ConsultationCpv.objects.filter(consultation=consultation, lot=None).values_list("cpv_id", flat=True)
        )
    assert lots[0] == (ids[2], 1, "C modifié") and lots[1] == (ids[0], 2, "A") and lots[2][1:] == (3, "D")
    assert codes == {"45000000"}
    assert recorder.changed == []  # a draft is not public: nobody follows it yet
    assert [event.action for event in _events(consultation)] == ["consultation.created", "consultation.updated"]


def test_update_lot_of_another_consultation_refused(frozen, buyer, buyer_agent):
    first = _create(buyer_agent, buyer, lots=[{"title": "A"}])
    second = _create(buyer_agent, buyer, reference="2026-TX-009")
    with scopes_disabled():
        foreign = Lot.objects.get(consultation=first).pk
    with pytest.raises(InvalidData):
        services.consultation_update(acting_user=buyer_agent, consultation=second, lots=[{"id": foreign, "title": "X"}])
    with scopes_disabled():
        assert Lot.objects.get(pk=foreign).title == "A"


def test_lot_add_update_remove(frozen, buyer, buyer_agent):
    consultation = _create(buyer_agent, buyer)
    first = services.lot_add(
        acting_user=buyer_agent, consultation=consultation, title="Gros œuvre", main_cpv="45000000"
    )
    second = services.lot_add(acting_user=buyer_agent, consultation=consultation, title="Peinture")
    assert (first.number, second.number) == (1, 2)
    services.lot_update(acting_user=buyer_agent, consultation=consultation, lot_id=second.pk, estimated_value="1000")
    services.lot_remove(acting_user=buyer_agent, consultation=consultation, lot_id=first.pk)
    with scopes_disabled():
        remaining = Lot.objects.get(consultation=consultation)
    assert (remaining.pk, remaining.number, remaining.title, remaining.estimated_value) == (
        second.pk,
        1,
        "Peinture",
        Decimal("1000.00"),
    )
    with pytest.raises(NotFound):
        services.lot_remove(acting_user=buyer_agent, consultation=consultation, lot_id=first.pk)


def test_update_published_reports_public_changes(frozen, buyer, buyer_agent, recorder):
    consultation = _published(buyer_agent, buyer)
    services.consultation_update(
        acting_user=buyer_agent,
        consultation=consultation,
        object="Objet précisé.",
        additional_cpv=["45261210"],
        lots=[{"title": "Lot unique"}],
    )
    pk, changes = recorder.changed[-1]
    assert pk == consultation.pk
    assert changes["object"][1] == "Objet précisé."
    assert changes["cpv"][1] == {"main": "45261000", "additional": ["45261210"]}
    assert changes["lots"][1][0]["title"] == "Lot unique"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reference", "AUTRE"),
        ("procedure", "mapa"),
        ("contract_type", "services"),
        ("bids_deadline", NOW + dt.timedelta(days=40)),
        ("urgency", True),
    ],
)
def test_published_locks_some_fields(frozen, buyer, buyer_agent, field, value):
    consultation = _published(buyer_agent, buyer)
    with pytest.raises(InvalidData) as refused:
        services.consultation_update(acting_user=buyer_agent, consultation=consultation, **{field: value})
    assert field in refused.value.errors


def test_published_same_value_of_locked_field_is_accepted(frozen, buyer, buyer_agent):
    consultation = _published(buyer_agent, buyer)
    services.consultation_update(
        acting_user=buyer_agent,
        consultation=consultation,
        reference=consultation.reference,
        bids_deadline=consultation.bids_deadline,
        title="Titre corrigé",
    )
    consultation.refresh_from_db()
    assert consultation.title == "Titre corrigé"


def test_closed_cannot_be_edited(frozen, buyer, buyer_agent):
    consultation = _published(buyer_agent, buyer)
    frozen.move_to(NOW + dt.timedelta(days=30))
    with pytest.raises(DomainError) as refused:
        services.consultation_update(acting_user=buyer_agent, consultation=consultation, title="Trop tard")
    assert refused.value.code == "not_editable"


# --- Publish -------------------------------------------------------------------------------------------


def test_publish(frozen, buyer, buyer_agent, recorder):
    consultation = _published(buyer_agent, buyer)
    assert consultation.state == State.PUBLISHED
    assert consultation.published_at == NOW
    assert recorder.published == [consultation.pk]
    assert recorder.changed[-1][1] == {"state": (State.DRAFT, State.PUBLISHED)}
    event = _events(consultation, "consultation.published")[0]
    assert event.actor_id == buyer_agent.pk and event.organisation_id == buyer.pk


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"bids_deadline": NOW - dt.timedelta(seconds=1), "questions_deadline": None}, "bids_deadline"),
        ({"bids_deadline": NOW, "questions_deadline": None}, "bids_deadline"),
        ({"bids_deadline": None, "questions_deadline": None}, "bids_deadline"),
        ({"questions_deadline": None}, "questions_deadline"),
        ({"questions_deadline": NOW - dt.timedelta(minutes=1)}, "questions_deadline"),
        ({"main_cpv": ""}, "main_cpv"),
        ({"object": ""}, "object"),
        ({"contact_name": "", "contact_email": ""}, "contact_email"),
    ],
)
def test_publish_refusals(frozen, buyer, buyer_agent, overrides, field, recorder):
    consultation = _create(buyer_agent, buyer, **overrides)
    with pytest.raises(InvalidData) as refused:
        services.consultation_publish(acting_user=buyer_agent, consultation=consultation)
    assert field in refused.value.errors
    consultation.refresh_from_db()
    assert consultation.state == State.DRAFT and consultation.published_at is None
    assert recorder.published == []
    assert not _events(consultation, "consultation.published")


def test_r2132_6_formalised(frozen, buyer, buyer_agent):
    bids = dt.datetime(2026, 6, 12, 10, 0, tzinfo=UTC)  # 12:00 in Paris
    # Answers must be possible 6 days before: questions deadline at the latest 6 June 12:00 Paris.
    consultation = _create(buyer_agent, buyer, bids_deadline=bids, questions_deadline=bids - dt.timedelta(days=6))
    assert consultation.last_answer_date == dt.datetime(2026, 6, 6, 10, 0, tzinfo=UTC)
    services.consultation_publish(acting_user=buyer_agent, consultation=consultation)
    with pytest.raises(InvalidData) as refused:
        _create(
            buyer_agent,
            buyer,
            reference="late-q",
            bids_deadline=bids,
            questions_deadline=bids - dt.timedelta(days=6) + dt.timedelta(seconds=1),
        )
    message = refused.value.errors["questions_deadline"][0]
    assert "R2132-6" in message and "06/06/2026" in message and "12:00" in message


def test_r2132_6_urgency_and_mapa(frozen, buyer, buyer_agent):
    bids = dt.datetime(2026, 6, 12, 10, 0, tzinfo=UTC)
    urgent = _create(
        buyer_agent,
        buyer,
        reference="u",
        urgency=True,
        bids_deadline=bids,
        questions_deadline=bids - dt.timedelta(days=4),
    )
    assert services.answer_delay_days(urgent) == 4
    with pytest.raises(InvalidData):
        _create(
            buyer_agent,
            buyer,
            reference="u2",
            urgency=True,
            bids_deadline=bids,
            questions_deadline=bids - dt.timedelta(days=3),
        )
    mapa = _create(
        buyer_agent,
        buyer,
        reference="m",
        procedure="mapa",
        bids_deadline=bids,
        questions_deadline=bids - dt.timedelta(hours=1),
    )
    assert mapa.last_answer_date is None
    services.consultation_publish(acting_user=buyer_agent, consultation=mapa)


def test_r2132_6_counts_days_on_the_paris_calendar_across_dst(frozen, buyer, buyer_agent):
    # Deadline on Thursday 2 April 2026 at 12:00 Paris (UTC+2). Six days before on the calendar is
    # Friday 27 March 12:00 Paris (UTC+1) = 11:00 UTC; 6 × 24 hours before is 10:00 UTC: the stricter is kept.
    bids = dt.datetime(2026, 4, 2, 10, 0, tzinfo=UTC)
    with time_machine.travel(dt.datetime(2026, 3, 1, tzinfo=UTC), tick=False):
        consultation = _create(buyer_agent, buyer, reference="dst", bids_deadline=bids, questions_deadline=None)
        assert consultation.last_answer_date == dt.datetime(2026, 3, 27, 10, 0, tzinfo=UTC)


def test_publish_twice_is_an_illegal_transition(frozen, buyer, buyer_agent):
    consultation = _published(buyer_agent, buyer)
    with pytest.raises(DomainError) as refused:
        services.consultation_publish(acting_user=buyer_agent, consultation=consultation)
    assert refused.value.code == "illegal_transition"
    assert "En cours" in refused.value.message


# --- Postpone ------------------------------------------------------------------------------------------


def test_postpone(frozen, buyer, buyer_agent, recorder):
    consultation = _published(buyer_agent, buyer)
    old = consultation.bids_deadline
    later = old + dt.timedelta(days=7)
    services.consultation_postpone_deadline(
        acting_user=buyer_agent, consultation=consultation, bids_deadline=later, reason="Précisions au CCTP"
    )
    consultation.refresh_from_db()
    assert consultation.bids_deadline == later
    changes = recorder.changed[-1][1]
    assert changes["bids_deadline"] == (old.isoformat(), later.isoformat())
    assert changes["reason"] == (None, "Précisions au CCTP")
    event = _events(consultation, "consultation.deadline_postponed")[0]
    assert event.data["reason"] == "Précisions au CCTP"


@pytest.mark.parametrize(
    ("delta", "reason", "field"),
    [
        (dt.timedelta(days=-1), "Motif", "bids_deadline"),  # brought forward
        (dt.timedelta(0), "Motif", "bids_deadline"),  # same deadline
        (dt.timedelta(days=3), "  ", "reason"),
    ],
)
def test_postpone_refusals(frozen, buyer, buyer_agent, delta, reason, field):
    consultation = _published(buyer_agent, buyer)
    old = consultation.bids_deadline
    with pytest.raises(InvalidData) as refused:
        services.consultation_postpone_deadline(
            acting_user=buyer_agent, consultation=consultation, bids_deadline=old + delta, reason=reason
        )
    assert field in refused.value.errors
    consultation.refresh_from_db()
    assert consultation.bids_deadline == old


def test_postpone_moves_questions_deadline_later_only(frozen, buyer, buyer_agent):
    consultation = _published(buyer_agent, buyer)
    with pytest.raises(InvalidData) as refused:
        services.consultation_postpone_deadline(
            acting_user=buyer_agent,
            consultation=consultation,
            bids_deadline=consultation.bids_deadline + dt.timedelta(days=5),
            questions_deadline=consultation.questions_deadline - dt.timedelta(days=1),
            reason="Motif",
        )
    assert "questions_deadline" in refused.value.errors


def test_postpone_refused_on_draft_and_after_deadline(frozen, buyer, buyer_agent):
    draft = _create(buyer_agent, buyer)
    with pytest.raises(DomainError):
        services.consultation_postpone_deadline(
            acting_user=buyer_agent, consultation=draft, bids_deadline=NOW + dt.timedelta(days=60), reason="x"
        )
    consultation = _published(buyer_agent, buyer, reference="p2")
    frozen.move_to(consultation.bids_deadline)
    with pytest.raises(DomainError) as refused:
        services.consultation_postpone_deadline(
            acting_user=buyer_agent,
            consultation=consultation,
            bids_deadline=consultation.bids_deadline + dt.timedelta(days=5),
            reason="trop tard",
        )
    assert refused.value.code == "not_postponable"


# --- Close, open, outcome, cancel -----------------------------------------------------------------------


def test_full_lifecycle(frozen, buyer, buyer_agent, recorder):
    consultation = _published(buyer_agent, buyer)
    with pytest.raises(DomainError) as early:
        services.consultation_close(consultation=consultation)
    assert early.value.code == "deadline_not_passed"
    frozen.move_to(consultation.bids_deadline)
    services.consultation_close(consultation=consultation)
    consultation.refresh_from_db()
    assert consultation.state == State.CLOSED and consultation.closed_at == consultation.bids_deadline
    assert _events(consultation, "consultation.closed")[0].actor_id is None
    services.consultation_open(acting_user=buyer_agent, consultation=consultation)
    services.consultation_set_outcome(acting_user=buyer_agent, consultation=consultation, outcome="awarded")
    consultation.refresh_from_db()
    assert consultation.state == State.AWARDED and consultation.ended_at is not None
    states = [changes["state"] for _pk, changes in recorder.changed if "state" in changes]
    assert states == [("draft", "published"), ("published", "closed"), ("closed", "opened"), ("opened", "awarded")]
    assert [event.action for event in _events(consultation)] == [
        "consultation.created",
        "consultation.published",
        "consultation.closed",
        "consultation.opened",
        "consultation.awarded",
    ]
    for call in (
        lambda: services.consultation_cancel(acting_user=buyer_agent, consultation=consultation, reason="x"),
        lambda: services.consultation_open(acting_user=buyer_agent, consultation=consultation),
        lambda: services.consultation_set_outcome(
            acting_user=buyer_agent, consultation=consultation, outcome="abandoned", reason="x"
        ),
    ):
        with pytest.raises(DomainError) as refused:
            call()
        assert refused.value.code == "illegal_transition"


@pytest.mark.parametrize("outcome", ["unsuccessful", "abandoned"])
def test_outcome_needs_a_reason(frozen, buyer, buyer_agent, outcome):
    consultation = _published(buyer_agent, buyer)
    frozen.move_to(consultation.bids_deadline + dt.timedelta(hours=1))
    services.consultation_open(acting_user=buyer_agent, consultation=consultation)  # closes first, then opens
    with pytest.raises(InvalidData):
        services.consultation_set_outcome(acting_user=buyer_agent, consultation=consultation, outcome=outcome)
    services.consultation_set_outcome(
        acting_user=buyer_agent, consultation=consultation, outcome=outcome, reason="Aucune offre acceptable"
    )
    consultation.refresh_from_db()
    assert consultation.state == outcome and consultation.end_reason == "Aucune offre acceptable"


def test_unknown_outcome_and_outcome_before_opening(frozen, buyer, buyer_agent):
    consultation = _published(buyer_agent, buyer)
    with pytest.raises(InvalidData):
        services.consultation_set_outcome(acting_user=buyer_agent, consultation=consultation, outcome="cancelled")
    with pytest.raises(DomainError) as refused:
        services.consultation_set_outcome(acting_user=buyer_agent, consultation=consultation, outcome="awarded")
    assert refused.value.code == "illegal_transition"


def test_open_before_deadline_refused(frozen, buyer, buyer_agent):
    consultation = _published(buyer_agent, buyer)
    with pytest.raises(DomainError) as refused:
        services.consultation_open(acting_user=buyer_agent, consultation=consultation)
    assert refused.value.code == "illegal_transition"


def test_cancel(frozen, buyer, buyer_agent, recorder):
    consultation = _published(buyer_agent, buyer)
    with pytest.raises(InvalidData):
        services.consultation_cancel(acting_user=buyer_agent, consultation=consultation, reason="")
    services.consultation_cancel(acting_user=buyer_agent, consultation=consultation, reason="Besoin disparu")
    consultation.refresh_from_db()
    assert consultation.state == State.CANCELLED and consultation.end_reason == "Besoin disparu"
    assert recorder.changed[-1][1]["state"] == ("published", "cancelled")
    draft = _create(buyer_agent, buyer, reference="d")
    with pytest.raises(DomainError) as refused:
        services.consultation_cancel(acting_user=buyer_agent, consultation=draft, reason="x")
    assert refused.value.code == "illegal_transition"


def test_delete_draft_only(frozen, buyer, buyer_agent):
    draft = _create(buyer_agent, buyer, lots=[{"title": "A"}])
    services.consultation_delete_draft(acting_user=buyer_agent, consultation=draft)
    with scopes_disabled():
        assert not Consultation.objects.filter(pk=draft.pk).exists()
    published = _published(buyer_agent, buyer, reference="pub")
    with pytest.raises(DomainError):
        services.consultation_delete_draft(acting_user=buyer_agent, consultation=published)


def test_system_may_only_close(frozen, buyer, buyer_agent):
    consultation = _published(buyer_agent, buyer)
    with pytest.raises(PermissionRefused):
        services.consultation_cancel(acting_user=None, consultation=consultation, reason="x")


def test_member_without_role_after_removal(frozen, buyer, buyer_agent):
    agent = make_member(buyer, Role.BUYER_AGENT)
    consultation = _create(agent, buyer)
    assert consultation.created_by == agent
