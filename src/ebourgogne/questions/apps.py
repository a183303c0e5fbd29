from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuestionsConfig(AppConfig):
    name = "ebourgogne.questions"
    label = "questions"
    verbose_name = _("Questions et réponses")

    def ready(self) -> None:
        from ebourgogne.audit.actions import register_action_labels
        from ebourgogne.consultations.signals import consultation_changed
        from ebourgogne.questions.receivers import on_consultation_changed

        consultation_changed.connect(on_consultation_changed, dispatch_uid="questions_tell_followers")

        register_action_labels(
            {
                "questions.question.asked": _("Question posée"),
                "questions.answer.published": _("Réponse publiée"),
                "questions.answer.edited": _("Réponse publiée modifiée"),
                "questions.information.published": _("Information publiée"),
                "questions.information.edited": _("Information publiée modifiée"),
            }
        )
