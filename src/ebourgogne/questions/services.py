"""Every change to questions, answers and the buyer's information.

- `question_ask`: a member of a company (permission `questions.ask` there) asks a question on a published
  consultation, strictly before its questions deadline (at the deadline itself it is too late).
- `question_answer`: the buyer's staff (`questions.answer`) answer; the answer is published to everyone
  without the asker's identity and e-mailed to every identified downloader and to the asker. Editing a
  published answer keeps the earlier text (`AnswerRevision`) and tells everyone again.
- `information_publish` / `information_edit`: information the buyer publishes on its own, diffused alike.

R2132-6: in formalised procedures, answers go out at least 6 days before the bid deadline (4 days in
urgency). A later answer is not refused (refusing would leave bidders without the information): the
service raises `LateAnswer` unless the caller confirms, the entry is marked late, and the buyer is told
to postpone the bid deadline. See docs/guide/questions.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.audit.services import log_event
from ebourgogne.consultations.models import PUBLIC_STATES, Consultation, State
from ebourgogne.consultations.services import last_answer_date
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.notifications.services import send_templated_mail
from ebourgogne.organisations.models import Organisation
from ebourgogne.organisations.roles import OrganisationKind, roles_grant
from ebourgogne.organisations.selectors import members_with, roles_of
from ebourgogne.questions.models import AnswerRevision, Kind, Question

QUESTION_MAX_LENGTH = 5_000
ANSWER_MAX_LENGTH = 20_000


class LateAnswer(DomainError):
    """The answer would go out after the R2132-6 limit: the caller must confirm (and should postpone the
    bid deadline)."""

    code = "late_answer"

    def __init__(self, message: str, *, limit: dt.datetime):
        super().__init__(message)
        self.limit = limit


# --- Rules on dates (also read by the pages) ---------------------------------------------------------


def questions_deadline(consultation: Consultation) -> dt.datetime | None:
    """Until when questions are accepted: the questions deadline, or the bid deadline when none is set."""
    return consultation.questions_deadline or consultation.bids_deadline


def questions_open(consultation: Consultation, at: dt.datetime | None = None) -> bool:
    """True while questions are accepted: published, and strictly before the deadline."""
    deadline = questions_deadline(consultation)
    at = at or clock.now()
    return consultation.effective_state == State.PUBLISHED and deadline is not None and at < deadline


def answer_limit(consultation: Consultation) -> dt.datetime | None:
    """The instant after which an answer is late under R2132-6 (None when the rule does not apply): 6 days
    before the bid deadline in formalised procedures, 4 in urgency, counted as the consultations app counts
    them (Paris calendar, never looser across a daylight-saving change)."""
    return last_answer_date(consultation)


def is_late(consultation: Consultation, at: dt.datetime | None = None) -> bool:
    limit = answer_limit(consultation)
    return limit is not None and (at or clock.now()) > limit


def _local(value: dt.datetime) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


# --- Helpers ----------------------------------------------------------------------------------------


def _require_signed_in(user: Any) -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionRefused(_("Connectez-vous pour effectuer cette action."))


def _require(acting_user: Any, organisation: Organisation, permission: str) -> None:
    _require_signed_in(acting_user)
    roles = roles_of(user=acting_user, organisation=organisation) if organisation.is_active else set()
    if not roles:
        raise NotFound(_("Organisation introuvable."))
    if not roles_grant(roles, permission):
        raise PermissionRefused(_("Votre rôle dans cette organisation ne permet pas cette action."))


def _organisation_of(consultation_id: int) -> Organisation:
    with scopes_disabled():
        consultation = Consultation.objects.select_related("organisation").filter(pk=consultation_id).first()
    if consultation is None:
        raise NotFound(_("Consultation introuvable."))
    return consultation.organisation


def _clean_text(value: Any, *, max_length: int, empty: str, too_long: str) -> str:
    text = str(value or "").replace("\r\n", "\n").replace("\r", "\n")
    # Control characters (NUL first: PostgreSQL refuses it) have no place in a question; keep line breaks.
    text = "".join(ch for ch in text if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127)).strip()
    if not text:
        raise DomainError(empty, code="invalid")
    if len(text) > max_length:
        raise DomainError(too_long % {"max": max_length, "length": len(text)}, code="invalid")
    return text


def _clean_answer(value: Any, empty: str) -> str:
    return _clean_text(
        value,
        max_length=ANSWER_MAX_LENGTH,
        empty=empty,
        too_long=_("Le texte ne peut pas dépasser %(max)d caractères (il en compte %(length)d)."),
    )


def _locked_consultation(consultation: Consultation) -> Consultation:
    """The consultation row, locked: questions of one consultation are numbered one at a time."""
    with scopes_disabled():
        return (
            Consultation.objects.select_for_update(no_key=True, of=("self",))
            .select_related("organisation")
            .get(pk=consultation.pk)
        )


def _next_number(consultation: Consultation) -> int:
    with scopes_disabled():
        highest = Question.objects.filter(consultation=consultation).aggregate(n=Max("number"))["n"]
    return (highest or 0) + 1


def _create_numbered(consultation: Consultation, **fields: Any) -> Question:
    """Create the next entry of `consultation`. The consultation row is locked by the caller (PostgreSQL);
    SQLite runs write transactions one at a time. The unique constraint is the last guard: on a clash
    (another writer that did not lock), take the next number."""
    for _attempt in range(5):
        number = _next_number(consultation)
        try:
            with transaction.atomic():
                return Question.objects.create(consultation=consultation, number=number, **fields)
        except IntegrityError:
            continue
    raise DomainError(_("Trop de questions arrivent en même temps : réessayez dans un instant."), code="busy")


def _require_published(consultation: Consultation) -> None:
    # Effective state: once the bid deadline has passed the consultation is closed, scheduler or not.
    if consultation.effective_state != State.PUBLISHED:
        raise DomainError(
            _("La consultation n'est pas en cours (%(state)s) : aucune réponse ni information n'y est publiée.")
            % {"state": consultation.get_effective_state_display()},
            code="not_published",
        )


def _check_late(consultation: Consultation, now: dt.datetime, confirm_late: bool) -> bool:
    late = is_late(consultation, now)
    if late and not confirm_late:
        limit = answer_limit(consultation)
        assert limit is not None
        raise LateAnswer(
            _(
                "Réponse tardive : dans cette procédure, les réponses doivent parvenir aux entreprises au plus tard "
                "le %(limit)s (article R2132-6 du code de la commande publique). Publiez-la en confirmant, et "
                "reportez la date limite de remise des plis pour laisser aux entreprises le temps d'en tenir compte."
            )
            % {"limit": _local(limit)},
            limit=limit,
        )
    return late


# --- Recipients -------------------------------------------------------------------------------------


def identified_downloaders(consultation: Consultation) -> list[Any]:
    """The people who identified themselves when downloading the DCE and did not unsubscribe."""
    try:
        from ebourgogne.dce.selectors import identified_downloaders as from_dce
    except ImportError:  # the DCE app's selector (helper H2) not there yet: same rule, read directly
        from_dce = None
    if from_dce is not None:
        with scopes_disabled():
            return list(from_dce(consultation))
    from ebourgogne.dce.models import Downloader

    with scopes_disabled():
        return list(Downloader.objects.filter(consultation=consultation, unsubscribed_at__isnull=True))


def _answerers(organisation: Organisation) -> list[Any]:
    """The buyer's staff who may answer, once each."""
    return members_with(organisation=organisation, permission="questions.answer")


