from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "ebourgogne.meetings"
    label = "meetings"
    verbose_name = _("Séances des commissions")

    def ready(self) -> None:
        from ebourgogne.audit.actions import register_action_labels

        register_action_labels(
            {
                "meeting.created": _("Séance créée"),
                "meeting.updated": _("Séance modifiée"),
                "meeting.cancelled": _("Séance annulée"),
                "meeting.convened": _("Commission convoquée"),
                "meeting.session.opened": _("Séance ouverte"),
                "meeting.session.closed": _("Séance close"),
                "meeting.attendance.recorded": _("Présence enregistrée"),
                "meeting.decision.recorded": _("Décision enregistrée"),
                "meeting.agenda.added": _("Point ajouté à l'ordre du jour"),
                "meeting.agenda.removed": _("Point retiré de l'ordre du jour"),
                "meeting.agenda.moved": _("Point de l'ordre du jour déplacé"),
                "meeting.document.added": _("Document de séance ajouté"),
                "meeting.document.removed": _("Document de séance retiré"),
                "meeting.convocation.acknowledged": _("Convocation : accusé de réception"),
                "meeting.convocation.answered": _("Convocation : réponse du membre"),
                "meeting.minutes.generated": _("Procès-verbal généré"),
                "meeting.minutes.signed": _("Procès-verbal signé"),
                "meeting.opening.started": _("Ouverture des plis en séance"),
            }
        )
