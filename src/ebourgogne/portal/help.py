"""The help pages, one per audience. Each page is a list of section templates, so that each new service
adds its sections here (for example "portal/help/sections/consultations.html") without touching the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class HelpAudience:
    slug: str
    title: Promise
    summary: Promise
    sections: tuple[str, ...]


_S = "portal/help/sections/"

AUDIENCES: dict[str, HelpAudience] = {
    audience.slug: audience
    for audience in (
        HelpAudience(
            slug="entreprises",
            title=_("Entreprises"),
            summary=_("Créer son compte, déclarer son entreprise, inviter ses collègues, déposer un pli chiffré."),
            sections=(
                _S + "account.html",
                _S + "mfa_optional.html",
                _S + "company_create.html",
                _S + "members.html",
                _S + "invitations.html",
                "search/help/search.html",
                "dce/help/dce.html",
                "questions/help/companies.html",
                _S + "sealed_bids_companies.html",
                _S + "alerts_vault_companies.html",
                _S + "contracts_companies.html",
                _S + "coming_soon.html",
            ),
        ),
        HelpAudience(
            slug="acheteurs",
            title=_("Acheteurs publics"),
            summary=_("Accéder à l'espace de votre organisme, gérer vos agents, consulter le journal des événements."),
            sections=(
                _S + "account.html",
                _S + "mfa_required.html",
                _S + "buyer_organisation.html",
                _S + "members.html",
                _S + "invitations.html",
                _S + "event_log.html",
                "consultations/help/consultations.html",
                "dce/help/dce.html",
                "questions/help/buyers.html",
                "apitokens/help/api_tokens.html",
                _S + "sealed_bids_buyers.html",
                _S + "meetings_buyers.html",
                _S + "awards_indicators_buyers.html",
                _S + "contracts_buyers.html",
                _S + "coming_soon.html",
            ),
        ),
        HelpAudience(
            slug="commission",
            title=_("Membres de commission"),
            summary=_("Rejoindre la commission d'un acheteur, sécuriser son compte, sa clé d'ouverture des plis."),
            sections=(
                _S + "account.html",
                _S + "mfa_required.html",
                _S + "invitations.html",
                _S + "commission.html",
                _S + "opening_keys.html",
                _S + "sealed_bids_buyers.html",
                _S + "meetings_members.html",
                _S + "coming_soon.html",
            ),
        ),
        HelpAudience(
            slug="exploitants",
            title=_("Exploitants de la plateforme"),
            summary=_(
                "Créer les acheteurs publics, suivre les courriels envoyés et le journal de toute la plateforme."
            ),
            sections=(
                _S + "mfa_required.html",
                _S + "operator.html",
                _S + "event_log.html",
            ),
        ),
    )
}
