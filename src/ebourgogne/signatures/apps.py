from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SignaturesConfig(AppConfig):
    name = "ebourgogne.signatures"
    label = "signatures"
    verbose_name = _("Signatures électroniques")

    def ready(self) -> None:
        from ebourgogne.audit.actions import register_action_labels

        register_action_labels(
            {
                "signatures.certificate.uploaded": _("Certificat de signature importé"),
                "signatures.certificate.issued": _("Certificat de signature délivré par la plateforme"),
                "signatures.certificate.revoked": _("Certificat de signature révoqué"),
            }
        )