def _add(recipients: dict[str, str], email: str, language: str | None) -> None:
    email = (email or "").strip()
    if email and email.lower() not in recipients:
        recipients[email.lower()] = language or "fr"


def _diffusion_recipients(entry: Question) -> dict[str, str]:
    """E-mail address (lowercase) → language, for everyone told of a published answer or information:
    the asker of this question (by the address of their account) and every identified downloader."""
    recipients: dict[str, str] = {}
    if entry.kind == Kind.QUESTION and entry.asked_by_id:
        _add(recipients, entry.asked_by.email, getattr(entry.asked_by, "language", "fr"))
    elif entry.kind == Kind.QUESTION:
        _add(recipients, entry.asker_email, "fr")
    for downloader in identified_downloaders(entry.consultation):
        _add(recipients, downloader.email, getattr(downloader, "language", "fr"))
    from ebourgogne.alerts.services import muted_emails  # who stopped following (page "Mes alertes", mail link)

    for email in muted_emails(entry.consultation_id):
        recipients.pop(email, None)
    return recipients


def _diffuse(entry: Question, *, edited: bool) -> int:
    """E-mail the published entry, one message per recipient (no one sees the others' addresses)."""
    consultation = entry.consultation
    context = {
        "consultation": consultation,
        "buyer_name": consultation.organisation.name,
        "entry": entry,
        "edited": edited,
        "page_path": public_page_path(consultation),
    }
    template = "questions/email/answer" if entry.kind == Kind.QUESTION else "questions/email/information"
    recipients = _diffusion_recipients(entry)
    from ebourgogne.alerts.services import follow_headers  # RFC 8058 one-click unsubscribe

    for email, language in recipients.items():
        send_templated_mail(
            template=template,
            to=[email],
            context=context,
            language=language,
            headers=follow_headers(consultation.pk, email),
        )
    return len(recipients)


