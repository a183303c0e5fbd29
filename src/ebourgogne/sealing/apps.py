from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SealingConfig(AppConfig):
    name = "ebourgogne.sealing"
    label = "sealing"
    verbose_name = _("Clés d'ouverture des plis")

    def ready(self) -> None:
        from ebourgogne.audit.actions import register_action_labels

        register_action_labels(
            {
                "sealing.personal_key.created": _("Clé d'ouverture personnelle créée"),
                "sealing.personal_key.rotated": _("Clé d'ouverture personnelle changée"),
                "sealing.personal_key.replaced_lost": _("Clé d'ouverture personnelle perdue remplacée"),
                "sealing.consultation_key.created": _("Clé d'ouverture de la consultation créée et partagée"),
                "sealing.rebuild.attempted": _("Reconstitution de la clé d'ouverture demandée"),
                "sealing.rebuild.refused": _("Reconstitution de la clé d'ouverture refusée"),
                "sealing.rebuild.succeeded": _("Clé d'ouverture reconstituée"),
                "sealing.consultation_key.retained": _("Clé d'ouverture conservée après l'ouverture"),
                "sealing.consultation_key.erased": _("Clé d'ouverture effacée après l'ouverture"),
            }
        )
