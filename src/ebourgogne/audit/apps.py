from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "ebourgogne.audit"
    label = "audit"
    verbose_name = _("Journal des événements")

    def ready(self) -> None:
        from ebourgogne.audit import receivers

        receivers.connect()
