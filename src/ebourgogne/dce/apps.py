from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DceConfig(AppConfig):
    name = "ebourgogne.dce"
    label = "dce"
    verbose_name = _("Dossiers de consultation (DCE)")
