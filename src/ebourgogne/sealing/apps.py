from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SealingConfig(AppConfig):
    name = "ebourgogne.sealing"
    label = "sealing"
    verbose_name = _("Clés d'ouverture des plis")
