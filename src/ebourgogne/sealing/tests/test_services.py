"""Opening keys through the services: personal keys (create, rotate, lost), the key made at publication
(holders, k of n, the publication rule), the rebuild after the deadline with every refusal, and the
policy after the opening."""

from __future__ import annotations

import datetime as dt
import subprocess

import pyrage
import pytest
import time_machine
from django_scopes import scopes_disabled

from ebourgogne.audit.models import AuditEvent
from ebourgogne.commissions.models import Commission, CommissionMember, Voice
from ebourgogne.consultations import services as consultation_services
from ebourgogne.consultations.services import InvalidData
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.organisations.roles import Role
from ebourgogne.sealing import crypto, services
from ebourgogne.sealing.models import ConsultationKey, KeyShare, KeyState, PersonalKey
from ebourgogne.testing.factories import ConsultationFactory, UserFactory, make_member
from ebourgogne.testing.sealing import encrypt_to, opening_commission, sealed_consultation

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DEADLINE = NOW + dt.timedelta(days=30)
AGE = "/usr/bin/age"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def sealed(buyer, buyer_agent):
    return sealed_consultation(
        buyer, acting_user=buyer_agent, bids_deadline=DEADLINE, questions_deadline=NOW + dt.timedelta(days=20)
    )


def _actions(prefix="sealing."):
    return list(AuditEvent.objects.filter(action__startswith=prefix).order_by("seq").values_list("action", flat=True))


# --- Personal keys ----------------------------------------------------------------------------------


def test_personal_key_is_sealed_with_the_passphrase_in_age_scrypt(commission_member):
    key = services.personal_key_create(user=commission_member, passphrase="ma phrase secrète à moi")
    sealed = bytes(key.sealed_identity)
    assert sealed.startswith(b"age-encryption.org/v1\n-> scrypt ")
    assert b"AGE-SECRET-KEY" not in sealed
    identity = pyrage.passphrase.decrypt(sealed, "ma phrase secrète à moi").decode()
    assert crypto.recipient_of(identity) == key.recipient
    assert _actions() == ["sealing.personal_key.created"]
    assert "ma phrase" not in str(AuditEvent.objects.values_list("data", flat=True)[0])


@pytest.mark.parametrize("passphrase", ["", "court", "onze carac.", None, 12345678901234])
def test_a_short_or_missing_passphrase_is_refused(commission_member, passphrase):
    with pytest.raises(DomainError, match="au moins 12 caractères"):
        services.personal_key_create(user=commission_member, passphrase=passphrase)
    assert not PersonalKey.objects.exists()


def test_one_key_per_person_unless_the_lost_one_is_replaced(commission_member):
    first = services.personal_key_create(user=commission_member, passphrase="première phrase secrète")
    with pytest.raises(DomainError, match="déjà une clé"):
        services.personal_key_create(user=commission_member, passphrase="seconde phrase secrète")
    second = services.personal_key_create(
        user=commission_member, passphrase="seconde phrase secrète", replace_lost=True
    )
    first.refresh_from_db()
    assert first.retired_at is not None and second.retired_at is None
    assert services.active_key(commission_member) == second


def test_anonymous_cannot_create_a_key(db):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionRefused):
        services.personal_key_create(user=AnonymousUser(), passphrase="une phrase assez longue")


def test_rotation_moves_every_share_to_the_new_key_and_the_old_passphrase_no_longer_opens(buyer, sealed, frozen):
    member = sealed.commission.members[0]
    old_passphrase = sealed.commission.passphrase(member)
    old_key = services.active_key(member)
    new = services.personal_key_rotate(
        user=member, old_passphrase=old_passphrase, new_passphrase="nouvelle phrase secrète"
    )
    old_key.refresh_from_db()
    assert old_key.retired_at is not None
    with scopes_disabled():
        share = KeyShare.objects.get(holder=member)
    assert share.personal_key == new
    frozen.move_to(DEADLINE)
    contributions = [
        (member, "nouvelle phrase secrète"),
        (sealed.commission.members[1], sealed.commission.passphrase(sealed.commission.members[1])),
    ]
    identity = services.rebuild_identity(
        consultation=sealed.consultation, contributions=contributions, acting_user=member
    )
    assert crypto.recipient_of(identity) == sealed.key.recipient
    with pytest.raises(DomainError) as refused:
        services.rebuild_identity(
            consultation=sealed.consultation,
            contributions=[(member, old_passphrase), contributions[1]],
            acting_user=member,
        )
    assert refused.value.code == "wrong_passphrase"


