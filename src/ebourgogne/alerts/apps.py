from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "ebourgogne.alerts"
    label = "alerts"
    verbose_name = _("Alertes")

    def ready(self) -> None:
        from ebourgogne.alerts import receivers
        from ebourgogne.audit.actions import register_action_labels
        from ebourgogne.consultations.signals import consultation_changed, consultation_published

        consultation_published.connect(receivers.on_consultation_published, dispatch_uid="alerts_published")
        consultation_changed.connect(receivers.on_consultation_changed, dispatch_uid="alerts_changed")
        register_action_labels(
            {
                "alerts.alert.created": _("Alerte créée"),
                "alerts.alert.updated": _("Alerte modifiée"),
                "alerts.alert.paused": _("Alerte mise en pause"),
                "alerts.alert.resumed": _("Alerte réactivée"),
                "alerts.alert.deleted": _("Alerte supprimée"),
                "alerts.alert.unsubscribed": _("Désabonnement d'une alerte (lien du courriel)"),
                "alerts.feed.regenerated": _("Adresse du flux d'une alerte renouvelée"),
                "alerts.follow.stopped": _("Fin des courriels d'une consultation suivie"),
            }
        )
