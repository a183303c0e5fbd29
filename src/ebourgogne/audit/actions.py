"""Human labels of action codes, shown in the journal. Each app may add its own with `register_action_labels`.

A code without a label is shown as is.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, Promise | str] = {
    "account.signup": _("Inscription"),
    "account.login": _("Connexion"),
    "account.logout": _("Déconnexion"),
    "account.login.failed": _("Échec de connexion"),
    "account.email.confirmed": _("Adresse électronique confirmée"),
    "account.email.added": _("Adresse électronique ajoutée"),
    "account.email.removed": _("Adresse électronique retirée"),
    "account.email.primary_changed": _("Adresse électronique principale changée"),
    "account.password.set": _("Mot de passe défini"),
    "account.password.changed": _("Mot de passe modifié"),
    "account.password.reset": _("Mot de passe réinitialisé"),
    "account.mfa.added": _("Double authentification : méthode ajoutée"),
    "account.mfa.removed": _("Double authentification : méthode retirée"),
    "account.mfa.reset": _("Double authentification : méthode renouvelée"),
    "account.mfa.recovery_codes.regenerated": _("Codes de secours régénérés"),
    "account.mfa.failed": _("Échec de la double authentification"),
    "audit.exported": _("Journal exporté"),
    "audit.chain.head_restored": _("Tête de chaîne du journal recréée"),
}


def register_action_labels(labels: Mapping[str, Promise | str]) -> None:
    """Add labels for an app's action codes (call it from the app's ready())."""
    ACTION_LABELS.update(labels)


def action_label(code: str) -> str:
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code
