from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VaultConfig(AppConfig):
    name = "ebourgogne.vault"
    label = "vault"
    verbose_name = _("Coffre-fort des entreprises")

    def ready(self) -> None:
        from ebourgogne.audit.actions import register_action_labels

        register_action_labels(
            {
                "vault.document.created": _("Document ajouté au coffre-fort"),
                "vault.version.added": _("Nouvelle version d'un document du coffre-fort"),
                "vault.document.deleted": _("Document supprimé du coffre-fort"),
                "vault.document.downloaded": _("Document du coffre-fort téléchargé"),
                "vault.integrity.failed": _("Fichier du coffre-fort endommagé"),
                "vault.grant.created": _("Accès au coffre-fort accordé à un acheteur"),
                "vault.grant.received": _("Accès au coffre-fort d'une entreprise reçu"),
                "vault.grant.revoked": _("Accès au coffre-fort révoqué"),
            }
        )