def public_page_path(consultation: Consultation, *, anchor: str = "#questions") -> str:
    """The consultation's public page (consultations app) at its questions and answers; this app's own
    questions page if the consultations app has no such page."""
    try:
        return reverse("consultations_public:detail", args=[consultation.pk]) + anchor
    except NoReverseMatch:
        return reverse("questions_public:list", args=[consultation.pk])


# --- Asking -----------------------------------------------------------------------------------------


def question_ask(
    *, acting_user: Any, company: Organisation, consultation: Consultation, text: Any, request: Any = None
) -> Question:
    """Ask a question in the name of `company` on a published consultation, before its questions deadline."""
    _require_signed_in(acting_user)
    if company.kind != OrganisationKind.COMPANY:
        raise NotFound(_("Organisation introuvable."))
    _require(acting_user, company, "questions.ask")
    cleaned = _clean_text(
        text,
        max_length=QUESTION_MAX_LENGTH,
        empty=_("Écrivez votre question."),
        too_long=_("Une question ne peut pas dépasser %(max)d caractères (la vôtre en compte %(length)d)."),
    )
    with transaction.atomic():
        try:
            locked = _locked_consultation(consultation)
        except Consultation.DoesNotExist:
            raise NotFound(_("Consultation introuvable.")) from None
        if locked.state not in PUBLIC_STATES:  # a draft does not exist for companies
            raise NotFound(_("Consultation introuvable."))
        now = clock.now()
        if locked.effective_state != State.PUBLISHED:
            raise DomainError(
                _("La consultation n'est plus en cours (%(state)s) : elle ne reçoit plus de questions.")
                % {"state": locked.get_effective_state_display()},
                code="questions_closed",
            )
        deadline = questions_deadline(locked)
        if deadline is None or now >= deadline:
            raise DomainError(
                _("La date limite des questions est passée (%(deadline)s) : la question n'est pas enregistrée.")
                % {"deadline": _local(deadline) if deadline else "—"},
                code="questions_closed",
            )
        question = _create_numbered(
            locked,
            kind=Kind.QUESTION,
            text=cleaned,
            asked_by=acting_user,
            asker_organisation=company,
            asker_email=acting_user.email,
            asked_at=now,
        )
        log_event(
            action="questions.question.asked",
            actor=acting_user,
            organisation=locked.organisation,
            obj=question,
            data={"consultation": locked.pk, "number": question.number, "company": company.pk},
            request=request,
        )
        answer_path = reverse("questions_buyer:answer", args=[locked.organisation.slug, locked.pk, question.pk])
        for person in _answerers(locked.organisation):
            send_templated_mail(
                template="questions/email/question_asked",
                to=[person.email],
                context={"consultation": locked, "question": question, "answer_path": answer_path},
                language=getattr(person, "language", "fr"),
            )
    return question


# --- Answering and informing --------------------------------------------------------------------------


def _locked_entry(entry: Question, organisation: Organisation, kind: str) -> Question:
    with scopes_disabled():
        found = (
            Question.objects.select_for_update(of=("self",))
            .select_related("consultation__organisation", "asked_by")
            .filter(pk=entry.pk, consultation__organisation=organisation, kind=kind)
            .first()
        )
    if found is None:
        raise NotFound(_("Question introuvable."))
    return found


def _publish_text(
    *,
    entry: Question,
    field: str,
    text: str,
    acting_user: Any,
    confirm_late: bool,
) -> tuple[bool, bool]:
    """Write the published `field` of `entry` (answer or information text), keeping the earlier published
    text when it changes. Returns (edited, late)."""
    consultation = entry.consultation
    _require_published(consultation)
    now = clock.now()
    edited = entry.published_at is not None
    if edited and getattr(entry, field) == text:
        raise DomainError(_("Le texte n'a pas changé : rien n'est publié."), code="unchanged")
    late = _check_late(consultation, now, confirm_late)
    if edited:
        AnswerRevision.objects.create(
            question=entry,
            previous_text=getattr(entry, field),
            previous_published_at=entry.updated_at or entry.published_at,
            replaced_at=now,
            replaced_by=acting_user,
        )
        entry.updated_at = now
    else:
        entry.published_at = now
    setattr(entry, field, text)
    entry.published_late = entry.published_late or late
    return edited, late


