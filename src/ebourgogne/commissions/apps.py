from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommissionsConfig(AppConfig):
    name = "ebourgogne.commissions"
    label = "commissions"
    verbose_name = _("Commissions")

    def ready(self) -> None:
        from ebourgogne.audit.actions import register_action_labels

        register_action_labels(
            {
                "commission.created": _("Commission créée"),
                "commission.updated": _("Commission modifiée"),
                "commission.member.added": _("Membre ajouté à la commission"),
                "commission.member.removed": _("Membre retiré de la commission"),
            }
        )
