from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "ebourgogne.indicators"
    label = "indicators"
    verbose_name = _("Indicateurs")

    def ready(self) -> None:
        from ebourgogne.audit.actions import register_action_labels

        register_action_labels({"indicators.refreshed": _("Indicateurs recalculés à la demande")})
