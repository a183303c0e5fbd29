"""Test helpers for sealed bids (owned by the sealing work; others may use them).

- `give_test_key(consultation)` attaches a ConsultationKey made from a fresh age identity and returns the
  identity string, so that upload and deposit tests can encrypt to the recipient (and decrypt to check)
  without the commission's passphrases. Real keys come from `sealing.services` at publication.
- `encrypt_to(recipient, data)`: age-encrypt to a recipient (pyrage), as a bidder's software would.
- `opening_commission(buyer, members=3, threshold=2)`: a commission of the buyer (the default one unless
  said otherwise) whose members hold real personal keys (made by the real service; the test settings'
  scrypt work factor keeps that cheap). Returns an `OpeningCommission`: the commission, its members and each
  member's passphrase.
- `sealed_consultation(buyer, acting_user=...)`: a draft consultation published through the real
  `consultation_publish`, so its opening key is generated and split into real shares.
- `with_opening_keys(buyer)`: make sure the buyer has a default commission with keys (for tests that publish
  through the service and do not care who holds the shares).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import pyrage
import pytest
from django_scopes import scopes_disabled

from ebourgogne.sealing.models import ConsultationKey

TEST_PASSPHRASE = "phrase secrète de test n° {n}"  # noqa: S105 - test data


def give_test_key(consultation, *, threshold: int = 2, share_count: int = 3) -> str:
    identity = pyrage.x25519.Identity.generate()
    recipient = str(identity.to_public())
    ConsultationKey.objects.update_or_create(
        consultation=consultation,
        defaults={
            "recipient": recipient,
            "fingerprint": hashlib.sha256(recipient.encode()).hexdigest(),
            "threshold": threshold,
            "share_count": share_count,
        },
    )
    return str(identity)


def encrypt_to(recipient: str, data: bytes) -> bytes:
    return pyrage.encrypt(data, [pyrage.x25519.Recipient.from_str(recipient)])


@dataclass
class OpeningCommission:
    commission: Any
    members: list[Any]
    passphrases: dict[int, str] = field(default_factory=dict)  # user pk -> passphrase
    escrow_holder: Any = None

    def passphrase(self, user: Any) -> str:
        return self.passphrases[user.pk]

    def contributions(self, count: int | None = None) -> list[tuple[Any, str]]:
        """(member, passphrase) pairs of the first `count` members (all by default), as `rebuild_identity`
        takes them."""
        chosen = self.members if count is None else self.members[:count]
        return [(user, self.passphrases[user.pk]) for user in chosen]


def _counter() -> int:
    _counter.value += 1  # type: ignore[attr-defined]
    return _counter.value  # type: ignore[attr-defined]


_counter.value = 0  # type: ignore[attr-defined]


def opening_commission(
    buyer: Any,
    *,
    members: int = 3,
    threshold: int = 2,
    name: str | None = None,
    is_default: bool = True,
    escrow: bool = False,
    keep_identity_after_opening: bool = False,
    users: list[Any] | None = None,
) -> OpeningCommission:
    """A commission of `buyer` with `members` members (commission_member role in the buyer), each holding
    a personal opening key made by the real service. `users` gives existing people to seat first."""
    from ebourgogne.commissions.models import Commission, CommissionMember
    from ebourgogne.organisations.models import Membership
    from ebourgogne.organisations.roles import Role
    from ebourgogne.sealing.services import active_key, personal_key_create
    from ebourgogne.testing.factories import UserFactory, make_member

    number = _counter()
    result = OpeningCommission(commission=None, members=[])
    seated = list(users or [])
    while len(seated) < members:
        seated.append(
            make_member(buyer, Role.COMMISSION_MEMBER, UserFactory(full_name=f"Membre {number}-{len(seated) + 1}"))
        )
    with scopes_disabled():
        if is_default:
            Commission.objects.filter(organisation=buyer, is_default=True).update(is_default=False)
        commission = Commission.objects.create(
            organisation=buyer,
            name=name or f"Commission d'ouverture {number}",
            opening_threshold=threshold,
            is_default=is_default,
            keep_identity_after_opening=keep_identity_after_opening,
        )
        people = list(seated)
        if escrow:
            holder = make_member(buyer, Role.BUYER_ADMIN, UserFactory(full_name=f"Représentant légal {number}"))
            commission.escrow_holder = holder
            commission.save(update_fields=["escrow_holder"])
            result.escrow_holder = holder
            people.append(holder)
        for user in seated:
            if not Membership.objects.filter(organisation=buyer, user=user).exists():
                make_member(buyer, Role.COMMISSION_MEMBER, user)
            CommissionMember.objects.create(commission=commission, user=user)
    for user in people:
        passphrase = TEST_PASSPHRASE.format(n=f"{number}-{user.pk}")
        if active_key(user) is None:
            personal_key_create(user=user, passphrase=passphrase)
            result.passphrases[user.pk] = passphrase
    result.commission = commission
    result.members = seated
    return result


def with_opening_keys(buyer: Any) -> OpeningCommission | None:
    """Give `buyer` a default commission with keys unless it has one: for tests that publish through the
    service. Returns the new commission (None when the buyer already had a default one)."""
    from ebourgogne.commissions.models import Commission

    with scopes_disabled():
        if Commission.objects.filter(organisation=buyer, is_default=True, is_active=True).exists():
            return None
    return opening_commission(buyer)


@dataclass
class SealedConsultation:
    consultation: Any
    key: Any
    commission: OpeningCommission


def sealed_consultation(
    buyer: Any, *, acting_user: Any = None, commission: OpeningCommission | None = None, **fields: Any
) -> SealedConsultation:
    """A consultation of `buyer` published through `consultation_publish`: a real opening key split into
    real shares for `commission`'s members (a new default commission of 3, k = 2, when none is given).
    `fields` go to ConsultationFactory (e.g. bids_deadline=...)."""
    from ebourgogne.consultations.services import consultation_publish
    from ebourgogne.organisations.roles import Role
    from ebourgogne.testing.factories import ConsultationFactory, make_member

    commission = commission or opening_commission(buyer)
    agent = acting_user or make_member(buyer, Role.BUYER_AGENT)
    consultation = ConsultationFactory(organisation=buyer, commission=commission.commission, **fields)
    consultation = consultation_publish(acting_user=agent, consultation=consultation)
    with scopes_disabled():
        key = ConsultationKey.objects.get(consultation=consultation)
    return SealedConsultation(consultation=consultation, key=key, commission=commission)


@pytest.fixture
def buyer_opening_keys(request):
    """For test modules that publish through `consultation_publish`: when the test uses the `buyer` or
    `other_buyer` fixture, that buyer gets a default commission of 3 members with keys (k = 2). Use with
    `pytestmark = pytest.mark.usefixtures("buyer_opening_keys")` after importing it."""
    for name in ("buyer", "other_buyer"):
        if name in request.fixturenames:
            with_opening_keys(request.getfixturevalue(name))
