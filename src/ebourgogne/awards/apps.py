from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AwardsConfig(AppConfig):
    name = "ebourgogne.awards"
    label = "awards"
    verbose_name = _("Analyse des offres et attribution")

    def ready(self) -> None:
        from ebourgogne.audit.actions import register_action_labels

        register_action_labels(
            {
                "awards.criteria_set": _("Critères d'analyse des offres définis"),
                "awards.candidature_admitted": _("Candidature admise"),
                "awards.candidature_rejected": _("Candidature rejetée"),
                "awards.price_set": _("Prix d'une offre saisi"),
                "awards.low_offer": _("Suite donnée à une offre anormalement basse"),
                "awards.scores_set": _("Notes d'une offre saisies"),
                "awards.awarded": _("Lot ou marché attribué"),
                "awards.unsuccessful": _("Lot ou marché déclaré infructueux"),
                "awards.abandoned": _("Lot ou marché déclaré sans suite"),
                "awards.documents_requested": _("Pièces justificatives demandées à l'attributaire"),
                "awards.letters_sent": _("Courriers de notification envoyés"),
                "awards.letter_read": _("Courrier lu par l'entreprise"),
            }
        )
