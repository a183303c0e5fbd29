from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "ebourgogne.notifications"
    label = "notifications"
    verbose_name = _("Courriels")

    def ready(self) -> None:
        from ebourgogne.audit.actions import register_action_labels

        register_action_labels(
            {
                "notifications.mail.resent": _("Courriel en échec renvoyé"),
                "notifications.mail.test_sent": _("Courriel d'essai envoyé"),
            }
        )
