"""The opening commission in the buyer's consultation pages: chosen in the form, used at publication,
locked afterwards; the publish page says why publication is impossible when members lack keys."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.commissions.models import Commission
from ebourgogne.consultations import services as consultation_services
from ebourgogne.consultations.forms import ConsultationForm
from ebourgogne.consultations.services import InvalidData
from ebourgogne.sealing.models import ConsultationKey
from ebourgogne.testing.factories import ConsultationFactory, sign_in
from ebourgogne.testing.sealing import opening_commission

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _draft(buyer, **fields):
    return ConsultationFactory(
        organisation=buyer,
        questions_deadline=NOW + dt.timedelta(days=10),
        bids_deadline=NOW + dt.timedelta(days=20),
        **fields,
    )


def test_the_chosen_commission_receives_the_shares_not_the_default(buyer, buyer_agent):
    default = opening_commission(buyer)
    jury = opening_commission(buyer, is_default=False, name="Jury", members=4, threshold=3)
    draft = _draft(buyer)
    consultation_services.consultation_update(
        acting_user=buyer_agent, consultation=draft, commission=jury.commission.pk
    )
    consultation_services.consultation_publish(acting_user=buyer_agent, consultation=draft)
    with scopes_disabled():
        key = ConsultationKey.objects.get(consultation=draft)
        holders = set(key.shares.values_list("holder_id", flat=True))
    assert (key.threshold, key.share_count, key.commission_id) == (3, 4, jury.commission.pk)
    assert holders == {user.pk for user in jury.members}
    assert not holders & {user.pk for user in default.members}


def test_another_buyers_commission_is_refused_and_the_commission_is_locked_after_publication(
    buyer, buyer_agent, other_buyer
):
    foreign = opening_commission(other_buyer, name="CAO d'Auxerre")
    mine = opening_commission(buyer)
    draft = _draft(buyer)
    with pytest.raises(InvalidData) as refused:
        consultation_services.consultation_update(
            acting_user=buyer_agent, consultation=draft, commission=foreign.commission.pk
        )
    assert "commission" in refused.value.errors
    consultation_services.consultation_publish(acting_user=buyer_agent, consultation=draft)
    other = opening_commission(buyer, is_default=False, name="Autre")
    with pytest.raises(InvalidData) as refused:
        consultation_services.consultation_update(
            acting_user=buyer_agent, consultation=draft, commission=other.commission.pk
        )
    assert "ne peut plus être modifié" in refused.value.errors["commission"][0]
    with scopes_disabled():
        draft.refresh_from_db()
    assert draft.commission_id == mine.commission.pk


def test_the_form_offers_the_buyers_active_commissions_only(buyer, other_buyer):
    opening_commission(buyer, name="CAO")
    opening_commission(other_buyer, name="CAO d'Auxerre")
    with scopes_disabled():
        Commission.objects.create(organisation=buyer, name="Ancienne CAO", is_active=False)
    form = ConsultationForm(organisation=buyer)
    labels = [str(label) for _value, label in form.fields["commission"].choices]
    assert labels == ["La commission par défaut de l'acheteur", "CAO"]


def test_publish_page_explains_the_missing_keys(client, buyer, buyer_agent):
    with scopes_disabled():
        Commission.objects.create(organisation=buyer, name="CAO", is_default=True)
    draft = _draft(buyer)
    sign_in(client, buyer_agent)
    url = reverse("consultations_buyer:publish", args=[buyer.slug, draft.pk])
    page = client.get(url).content.decode()
    assert "exige 2 membres" in page
    response = client.post(url)
    assert response.status_code == 400
    assert "exige 2 membres" in response.content.decode()
