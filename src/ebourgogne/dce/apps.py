from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DceConfig(AppConfig):
    name = "ebourgogne.dce"
    label = "dce"
    verbose_name = _("Dossiers de consultation (DCE)")

    def ready(self) -> None:
        from ebourgogne.audit.actions import register_action_labels
        from ebourgogne.dce import services  # noqa: F401 - connects the consultation_published receiver

        register_action_labels(
            {
                "dce.file.added": _("Fichier ajouté au DCE"),
                "dce.file.replaced": _("Fichier du DCE remplacé"),
                "dce.file.removed": _("Fichier retiré du DCE"),
                "dce.published": _("DCE publié"),
                "dce.rectification.published": _("Rectificatif du DCE publié"),
            }
        )
