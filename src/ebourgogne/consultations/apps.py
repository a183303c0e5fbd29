from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultationsConfig(AppConfig):
    name = "ebourgogne.consultations"
    label = "consultations"
    verbose_name = _("Consultations")

    def ready(self) -> None:
        from ebourgogne.audit.actions import register_action_labels

        register_action_labels(
            {
                "consultation.created": _("Consultation créée"),
                "consultation.updated": _("Consultation modifiée"),
                "consultation.published": _("Consultation publiée"),
                "consultation.deadline_postponed": _("Date limite reportée"),
                "consultation.closed": _("Consultation clôturée"),
                "consultation.opened": _("Plis ouverts"),
                "consultation.awarded": _("Consultation attribuée"),
                "consultation.unsuccessful": _("Consultation déclarée infructueuse"),
                "consultation.abandoned": _("Consultation déclarée sans suite"),
                "consultation.cancelled": _("Consultation annulée"),
                "consultation.draft_deleted": _("Brouillon supprimé"),
            }
        )
