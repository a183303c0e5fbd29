from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "ebourgogne.core"
    label = "core"
    verbose_name = "e-bourgogne"

    def ready(self) -> None:
        from ebourgogne.core import csp, csrf

        csrf.install()
        csp.install()