def question_answer(
    *,
    acting_user: Any,
    question: Question,
    answer: Any,
    question_text: Any = None,
    confirm_late: bool = False,
    request: Any = None,
) -> Question:
    """Answer (or edit the answer to) a question of the buyer's consultation, and publish it.

    `question_text`: the wording published with the answer, when the buyer rephrases the question to remove
    what would identify the asker (the asker's wording is kept in `original_text`)."""
    organisation = _organisation_of(question.consultation_id)
    _require(acting_user, organisation, "questions.answer")
    cleaned = _clean_answer(answer, _("Le texte de la réponse est vide."))
    with transaction.atomic():
        entry = _locked_entry(question, organisation, Kind.QUESTION)
        rephrased = None
        if question_text is not None:
            rephrased = _clean_text(
                question_text,
                max_length=QUESTION_MAX_LENGTH,
                empty=_("Le texte de la question publiée est vide."),
                too_long=_("La question publiée ne peut pas dépasser %(max)d caractères (elle en compte %(length)d)."),
            )
            if rephrased == entry.text:
                rephrased = None
        if rephrased is not None and entry.published_at is None:
            # Before publication the wording may change freely: the asker's own stays for the buyer.
            entry.original_text = entry.original_text or entry.text
            entry.text = rephrased
        elif rephrased is not None:
            raise DomainError(
                _("La question est déjà publiée : son texte ne change plus ; modifiez la réponse si besoin."),
                code="invalid",
            )
        edited, late = _publish_text(
            entry=entry, field="answer", text=cleaned, acting_user=acting_user, confirm_late=confirm_late
        )
        entry.answered_by = acting_user
        entry.save()
        log_event(
            action="questions.answer.edited" if edited else "questions.answer.published",
            actor=acting_user,
            organisation=organisation,
            obj=entry,
            data={
                "consultation": entry.consultation_id,
                "number": entry.number,
                "late": late,
                "rephrased": bool(entry.original_text),
            },
            request=request,
        )
        _diffuse(entry, edited=edited)
    return entry


def information_publish(
    *, acting_user: Any, consultation: Consultation, text: Any, confirm_late: bool = False, request: Any = None
) -> Question:
    """Publish information of the buyer's own on its consultation, diffused like an answer."""
    organisation = _organisation_of(consultation.pk)
    _require(acting_user, organisation, "questions.answer")
    cleaned = _clean_answer(text, _("Le texte de l'information est vide."))
    with transaction.atomic():
        try:
            locked = _locked_consultation(consultation)
        except Consultation.DoesNotExist:
            raise NotFound(_("Consultation introuvable.")) from None
        if locked.organisation_id != organisation.pk:
            raise NotFound(_("Consultation introuvable."))
        _require_published(locked)
        now = clock.now()
        late = _check_late(locked, now, confirm_late)
        entry = _create_numbered(
            locked,
            kind=Kind.INFORMATION,
            text=cleaned,
            asked_at=now,
            answered_by=acting_user,
            published_at=now,
            published_late=late,
        )
        log_event(
            action="questions.information.published",
            actor=acting_user,
            organisation=organisation,
            obj=entry,
            data={"consultation": locked.pk, "number": entry.number, "late": late},
            request=request,
        )
        _diffuse(entry, edited=False)
    return entry


def information_edit(
    *, acting_user: Any, information: Question, text: Any, confirm_late: bool = False, request: Any = None
) -> Question:
    """Correct published information: the earlier text is kept and everyone is told again."""
    organisation = _organisation_of(information.consultation_id)
    _require(acting_user, organisation, "questions.answer")
    cleaned = _clean_answer(text, _("Le texte de l'information est vide."))
    with transaction.atomic():
        entry = _locked_entry(information, organisation, Kind.INFORMATION)
        _edited, late = _publish_text(
            entry=entry, field="text", text=cleaned, acting_user=acting_user, confirm_late=confirm_late
        )
        entry.answered_by = acting_user
        entry.save()
        log_event(
            action="questions.information.edited",
            actor=acting_user,
            organisation=organisation,
            obj=entry,
            data={"consultation": entry.consultation_id, "number": entry.number, "late": late},
            request=request,
        )
        _diffuse(entry, edited=True)
    return entry