def test_rotation_with_a_wrong_old_passphrase_changes_nothing(commission_member):
    key = services.personal_key_create(user=commission_member, passphrase="la bonne phrase secrète")
    with pytest.raises(DomainError, match="actuelle est incorrecte"):
        services.personal_key_rotate(
            user=commission_member, old_passphrase="une mauvaise phrase", new_passphrase="nouvelle phrase secrète"
        )
    assert list(PersonalKey.objects.values_list("pk", "retired_at")) == [(key.pk, None)]
    with pytest.raises(DomainError, match="au moins 12"):
        services.personal_key_rotate(
            user=commission_member, old_passphrase="la bonne phrase secrète", new_passphrase="court"
        )
    assert list(PersonalKey.objects.values_list("pk", "retired_at")) == [(key.pk, None)]


# --- The key made at publication ---------------------------------------------------------------------


def test_publication_makes_a_key_split_k_of_n_among_the_members_holding_keys(sealed):
    key = sealed.key
    assert key.threshold == 2 and key.share_count == 3
    assert key.fingerprint == crypto.fingerprint(key.recipient)
    assert key.state == KeyState.SEALED and key.retained_identity is None
    assert sealed.consultation.commission_id == sealed.commission.commission.pk
    with scopes_disabled():
        shares = list(KeyShare.objects.filter(consultation_key=key).order_by("index"))
    assert [share.index for share in shares] == [1, 2, 3]
    assert {share.holder_id for share in shares} == {user.pk for user in sealed.commission.members}
    for share in shares:
        assert share.personal_key == services.active_key(share.holder)
        assert b"AGE-SECRET-KEY" not in bytes(share.sealed_share)
    assert "sealing.consultation_key.created" in _actions()


def test_the_default_commission_is_stored_on_the_consultation(buyer, buyer_agent):
    commission = opening_commission(buyer)
    draft = ConsultationFactory(
        organisation=buyer, bids_deadline=DEADLINE, questions_deadline=NOW + dt.timedelta(days=20)
    )
    assert draft.commission_id is None
    consultation_services.consultation_publish(acting_user=buyer_agent, consultation=draft)
    with scopes_disabled():
        draft.refresh_from_db()
    assert draft.commission_id == commission.commission.pk


def test_holders_are_current_deliberative_members_with_a_key_plus_the_escrow(buyer, buyer_agent):
    group = opening_commission(buyer, members=3, threshold=2, escrow=True)
    commission = group.commission
    consultative = make_member(buyer, Role.COMMISSION_MEMBER, UserFactory())
    former = make_member(buyer, Role.COMMISSION_MEMBER, UserFactory())
    keyless = make_member(buyer, Role.COMMISSION_MEMBER, UserFactory())
    for user in (consultative, former):
        services.personal_key_create(user=user, passphrase="phrase secrète suffisante")
    with scopes_disabled():
        CommissionMember.objects.create(commission=commission, user=consultative, voice=Voice.CONSULTATIVE)
        CommissionMember.objects.create(
            commission=commission, user=former, mandate_end=NOW.date() - dt.timedelta(days=1)
        )
        CommissionMember.objects.create(commission=commission, user=keyless)
    holders = services.key_holders(commission)
    assert [h.user for h in holders] == [*group.members, group.escrow_holder]
    assert [h.is_escrow for h in holders] == [False, False, False, True]
    result = sealed_consultation(buyer, acting_user=buyer_agent, commission=group, bids_deadline=DEADLINE)
    assert result.key.share_count == 4
    with scopes_disabled():
        assert KeyShare.objects.get(consultation_key=result.key, is_escrow=True).holder == group.escrow_holder


