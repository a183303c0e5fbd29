from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TimestampingConfig(AppConfig):
    name = "ebourgogne.timestamping"
    label = "timestamping"
    verbose_name = _("Horodatage (RFC 3161)")
