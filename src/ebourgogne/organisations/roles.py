"""Roles and the permissions they grant: the one table every access decision reads.

A permission is a dotted name (`org.members.manage`). Views and API endpoints name the permission they
need; `ebourgogne.core.access` checks it against this table.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    BUYER = "buyer", _("Acheteur public")
    COMPANY = "company", _("Entreprise")
    PLATFORM = "platform", _("Exploitant de la plateforme")


class Role(models.TextChoices):
    BUYER_ADMIN = "buyer_admin", _("Administrateur acheteur")
    BUYER_AGENT = "buyer_agent", _("Agent acheteur")
    COMMISSION_MEMBER = "commission_member", _("Membre de commission")
    COMPANY_ADMIN = "company_admin", _("Administrateur entreprise")
    COMPANY_MEMBER = "company_member", _("Membre entreprise")
    PLATFORM_OPERATOR = "platform_operator", _("Exploitant de la plateforme")


ROLES_BY_KIND: dict[str, tuple[str, ...]] = {
    OrganisationKind.BUYER: (Role.BUYER_ADMIN, Role.BUYER_AGENT, Role.COMMISSION_MEMBER),
    OrganisationKind.COMPANY: (Role.COMPANY_ADMIN, Role.COMPANY_MEMBER),
    OrganisationKind.PLATFORM: (Role.PLATFORM_OPERATOR,),
}

ADMIN_ROLES = frozenset({Role.BUYER_ADMIN, Role.COMPANY_ADMIN, Role.PLATFORM_OPERATOR})

# Roles whose holders must sign in with a second factor (TOTP).
MFA_REQUIRED_ROLES = frozenset({Role.BUYER_ADMIN, Role.BUYER_AGENT, Role.COMMISSION_MEMBER, Role.PLATFORM_OPERATOR})

# Every member may view the organisation; the rest is granted by role.
PERMISSIONS: dict[str, frozenset[str]] = {
    "org.view": frozenset(Role.values),
    "org.edit": frozenset({Role.BUYER_ADMIN, Role.COMPANY_ADMIN, Role.PLATFORM_OPERATOR}),
    "org.members.view": frozenset(Role.values),
    "org.members.manage": frozenset({Role.BUYER_ADMIN, Role.COMPANY_ADMIN, Role.PLATFORM_OPERATOR}),
    "org.services.manage": frozenset({Role.BUYER_ADMIN}),
    "audit.view": frozenset({Role.BUYER_ADMIN, Role.BUYER_AGENT, Role.PLATFORM_OPERATOR}),
    # Consultations of a buyer (drafts included), their tender files, questions and registers.
    "consultations.view": frozenset({Role.BUYER_ADMIN, Role.BUYER_AGENT, Role.PLATFORM_OPERATOR}),
    "consultations.manage": frozenset({Role.BUYER_ADMIN, Role.BUYER_AGENT}),
    "dce.manage": frozenset({Role.BUYER_ADMIN, Role.BUYER_AGENT}),
    "questions.answer": frozenset({Role.BUYER_ADMIN, Role.BUYER_AGENT}),
    # A company's members ask questions on public consultations in its name.
    "questions.ask": frozenset({Role.COMPANY_ADMIN, Role.COMPANY_MEMBER}),
    # Commissions of a buyer: their members and opening-key policy.
    "commissions.view": frozenset({Role.BUYER_ADMIN, Role.BUYER_AGENT, Role.COMMISSION_MEMBER, Role.PLATFORM_OPERATOR}),
    "commissions.manage": frozenset({Role.BUYER_ADMIN}),
    # Meetings of commissions: the buyer's staff prepare and convene them; members see those of their own
    # commissions only (meetings.selectors scopes by membership on top of this permission).
    "meetings.view": frozenset({Role.BUYER_ADMIN, Role.BUYER_AGENT, Role.COMMISSION_MEMBER}),
    "meetings.manage": frozenset({Role.BUYER_ADMIN, Role.BUYER_AGENT}),
    # Evaluation of offers and award (after the opening); reading the analysis for commission members.
    "awards.view": frozenset({Role.BUYER_ADMIN, Role.BUYER_AGENT, Role.COMMISSION_MEMBER}),
    "awards.manage": frozenset({Role.BUYER_ADMIN, Role.BUYER_AGENT}),
    # A company's letters (rejection, award) and a buyer's indicators.
    "letters.view": frozenset({Role.COMPANY_ADMIN, Role.COMPANY_MEMBER}),
    "indicators.view": frozenset({Role.BUYER_ADMIN, Role.BUYER_AGENT, Role.PLATFORM_OPERATOR}),
    # Contracts: the buyer's staff prepare, sign and notify them and follow their execution; a holder
    # company's members read its contracts and declare subcontractors, its admins sign.
    "contracts.view": frozenset({Role.BUYER_ADMIN, Role.BUYER_AGENT}),
    "contracts.manage": frozenset({Role.BUYER_ADMIN, Role.BUYER_AGENT}),
    "contracts.sign": frozenset({Role.BUYER_ADMIN}),
    "contracts.holder": frozenset({Role.COMPANY_ADMIN, Role.COMPANY_MEMBER}),
    "contracts.holder_sign": frozenset({Role.COMPANY_ADMIN}),
    # A company's vault (documents stored once, reused in bids) and its alerts.
    "vault.view": frozenset({Role.COMPANY_ADMIN, Role.COMPANY_MEMBER}),
    "vault.manage": frozenset({Role.COMPANY_ADMIN, Role.COMPANY_MEMBER}),
    "vault.grant": frozenset({Role.COMPANY_ADMIN}),
    # Sealed bids. A company's members build and deposit its bids and read its receipts.
    "bids.submit": frozenset({Role.COMPANY_ADMIN, Role.COMPANY_MEMBER}),
    # The buyer's deposit register (number of deposits before the deadline, the register after it).
    "bids.register": frozenset({Role.BUYER_ADMIN, Role.BUYER_AGENT, Role.COMMISSION_MEMBER}),
    # Starting an opening (the members' passphrases are checked on top) and reading opened bids.
    "bids.open": frozenset({Role.BUYER_ADMIN, Role.BUYER_AGENT, Role.COMMISSION_MEMBER}),
}


def roles_grant(roles: set[str] | frozenset[str], permission: str) -> bool:
    """True when one of `roles` grants `permission`. An unknown permission is granted to no one."""
    allowed = PERMISSIONS.get(permission, frozenset())
    return bool(allowed & set(roles))