def test_publication_is_refused_with_a_clear_message_when_fewer_than_k_members_hold_keys(buyer, buyer_agent):
    with scopes_disabled():
        commission = Commission.objects.create(organisation=buyer, name="CAO", opening_threshold=2, is_default=True)
        for _ in range(3):
            CommissionMember.objects.create(commission=commission, user=make_member(buyer, Role.COMMISSION_MEMBER))
        member = CommissionMember.objects.filter(commission=commission).first().user
    services.personal_key_create(user=member, passphrase="phrase secrète suffisante")
    draft = ConsultationFactory(
        organisation=buyer, bids_deadline=DEADLINE, questions_deadline=NOW + dt.timedelta(days=20)
    )
    problems = consultation_services.publication_problems(draft)
    assert "exige 2 membres" in problems["commission"][0] and "seuls 1" in problems["commission"][0]
    with pytest.raises(InvalidData) as refused:
        consultation_services.consultation_publish(acting_user=buyer_agent, consultation=draft)
    assert "commission" in refused.value.errors
    with scopes_disabled():
        draft.refresh_from_db()
    assert draft.state == "draft"
    assert not ConsultationKey.objects.exists()


def test_publication_without_any_commission_names_the_missing_commission(buyer, buyer_agent):
    draft = ConsultationFactory(
        organisation=buyer, bids_deadline=DEADLINE, questions_deadline=NOW + dt.timedelta(days=20)
    )
    assert "commission d'ouverture" in consultation_services.publication_problems(draft)["commission"][0]


def test_a_practice_consultation_gets_a_retained_training_key(buyer, buyer_agent):
    draft = ConsultationFactory(organisation=buyer, is_practice=True, bids_deadline=DEADLINE)
    assert "commission" not in consultation_services.publication_problems(draft)
    key = services.create_consultation_key(draft)
    assert key.is_practice and key.state == KeyState.RETAINED
    identity = services.retained_identity(key)
    assert crypto.recipient_of(identity) == key.recipient


# --- Rebuild ----------------------------------------------------------------------------------------


def test_k_passphrases_after_the_deadline_rebuild_the_identity_and_age_cli_decrypts_the_bid(sealed, frozen, tmp_path):
    bid = encrypt_to(sealed.key.recipient, b"%PDF-1.7 offre de prix")
    frozen.move_to(DEADLINE)  # to the second
    members = sealed.commission.members
    identity = services.rebuild_identity(
        consultation=sealed.consultation, contributions=sealed.commission.contributions(2), acting_user=members[0]
    )
    (tmp_path / "identity").write_text(identity + "\n")
    (tmp_path / "offre.age").write_bytes(bid)
    result = subprocess.run(  # noqa: S603 - our own fixed arguments
        [AGE, "-d", "-i", tmp_path / "identity", tmp_path / "offre.age"], capture_output=True, check=True
    )
    assert result.stdout == b"%PDF-1.7 offre de prix"
    key = ConsultationKey.objects.get(pk=sealed.key.pk)
    assert key.state == KeyState.REBUILT and key.rebuilt_at == DEADLINE
    assert _actions()[-2:] == ["sealing.rebuild.attempted", "sealing.rebuild.succeeded"]
    events = str(list(AuditEvent.objects.values_list("data", flat=True)))
    assert "phrase secrète" not in events and "AGE-SECRET-KEY" not in events


def test_any_two_of_three_rebuild(sealed, frozen):
    frozen.move_to(DEADLINE + dt.timedelta(hours=1))
    members = sealed.commission.members
    for pair in ((0, 1), (0, 2), (1, 2)):
        contributions = [(members[i], sealed.commission.passphrase(members[i])) for i in pair]
        identity = services.rebuild_identity(
            consultation=sealed.consultation, contributions=contributions, acting_user=members[0]
        )
        assert crypto.recipient_of(identity) == sealed.key.recipient


