"""Commissions: services (rules, one default, members among the buyer's people, audit) and pages (list,
create, edit, members with their key status, the warning when fewer than k members hold keys)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.audit.models import AuditEvent
from ebourgogne.commissions import services
from ebourgogne.commissions.models import Commission, CommissionMember
from ebourgogne.core.errors import NotFound, PermissionRefused
from ebourgogne.organisations.roles import Role
from ebourgogne.organisations.services import InvalidData
from ebourgogne.sealing.services import personal_key_create
from ebourgogne.testing.factories import UserFactory, make_member, sign_in

pytestmark = pytest.mark.django_db


def _create(admin, buyer, **data):
    return services.commission_create(
        acting_user=admin, organisation=buyer, **{"name": "CAO", "kind": "cao", "opening_threshold": 2, **data}
    )


def test_create_update_and_one_default_per_buyer(buyer, buyer_admin):
    first = _create(buyer_admin, buyer, is_default=True)
    second = _create(buyer_admin, buyer, name="Commission MAPA", kind="mapa", is_default=True)
    with scopes_disabled():
        first.refresh_from_db()
    assert not first.is_default and second.is_default
    services.commission_update(
        acting_user=buyer_admin,
        commission=first,
        name="CAO",
        kind="cao",
        opening_threshold=3,
        is_default=True,
        keep_identity_after_opening=True,
    )
    with scopes_disabled():
        assert list(Commission.objects.filter(is_default=True).values_list("name", "opening_threshold")) == [("CAO", 3)]
        assert Commission.objects.get(pk=first.pk).keep_identity_after_opening
    actions = list(
        AuditEvent.objects.filter(action__startswith="commission.").order_by("seq").values_list("action", flat=True)
    )
    assert actions == ["commission.created", "commission.created", "commission.updated"]


@pytest.mark.parametrize(
    "data,field",
    [
        ({"name": "  "}, "name"),
        ({"opening_threshold": 0}, "opening_threshold"),
        ({"opening_threshold": "deux"}, "opening_threshold"),
        ({"opening_threshold": 21}, "opening_threshold"),
        ({"kind": "tribunal"}, "kind"),
    ],
)
def test_bad_input_is_refused_by_field(buyer, buyer_admin, data, field):
    with pytest.raises(InvalidData) as refused:
        _create(buyer_admin, buyer, **data)
    assert field in refused.value.errors
    with scopes_disabled():
        assert not Commission.objects.exists()


def test_duplicate_name_and_escrow_holder_outside_the_buyer(buyer, buyer_admin, outsider):
    _create(buyer_admin, buyer)
    with pytest.raises(InvalidData) as refused:
        _create(buyer_admin, buyer)
    assert "déjà ce nom" in refused.value.errors["name"][0]
    with pytest.raises(InvalidData) as refused:
        _create(buyer_admin, buyer, name="Autre", escrow_holder=outsider)
    assert "escrow_holder" in refused.value.errors


def test_only_the_buyer_admin_manages(buyer, buyer_agent, outsider, commission_member):
    for user, error in ((buyer_agent, PermissionRefused), (commission_member, PermissionRefused), (outsider, NotFound)):
        with pytest.raises(error):
            _create(user, buyer)


def test_members_are_people_of_the_buyer_once_and_removable(buyer, buyer_admin, commission_member, outsider):
    commission = _create(buyer_admin, buyer)
    services.member_add(acting_user=buyer_admin, commission=commission, user=commission_member, is_president=True)
    with pytest.raises(InvalidData) as refused:
        services.member_add(acting_user=buyer_admin, commission=commission, user=commission_member)
    assert "siège déjà" in refused.value.errors["user"][0]
    with pytest.raises(InvalidData) as refused:
        services.member_add(acting_user=buyer_admin, commission=commission, user=outsider)
    assert "user" in refused.value.errors
    with pytest.raises(InvalidData) as refused:
        services.member_add(
            acting_user=buyer_admin,
            commission=commission,
            user=make_member(buyer, Role.COMMISSION_MEMBER),
            mandate_start=dt.date(2026, 6, 1),
            mandate_end=dt.date(2026, 1, 1),
        )
    assert "mandate_end" in refused.value.errors
    member = CommissionMember.objects.get(commission=commission)
    services.member_remove(acting_user=buyer_admin, commission=commission, member_id=member.pk)
    assert not CommissionMember.objects.filter(commission=commission).exists()
    with pytest.raises(NotFound):
        services.member_remove(acting_user=buyer_admin, commission=commission, member_id=member.pk)


# --- Pages ------------------------------------------------------------------------------------------


def test_pages_create_add_members_and_show_key_status_and_warning(client, buyer, buyer_admin):
    sign_in(client, buyer_admin)
    url = reverse("commissions:list", args=[buyer.slug])
    assert "Aucune commission" in client.get(url).content.decode()
    response = client.post(
        reverse("commissions:create", args=[buyer.slug]),
        {"name": "CAO", "kind": "cao", "opening_threshold": "2", "is_default": "on"},
    )
    assert response.status_code == 302
    with scopes_disabled():
        commission = Commission.objects.get(organisation=buyer)
    detail = reverse("commissions:detail", args=[buyer.slug, commission.pk])
    assert response["Location"] == detail
    alice = make_member(buyer, Role.COMMISSION_MEMBER, UserFactory(full_name="Alice Clé"))
    bob = make_member(buyer, Role.COMMISSION_MEMBER, UserFactory(full_name="Bob Sansclé"))
    personal_key_create(user=alice, passphrase="la phrase d'Alice, longue")
    for user in (alice, bob):
        response = client.post(
            reverse("commissions:member_add", args=[buyer.slug, commission.pk]),
            {"user": str(user.pk), "voice": "deliberative", "seat": "titular"},
        )
        assert response.status_code == 302
    page = client.get(detail).content.decode()
    assert "Alice Clé" in page and "Bob Sansclé" in page
    assert "pas de clé" in page and "créée" in page
    assert "exige 2 membres" in page and "seuls 1" in page
    personal_key_create(user=bob, passphrase="la phrase de Bob, longue")
    page = client.get(detail).content.decode()
    assert "exige 2 membres" not in page
    assert "2 parts possibles" in client.get(url).content.decode()


def test_page_refusals(client, buyer, buyer_admin, buyer_agent, other_buyer):
    commission = _create(buyer_admin, buyer)
    sign_in(client, buyer_admin)
    response = client.post(reverse("commissions:create", args=[buyer.slug]), {"name": "", "opening_threshold": "x"})
    assert response.status_code == 400
    response = client.post(
        reverse("commissions:member_add", args=[buyer.slug, commission.pk]), {"user": "999999", "voice": "deliberative"}
    )
    assert response.status_code == 400
    assert client.get(reverse("commissions:detail", args=[buyer.slug, 999999])).status_code == 404
    other = _create(make_member(other_buyer, Role.BUYER_ADMIN), other_buyer, name="CAO d'Auxerre")
    assert client.get(reverse("commissions:detail", args=[buyer.slug, other.pk])).status_code == 404
    sign_in(client, buyer_agent)
    page = client.get(reverse("commissions:detail", args=[buyer.slug, commission.pk]))
    assert page.status_code == 200 and "Ajouter un membre" not in page.content.decode()
    assert client.get(reverse("commissions:edit", args=[buyer.slug, commission.pk])).status_code == 403


def test_edit_page_round_trip(client, buyer, buyer_admin):
    commission = _create(buyer_admin, buyer)
    sign_in(client, buyer_admin)
    url = reverse("commissions:edit", args=[buyer.slug, commission.pk])
    assert 'value="CAO"' in client.get(url).content.decode()
    response = client.post(
        url, {"name": "CAO 2027", "kind": "cao", "opening_threshold": "3", "escrow_holder": str(buyer_admin.pk)}
    )
    assert response.status_code == 302
    with scopes_disabled():
        commission.refresh_from_db()
    assert (commission.name, commission.opening_threshold, commission.escrow_holder) == ("CAO 2027", 3, buyer_admin)
