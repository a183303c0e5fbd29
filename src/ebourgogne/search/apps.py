from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "ebourgogne.search"
    label = "search"
    verbose_name = _("Recherche sur le portail")

    def ready(self) -> None:
        from ebourgogne.consultations.signals import consultation_changed, consultation_published
        from ebourgogne.search import signals

        consultation_published.connect(signals.on_consultation_published, dispatch_uid="search_index_published")
        consultation_changed.connect(signals.on_consultation_changed, dispatch_uid="search_index_changed")