def test_rebuild_is_refused_one_second_before_the_deadline(sealed, frozen):
    frozen.move_to(DEADLINE - dt.timedelta(seconds=1))
    with pytest.raises(DomainError) as refused:
        services.rebuild_identity(
            consultation=sealed.consultation,
            contributions=sealed.commission.contributions(),
            acting_user=sealed.commission.members[0],
        )
    assert refused.value.code == "before_deadline"
    assert ConsultationKey.objects.get(pk=sealed.key.pk).state == KeyState.SEALED
    assert _actions()[-1] == "sealing.rebuild.refused"


def test_fewer_than_k_distinct_holders_is_refused(sealed, frozen):
    frozen.move_to(DEADLINE)
    member = sealed.commission.members[0]
    passphrase = sealed.commission.passphrase(member)
    for contributions in ([(member, passphrase)], [(member, passphrase), (member, passphrase)], []):
        with pytest.raises(DomainError) as refused:
            services.rebuild_identity(consultation=sealed.consultation, contributions=contributions, acting_user=member)
        assert refused.value.code == "too_few"
        assert "2 membres différents" in refused.value.message


def test_a_wrong_passphrase_names_the_member(sealed, frozen):
    frozen.move_to(DEADLINE)
    first, second = sealed.commission.members[:2]
    with pytest.raises(DomainError) as refused:
        services.rebuild_identity(
            consultation=sealed.consultation,
            contributions=[(first, sealed.commission.passphrase(first)), (second, "pas la bonne phrase")],
            acting_user=first,
        )
    assert refused.value.code == "wrong_passphrase"
    assert second.full_name in refused.value.message
    assert ConsultationKey.objects.get(pk=sealed.key.pk).state == KeyState.SEALED


def test_someone_without_a_share_is_named(sealed, frozen, buyer):
    frozen.move_to(DEADLINE)
    stranger = make_member(buyer, Role.COMMISSION_MEMBER, UserFactory(full_name="Gaston Sanspart"))
    with pytest.raises(DomainError, match="Gaston Sanspart ne détient pas") as refused:
        services.rebuild_identity(
            consultation=sealed.consultation,
            contributions=[*sealed.commission.contributions(2), (stranger, "phrase quelconque")],
            acting_user=sealed.commission.members[0],
        )
    assert refused.value.code == "not_a_holder"


def test_a_tampered_share_is_detected_and_names_its_holder(sealed, frozen):
    frozen.move_to(DEADLINE)
    first, second = sealed.commission.members[:2]
    with scopes_disabled():
        share = KeyShare.objects.get(consultation_key=sealed.key, holder=second)
        damaged = bytearray(share.sealed_share)
        damaged[-3] ^= 0x40
        KeyShare.objects.filter(pk=share.pk).update(sealed_share=bytes(damaged))
    with pytest.raises(DomainError) as refused:
        services.rebuild_identity(
            consultation=sealed.consultation, contributions=sealed.commission.contributions(2), acting_user=first
        )
    assert refused.value.code == "tampered_share"
    assert second.full_name in refused.value.message


def test_a_share_swapped_in_from_another_consultation_is_detected(buyer, buyer_agent, sealed, frozen):
    other = sealed_consultation(buyer, acting_user=buyer_agent, commission=sealed.commission, bids_deadline=DEADLINE)
    frozen.move_to(DEADLINE)
    second = sealed.commission.members[1]
    with scopes_disabled():
        foreign = KeyShare.objects.get(consultation_key=other.key, holder=second)
        KeyShare.objects.filter(consultation_key=sealed.key, holder=second).update(sealed_share=foreign.sealed_share)
    with pytest.raises(DomainError) as refused:
        services.rebuild_identity(
            consultation=sealed.consultation, contributions=sealed.commission.contributions(2), acting_user=second
        )
    assert refused.value.code == "tampered_share"


