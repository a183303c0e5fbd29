from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApitokensConfig(AppConfig):
    name = "ebourgogne.apitokens"
    label = "apitokens"
    verbose_name = _("Jetons d'API")

    def ready(self) -> None:
        from ebourgogne.audit.actions import register_action_labels

        register_action_labels(
            {
                "account.api_token.created": _("Jeton d'API créé"),
                "account.api_token.revoked": _("Jeton d'API révoqué"),
            }
        )
