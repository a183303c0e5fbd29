from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    name = "ebourgogne.contracts"
    label = "contracts"
    verbose_name = _("Marchés : signature, notification, exécution, données essentielles")

    def ready(self) -> None:
        from ebourgogne.audit.actions import register_action_labels

        register_action_labels(
            {
                "contracts.created": _("Marché préparé à partir de l'attribution"),
                "contracts.terms_set": _("Conditions du marché fixées"),
                "contracts.document_added": _("Pièce du marché ajoutée"),
                "contracts.signed_buyer": _("Pièce du marché signée par l'acheteur"),
                "contracts.signed_holder": _("Pièce du marché signée par le titulaire"),
                "contracts.notified": _("Marché notifié au titulaire"),
                "contracts.modification_created": _("Modification du marché préparée"),
                "contracts.modification_notified": _("Modification du marché notifiée"),
                "contracts.order_issued": _("Bon de commande émis"),
                "contracts.subcontract_declared": _("Sous-traitant déclaré"),
                "contracts.subcontract_decided": _("Sous-traitant accepté ou refusé"),
                "contracts.subcontract_changed": _("Acte de sous-traitance modifié"),
                "contracts.milestone_set": _("Jalon d'exécution enregistré"),
                "contracts.ended": _("Fin d'exécution du marché"),
                "contracts.decp_published": _("Données essentielles publiées"),
                "contracts.purged": _("Fichiers supprimés au terme de leur durée de conservation"),
            }
        )