def test_a_forged_share_that_passes_its_envelope_is_caught_as_a_wrong_combination(sealed, frozen):
    """Someone with database access re-encrypts a well-formed but wrong share to a holder's public key:
    the envelope is fine, the combination is not — detected by the recipient check."""
    frozen.move_to(DEADLINE)
    second = sealed.commission.members[1]
    with scopes_disabled():
        share = KeyShare.objects.get(consultation_key=sealed.key, holder=second)
        forged = crypto.pack_share(x=share.index, y=b"\x00" * 74, threshold=2, key_fingerprint=sealed.key.fingerprint)
        share.sealed_share = crypto.encrypt_to(share.personal_key.recipient, forged)
        share.save(update_fields=["sealed_share"])
    with pytest.raises(DomainError) as refused:
        services.rebuild_identity(
            consultation=sealed.consultation, contributions=sealed.commission.contributions(2), acting_user=second
        )
    assert refused.value.code == "wrong_combination"


def test_only_people_allowed_to_open_may_rebuild(sealed, frozen, company_member, outsider, buyer):
    frozen.move_to(DEADLINE)
    with pytest.raises(NotFound):
        services.rebuild_identity(
            consultation=sealed.consultation, contributions=sealed.commission.contributions(2), acting_user=outsider
        )
    with pytest.raises(NotFound):
        services.rebuild_identity(
            consultation=sealed.consultation,
            contributions=sealed.commission.contributions(2),
            acting_user=company_member,
        )


# --- After the opening --------------------------------------------------------------------------------


def test_after_opening_erase_or_keep_by_policy(sealed, frozen):
    frozen.move_to(DEADLINE)
    identity = services.rebuild_identity(
        consultation=sealed.consultation,
        contributions=sealed.commission.contributions(2),
        acting_user=sealed.commission.members[0],
    )
    assert services.keep_policy(sealed.key) is False
    key = services.after_opening(sealed.key, identity, keep=False)
    assert key.state == KeyState.ERASED and key.retained_identity is None
    assert services.retained_identity(key) is None
    key = services.after_opening(sealed.key, identity, keep=True)
    assert key.state == KeyState.RETAINED
    assert b"AGE-SECRET-KEY" not in bytes(key.retained_identity)
    assert services.retained_identity(ConsultationKey.objects.get(pk=key.pk)) == identity
    with pytest.raises(DomainError):
        services.after_opening(sealed.key, crypto.new_identity(), keep=True)


def test_after_opening_refuses_a_key_never_rebuilt(sealed):
    with pytest.raises(DomainError):
        services.after_opening(sealed.key, crypto.new_identity(), keep=True)


def test_a_member_who_left_the_buyer_receives_no_share(buyer, buyer_agent):
    from ebourgogne.organisations.models import Membership

    group = opening_commission(buyer, members=3, threshold=2)
    leaver = group.members[2]
    with scopes_disabled():
        Membership.objects.filter(organisation=buyer, user=leaver).delete()
    assert leaver not in [holder.user for holder in services.key_holders(group.commission)]
    result = sealed_consultation(buyer, acting_user=buyer_agent, commission=group, bids_deadline=DEADLINE)
    assert result.key.share_count == 2


def test_a_share_tied_to_a_lost_key_is_named_as_such(sealed, frozen):
    first, second = sealed.commission.members[:2]
    services.personal_key_create(user=second, passphrase="ma nouvelle phrase secrète", replace_lost=True)
    frozen.move_to(DEADLINE)
    with pytest.raises(DomainError) as refused:
        services.rebuild_identity(
            consultation=sealed.consultation,
            contributions=[(first, sealed.commission.passphrase(first)), (second, "ma nouvelle phrase secrète")],
            acting_user=first,
        )
    assert refused.value.code == "lost_share"
    assert second.full_name in refused.value.message
    # The slack of k of n: the third member opens with the first.
    third = sealed.commission.members[2]
    identity = services.rebuild_identity(
        consultation=sealed.consultation,
        contributions=[(first, sealed.commission.passphrase(first)), (third, sealed.commission.passphrase(third))],
        acting_user=first,
    )
    assert crypto.recipient_of(identity) == sealed.key.recipient
