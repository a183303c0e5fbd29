from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TendersConfig(AppConfig):
    name = "ebourgogne.tenders"
    label = "tenders"
    verbose_name = _("Plis électroniques")
