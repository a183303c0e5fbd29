from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganisationsConfig(AppConfig):
    name = "ebourgogne.organisations"
    label = "organisations"
    verbose_name = _("Organisations")

    def ready(self) -> None:
        from ebourgogne.audit.actions import register_action_labels

        register_action_labels(
            {
                "org.company.registered": _("Entreprise inscrite"),
                "org.buyer.registered": _("Acheteur public inscrit"),
                "org.organisation.updated": _("Informations de l'organisation modifiées"),
                "org.organisation.activated": _("Organisation réactivée"),
                "org.organisation.deactivated": _("Organisation désactivée"),
                "org.member.invited": _("Personne invitée"),
                "org.invitation.accepted": _("Invitation acceptée"),
                "org.invitation.revoked": _("Invitation annulée"),
                "org.member.role_granted": _("Rôle attribué"),
                "org.member.role_revoked": _("Rôle retiré"),
                "org.member.removed": _("Membre retiré"),
                "org.member.left": _("Membre parti"),
                "org.service.created": _("Service créé"),
                "org.service.renamed": _("Service renommé"),
                "org.service.deleted": _("Service supprimé"),
                "org.operator.granted": _("Exploitant nommé"),
                "org.operator.revoked": _("Exploitant retiré"),
                "org.seeded": _("Données générées"),
            }
        )
