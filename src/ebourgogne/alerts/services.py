"""Alerts: their rules (criteria, limits, ownership), the matches recorded by percolation and the mails.

Ownership: an alert belongs to the user who made it (a member of a company), optionally in the name of
one of their companies; nobody else reads, changes or receives it (selectors.owned_alert).

Delivery and its sent-log (`AlertDelivery`, unique per alert and period):
- immediate: after a consultation is matched (tasks.percolate_consultation), one mail per new match,
  period "c<consultation id>";
- daily / weekly digests (tasks.daily_digests, tasks.weekly_digests): every match not yet delivered and
  recorded before the period's end, period "d<day>" or "w<ISO week>" (Europe/Paris); alerts are handled
  by batches, each batch in one transaction with its mails (queued on commit). A run that stops in the
  middle keeps the batches it committed and loses the one it was in; run again, it skips the alerts that
  have their log row for the period and sends the others: nothing twice, nothing missed. A day the
  scheduler did not run is not lost either: the next digest takes every undelivered match.
  (Mails are queued when the transaction commits: a process killed between the commit and the queueing
  loses those mails; that window is the task queue's, shared by every mail of the platform.)

Every alert mail carries a signed one-click unsubscribe link (RFC 8058: List-Unsubscribe with the https
link, and a mailto when EBOURGOGNE_ALERTS_UNSUBSCRIBE_MAILTO names an address that processes them;
List-Unsubscribe-Post: List-Unsubscribe=One-Click): the POST pauses the alert.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.translation import gettext as _

from ebourgogne.alerts import percolation
from ebourgogne.alerts.models import (
    Alert,
    AlertDelivery,
    AlertKey,
    AlertMatch,
    Delivery,
    FollowMute,
    new_feed_token,
)
from ebourgogne.audit.services import log_event
from ebourgogne.consultations.models import ContractType, CpvCode, Procedure
from ebourgogne.core import clock
from ebourgogne.core.clock import PARIS
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.notifications.services import send_templated_mail
from ebourgogne.organisations.seed_data import DEPARTMENTS
from ebourgogne.search import text

MAX_NAME = 120
MAX_QUERY_CHARS = text.MAX_QUERY_CHARS
MAX_WORDS = text.MAX_QUERY_WORDS
MAX_VALUES = 20  # CPV codes, departments, buyers: each at most
MAX_VALUE = Decimal(10**13)
MAX_ALERTS_PER_USER = 100
DIGEST_BATCH = 200
DIGEST_ITEMS = 50  # consultations listed in one mail; the page and the feed give the rest
UNSUBSCRIBE_SALT = "ebourgogne.alerts.unsubscribe"
FOLLOW_SALT = "ebourgogne.alerts.follow"
UNSUBSCRIBE_MAX_AGE = dt.timedelta(days=180)

_CPV = re.compile(r"^(\d{8})(?:-\d)?$")
_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,80}$")
_SEPARATORS = re.compile(r"[\s,;]+")


class InvalidLink(NotFound):
    code = "invalid_link"


class ExpiredLink(DomainError):
    code = "expired_link"


# --- Criteria -----------------------------------------------------------------------------------------


def split_values(raw: Any) -> list[str]:
    """A list from a list, or from a text of values separated by spaces, commas or semicolons."""
    if raw is None:
        return []
    if isinstance(raw, str):
        return [value for value in _SEPARATORS.split(raw.strip()) if value]
    return [str(value).strip() for value in raw if str(value).strip()]


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def clean_name(raw: Any) -> str:
    name = " ".join(str(raw or "").split())
    if not name:
        raise DomainError(_("Donnez un nom à l'alerte, par exemple « Voirie en Côte-d'Or »."), code="name")
    if len(name) > MAX_NAME:
        raise DomainError(_("Le nom de l'alerte tient en %(max)d caractères au plus.") % {"max": MAX_NAME}, code="name")
    return name


def clean_q(raw: Any) -> str:
    q = " ".join(str(raw or "").split())
    if len(q) > MAX_QUERY_CHARS:
        raise DomainError(
            _("Les mots-clés tiennent en %(max)d caractères au plus.") % {"max": MAX_QUERY_CHARS}, code="q"
        )
    kept = [w for w in text.words(q) if w not in text.STOP_WORDS]
    if len(dict.fromkeys(kept)) > MAX_WORDS:
        raise DomainError(
            _(
                "Une alerte compte %(max)d mots-clés au plus (tous doivent figurer dans la consultation) : "
                "retirez-en, ou créez plusieurs alertes."
            )
            % {"max": MAX_WORDS},
            code="q",
        )
    return q


def _too_many(label: str, field: str) -> DomainError:
    return DomainError(
        _("%(label)s : %(max)d valeurs au plus par alerte.") % {"label": label, "max": MAX_VALUES}, code=field
    )


def clean_cpv_codes(raw: Any) -> list[str]:
    codes = []
    for value in split_values(raw):
        found = _CPV.match(value)
        if not found:
            raise DomainError(
                _("« %(value)s » n'est pas un code CPV : 8 chiffres, par exemple 45000000.") % {"value": value[:20]},
                code="cpv_codes",
            )
        codes.append(found.group(1))
    codes = _unique(codes)
    if len(codes) > MAX_VALUES:
        raise _too_many(_("Codes CPV"), "cpv_codes")
    known = set(CpvCode.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise DomainError(
            _("Code CPV inconnu : %(codes)s.") % {"codes": ", ".join(unknown[:5])},
            code="cpv_codes",
        )
    return codes


def _clean_choices(raw: Any, allowed: dict, label: str, field: str) -> list[str]:
    values = _unique(split_values(raw))
    wrong = [value for value in values if value not in allowed]
    if wrong:
        raise DomainError(
            _("%(label)s : valeur inconnue « %(value)s ».") % {"label": label, "value": wrong[0][:40]}, code=field
        )
    if len(values) > MAX_VALUES:
        raise _too_many(label, field)
    return values


def clean_departments(raw: Any) -> list[str]:
    return _clean_choices(raw, DEPARTMENTS, _("Départements"), "departments")


def clean_procedures(raw: Any) -> list[str]:
    return _clean_choices(raw, dict(Procedure.choices), _("Procédures"), "procedures")


def clean_contract_types(raw: Any) -> list[str]:
    return _clean_choices(raw, dict(ContractType.choices), _("Types de marché"), "contract_types")


def clean_buyers(raw: Any) -> list[str]:
    from ebourgogne.organisations.models import Organisation
    from ebourgogne.organisations.roles import OrganisationKind

    slugs = _unique(split_values(raw))
    if len(slugs) > MAX_VALUES:
        raise _too_many(_("Acheteurs"), "buyers")
    bad = [slug for slug in slugs if not _SLUG.match(slug)]
    known = set(
        Organisation.objects.filter(
            slug__in=[s for s in slugs if s not in bad], kind=OrganisationKind.BUYER, is_active=True
        ).values_list("slug", flat=True)
    )
    unknown = [slug for slug in slugs if slug not in known]
    if unknown:
        raise DomainError(
            _("Aucun acheteur public ne porte l'identifiant « %(slug)s ».") % {"slug": unknown[0][:80]},
            code="buyers",
        )
    return slugs


def clean_value(raw: Any, field: str) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = Decimal(str(raw).strip().replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise DomainError(_("Saisissez un montant en euros, par exemple 90000."), code=field) from None
    if not value.is_finite() or value < 0 or value > MAX_VALUE:
        raise DomainError(_("Saisissez un montant entre 0 et 10 000 milliards d'euros."), code=field)
    return value.quantize(Decimal("0.01"))


def clean_criteria(raw: dict) -> dict:
    """The alert's criteria from raw input, or a DomainError naming the field (`code`)."""
    criteria = {
        "q": clean_q(raw.get("q")),
        "cpv_codes": clean_cpv_codes(raw.get("cpv_codes")),
        "departments": clean_departments(raw.get("departments")),
        "buyers": clean_buyers(raw.get("buyers")),
        "procedures": clean_procedures(raw.get("procedures")),
        "contract_types": clean_contract_types(raw.get("contract_types")),
        "value_min": clean_value(raw.get("value_min"), "value_min"),
        "value_max": clean_value(raw.get("value_max"), "value_max"),
    }
    check_criteria(criteria)
    return criteria


def check_criteria(criteria: dict) -> None:
    low, high = criteria.get("value_min"), criteria.get("value_max")
    if low is not None and high is not None and low > high:
        raise DomainError(_("La valeur maximale est inférieure à la valeur minimale."), code="value_max")
    if not (
        text.query_words(criteria.get("q", ""))
        or any(criteria.get(name) for name in ("cpv_codes", "departments", "buyers", "procedures", "contract_types"))
        or low is not None
        or high is not None
    ):
        raise DomainError(
            _(
                "Une alerte sans critère recevrait toutes les consultations : choisissez au moins un critère "
                "(mots-clés, code CPV, département, acheteur, procédure, type de marché ou montant)."
            ),
            code="__all__",
        )


def clean_delivery(raw: Any) -> str:
    if raw not in Delivery.values:
        raise DomainError(_("Choisissez quand recevoir l'alerte."), code="delivery")
    return raw


# --- Alerts ---------------------------------------------------------------------------------------------


def companies_of(user: Any):
    """The active companies `user` is a member of, by name."""
    from django_scopes import scopes_disabled

    from ebourgogne.organisations.models import Membership, Organisation
    from ebourgogne.organisations.roles import OrganisationKind

    if not getattr(user, "is_authenticated", False):
        return []
    with scopes_disabled():
        ids = Membership.objects.filter(
            user=user, organisation__kind=OrganisationKind.COMPANY, organisation__is_active=True
        ).values("organisation_id")
        return list(Organisation.objects.filter(pk__in=ids).order_by("name"))


def _company(user: Any, company: Any):
    if company is None or company == "":
        return None
    pk = getattr(company, "pk", company)
    for candidate in companies_of(user):
        if str(candidate.pk) == str(pk):
            return candidate
    raise PermissionRefused(_("Vous n'êtes pas membre de cette entreprise."))


def index_alert(alert: Alert) -> None:
    """File the alert in the percolation index (its keys), or take it out when paused."""
    AlertKey.objects.filter(alert=alert).delete()
    if alert.is_active:
        keys = percolation.alert_keys(percolation.compile_alert(alert))
        AlertKey.objects.bulk_create([AlertKey(alert=alert, key=key) for key in keys])


def _summary(alert: Alert) -> dict:
    return {
        "name": alert.name,
        "q": alert.q,
        "cpv_codes": alert.cpv_codes,
        "departments": alert.departments,
        "buyers": alert.buyers,
        "procedures": alert.procedures,
        "contract_types": alert.contract_types,
        "value_min": None if alert.value_min is None else str(alert.value_min),
        "value_max": None if alert.value_max is None else str(alert.value_max),
        "delivery": alert.delivery,
    }


def create_alert(
    *, owner: Any, name: Any, criteria: dict, delivery: Any, company: Any = None, request: Any = None
) -> Alert:
    """A new alert of `owner` (a member of a company). `criteria` is raw input (clean_criteria)."""
    companies = companies_of(owner)
    if not companies:
        raise PermissionRefused(
            _("Les alertes sont réservées aux membres d'une entreprise inscrite sur la plateforme.")
        )
    values = {"name": clean_name(name), **clean_criteria(criteria), "delivery": clean_delivery(delivery)}
    company = _company(owner, company)
    now = clock.now()
    with transaction.atomic():
        if Alert.objects.filter(owner=owner).count() >= MAX_ALERTS_PER_USER:
            raise DomainError(
                _("Vous avez déjà %(max)d alertes : supprimez-en une avant d'en créer une autre.")
                % {"max": MAX_ALERTS_PER_USER}
            )
        alert = Alert(owner=owner, company=company, created_at=now, updated_at=now, **values)
        alert.terms = percolation.keyword_terms(alert.q)
        alert.compiled = percolation.precompile(alert)
        alert.save()
        index_alert(alert)
        log_event(action="alerts.alert.created", actor=owner, obj=alert, data=_summary(alert), request=request)
    return alert


def _own(alert: Alert, acting_user: Any) -> Alert:
    locked = Alert.objects.select_for_update().filter(pk=alert.pk, owner_id=acting_user.pk).first()
    if locked is None:
        raise NotFound(_("Alerte introuvable."))
    return locked


def update_alert(
    *, alert: Alert, acting_user: Any, name: Any, criteria: dict, delivery: Any, company: Any = None, request=None
) -> Alert:
    values = {"name": clean_name(name), **clean_criteria(criteria), "delivery": clean_delivery(delivery)}
    company = _company(acting_user, company)
    with transaction.atomic():
        locked = _own(alert, acting_user)
        before = _summary(locked)
        for field, value in values.items():
            setattr(locked, field, value)
        locked.company = company
        locked.terms = percolation.keyword_terms(locked.q)
        locked.compiled = percolation.precompile(locked)
        locked.updated_at = clock.now()
        locked.save()
        index_alert(locked)
        log_event(
            action="alerts.alert.updated",
            actor=acting_user,
            obj=locked,
            data={"before": before, "after": _summary(locked)},
            request=request,
        )
    return locked


def set_active(*, alert: Alert, acting_user: Any, active: bool, request: Any = None) -> Alert:
    with transaction.atomic():
        locked = _own(alert, acting_user)
        if locked.is_active != active:
            locked.is_active = active
            locked.updated_at = clock.now()
            locked.save(update_fields=["is_active", "updated_at"])
            index_alert(locked)
            log_event(
                action="alerts.alert.resumed" if active else "alerts.alert.paused",
                actor=acting_user,
                obj=locked,
                request=request,
            )
    return locked


def delete_alert(*, alert: Alert, acting_user: Any, request: Any = None) -> None:
    with transaction.atomic():
        locked = _own(alert, acting_user)
        log_event(action="alerts.alert.deleted", actor=acting_user, obj=locked, data=_summary(locked), request=request)
        locked.delete()


def regenerate_feed_token(*, alert: Alert, acting_user: Any, request: Any = None) -> Alert:
    """A new private feed address; the former one stops working at once."""
    with transaction.atomic():
        locked = _own(alert, acting_user)
        locked.feed_token = new_feed_token()
        locked.save(update_fields=["feed_token"])
        log_event(action="alerts.feed.regenerated", actor=acting_user, obj=locked, request=request)
    return locked


# --- Unsubscribe ----------------------------------------------------------------------------------------


def unsubscribe_token(alert: Alert) -> str:
    return signing.dumps({"a": alert.pk, "u": alert.owner_id}, salt=UNSUBSCRIBE_SALT, compress=True)


def _absolute(path: str) -> str:
    return f"{settings.BASE_URL}{path}"


def unsubscribe_url(alert: Alert) -> str:
    return _absolute(reverse("alerts_public:unsubscribe", kwargs={"token": unsubscribe_token(alert)}))


def unsubscribe_mailto() -> str:
    """The address that processes unsubscribe requests by e-mail (EBOURGOGNE_ALERTS_UNSUBSCRIBE_MAILTO), or
    "" when none is set: then the headers offer the one-click https link only, rather than an address
    nobody reads."""
    return (getattr(settings, "ALERTS_UNSUBSCRIBE_MAILTO", "") or "").strip()


def list_unsubscribe_headers(url: str, token: str = "") -> dict[str, str]:
    """RFC 2369 / RFC 8058 headers: the https link (one-click POST) first, then a mailto when configured."""
    targets = [f"<{url}>"]
    address = unsubscribe_mailto()
    if address:
        targets.append(f"<mailto:{address}?subject=unsubscribe" + (f"%20{token}" if token else "") + ">")
    return {"List-Unsubscribe": ", ".join(targets), "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def alert_from_token(token: str) -> Alert:
    """The alert named by an unsubscribe token; InvalidLink (tampered, or the alert is gone) or ExpiredLink."""
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE)
    except signing.SignatureExpired:
        raise ExpiredLink(
            _(
                "Ce lien de désabonnement a expiré. Connectez-vous et mettez l'alerte en pause depuis la page "
                "« Mes alertes »."
            )
        ) from None
    except signing.BadSignature:
        raise InvalidLink(
            _("Ce lien de désabonnement n'est pas valide (il a peut-être été coupé ou modifié).")
        ) from None
    if not isinstance(payload, dict):
        raise InvalidLink(_("Ce lien de désabonnement n'est pas valide (il a peut-être été coupé ou modifié)."))
    alert = Alert.objects.filter(pk=payload.get("a"), owner_id=payload.get("u")).select_related("owner").first()
    if alert is None:
        raise InvalidLink(_("Cette alerte n'existe plus : vous ne recevrez plus de courriel à son sujet."))
    return alert


def unsubscribe(*, token: str, request: Any = None) -> Alert:
    """Pause the alert named by the token (one-click, RFC 8058): no more mails; the owner may resume it."""
    alert = alert_from_token(token)
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.is_active:
            locked.is_active = False
            locked.updated_at = clock.now()
            locked.save(update_fields=["is_active", "updated_at"])
            index_alert(locked)
            log_event(action="alerts.alert.unsubscribed", actor=None, obj=locked, data={"owner": locked.owner_id})
    return locked


# --- Followed consultations (DCE downloads, questions) ---------------------------------------------------


def follow_token(consultation_id: int, email: str) -> str:
    return signing.dumps({"c": consultation_id, "e": email.strip().lower()}, salt=FOLLOW_SALT, compress=True)


def follow_unsubscribe_url(consultation_id: int, email: str) -> str:
    token = follow_token(consultation_id, email)
    return _absolute(reverse("alerts_public:follow_unsubscribe", kwargs={"token": token}))


def follow_headers(consultation_id: int, email: str) -> dict[str, str]:
    """RFC 8058 headers of a mail about a followed consultation (rectification, answer, new deadline...)."""
    return list_unsubscribe_headers(follow_unsubscribe_url(consultation_id, email))


def alerts_page_url() -> str:
    return _absolute(reverse("alerts:list"))


def follow_from_token(token: str) -> tuple[int, str]:
    try:
        payload = signing.loads(token, salt=FOLLOW_SALT, max_age=UNSUBSCRIBE_MAX_AGE)
    except signing.SignatureExpired:
        raise ExpiredLink(
            _("Ce lien de désabonnement a expiré. Connectez-vous : la page « Mes alertes » liste vos suivis.")
        ) from None
    except signing.BadSignature:
        raise InvalidLink(
            _("Ce lien de désabonnement n'est pas valide (il a peut-être été coupé ou modifié).")
        ) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("c"), int) or not payload.get("e"):
        raise InvalidLink(_("Ce lien de désabonnement n'est pas valide (il a peut-être été coupé ou modifié)."))
    return payload["c"], str(payload["e"])


def is_muted(consultation_id: int, email: str) -> bool:
    return FollowMute.objects.filter(consultation_id=consultation_id, email=email.strip().lower()).exists()


def muted_emails(consultation_id: int) -> set[str]:
    return set(FollowMute.objects.filter(consultation_id=consultation_id).values_list("email", flat=True))


def stop_following(*, consultation_id: int, email: str, acting_user: Any = None, request: Any = None) -> None:
    """No more mails about the consultation to `email`: its DCE registrations are unsubscribed (the DCE's
    own rule) and the address is muted for the questions' mails."""
    from django_scopes import scopes_disabled

    from ebourgogne.consultations.models import Consultation
    from ebourgogne.dce.models import Downloader
    from ebourgogne.dce.services import unsubscribe as dce_unsubscribe
    from ebourgogne.dce.services import unsubscribe_token as dce_token

    email = email.strip().lower()
    with scopes_disabled(), transaction.atomic():
        if not Consultation.objects.filter(pk=consultation_id).exists():
            raise InvalidLink(_("Cette consultation n'existe plus."))
        for downloader in Downloader.objects.filter(
            consultation_id=consultation_id, email__iexact=email, unsubscribed_at__isnull=True
        ):
            dce_unsubscribe(token=dce_token(downloader))
        _mute, created = FollowMute.objects.get_or_create(
            consultation_id=consultation_id, email=email, defaults={"muted_at": clock.now()}
        )
        if created:
            log_event(
                action="alerts.follow.stopped",
                actor=acting_user,
                data={"consultation": consultation_id, "email": email},
                request=request,
            )


# --- Matches and mails ----------------------------------------------------------------------------------


def record_matches(consultation_id: int, alert_ids: list[int]) -> list[AlertMatch]:
    """Record the matches not yet known (an alert is told once of a consultation); returns the new ones."""
    if not alert_ids:
        return []
    known = set(
        AlertMatch.objects.filter(consultation_id=consultation_id, alert_id__in=alert_ids).values_list(
            "alert_id", flat=True
        )
    )
    now = clock.now()
    fresh = [
        AlertMatch(alert_id=pk, consultation_id=consultation_id, matched_at=now) for pk in alert_ids if pk not in known
    ]
    AlertMatch.objects.bulk_create(fresh, ignore_conflicts=True)
    return list(
        AlertMatch.objects.filter(
            consultation_id=consultation_id, alert_id__in=[m.alert_id for m in fresh], matched_at=now
        ).select_related("alert", "alert__owner")
    )


def _items(consultation_ids: list[int]) -> dict[int, dict]:
    """What a mail shows of each consultation (still public), by id."""
    from ebourgogne.search.models import SearchEntry
    from ebourgogne.search.selectors import consultation_url_template

    url = consultation_url_template()
    entries = SearchEntry.objects.filter(consultation_id__in=consultation_ids)
    return {
        entry.consultation_id: {
            "title": entry.title,
            "reference": entry.reference,
            "buyer_name": entry.buyer_name,
            "commune": entry.commune,
            "department": entry.department,
            "bids_deadline": entry.bids_deadline,
            "url": _absolute(url.format(pk=entry.consultation_id)),
        }
        for entry in entries
    }


def _send(
    alert: Alert, template: str, consultation_ids: list[int], extra: dict | None = None, known: dict | None = None
) -> None:
    owner = alert.owner
    token = unsubscribe_token(alert)
    url = _absolute(reverse("alerts_public:unsubscribe", kwargs={"token": token}))
    found = _items(consultation_ids) if known is None else known
    items = sorted(
        (found[pk] for pk in consultation_ids if pk in found), key=lambda item: (item["bids_deadline"], item["url"])
    )
    send_templated_mail(
        template=template,
        to=[owner.email],
        language=getattr(owner, "language", "fr") or "fr",
        context={
            "alert_name": alert.name,
            "items": items[:DIGEST_ITEMS],
            "more": max(0, len(items) - DIGEST_ITEMS),
            "count": len(items),
            "alerts_url": _absolute(reverse("alerts:list")),
            "feed_url": _absolute(reverse("alerts_public:feed", kwargs={"token": alert.feed_token})),
            "unsubscribe_url": url,
            **(extra or {}),
        },
        headers=list_unsubscribe_headers(url),
    )


def deliver_immediately(matches: list[AlertMatch]) -> int:
    """One mail per new match of an active immediate alert, logged as period "c<consultation id>"."""
    sent = 0
    for match in matches:
        alert = match.alert
        if alert.delivery != Delivery.IMMEDIATE or not alert.is_active:
            continue
        try:
            with transaction.atomic():
                delivery = AlertDelivery.objects.create(
                    alert=alert, period=f"c{match.consultation_id}", sent_at=clock.now(), matches=1
                )
                AlertMatch.objects.filter(pk=match.pk).update(delivery=delivery)
                _send(alert, "alerts/email/immediate", [match.consultation_id])
        except IntegrityError:
            continue  # already sent (another run of the same consultation)
        sent += 1
    return sent


def digest_period(kind: str, now: dt.datetime) -> tuple[str, dt.datetime]:
    """The period a digest run at `now` closes, and its end (Europe/Paris): yesterday, or last week."""
    today = now.astimezone(PARIS).date()
    if kind == Delivery.DAILY:
        day = today - dt.timedelta(days=1)
        end = today
        key = f"d{day.isoformat()}"
    else:
        monday = today - dt.timedelta(days=today.weekday())
        year, week, _ = (monday - dt.timedelta(days=7)).isocalendar()
        end = monday
        key = f"w{year}-W{week:02d}"
    end_at = dt.datetime.combine(end, dt.time(0, 0), tzinfo=PARIS).astimezone(dt.UTC)
    return key, end_at


def build_digests(kind: str, *, now: dt.datetime | None = None, batch: int = DIGEST_BATCH) -> int:
    """Send the digests of `kind` (daily or weekly) for the period just ended; returns how many were sent.
    Idempotent (see the module's docstring)."""
    now = now or clock.now()
    period, end = digest_period(kind, now)
    pending = (
        AlertMatch.objects.filter(
            delivery__isnull=True, matched_at__lt=end, alert__delivery=kind, alert__is_active=True
        )
        .values_list("alert_id", flat=True)
        .distinct()
        .order_by("alert_id")
    )
    sent = 0
    last = 0
    while True:
        ids = list(pending.filter(alert_id__gt=last)[:batch])
        if not ids:
            return sent
        last = ids[-1]
        with transaction.atomic():
            done = set(AlertDelivery.objects.filter(alert_id__in=ids, period=period).values_list("alert_id", flat=True))
            todo = [pk for pk in ids if pk not in done]
            matches: dict[int, list[int]] = {}
            for alert_id, consultation_id in AlertMatch.objects.filter(
                alert_id__in=todo, delivery__isnull=True, matched_at__lt=end
            ).values_list("alert_id", "consultation_id"):
                matches.setdefault(alert_id, []).append(consultation_id)
            alerts = Alert.objects.filter(pk__in=todo).select_related("owner").in_bulk()
            deliveries = AlertDelivery.objects.bulk_create(
                [
                    AlertDelivery(alert_id=pk, period=period, sent_at=now, matches=len(matches.get(pk, [])))
                    for pk in todo
                ]
            )
            known = _items(sorted({pk for found in matches.values() for pk in found}))
            # The batch's matches marked delivered in one statement: each by its alert's log row of the period.
            AlertMatch.objects.filter(alert_id__in=todo, delivery__isnull=True, matched_at__lt=end).update(
                delivery=Subquery(
                    AlertDelivery.objects.filter(alert_id=OuterRef("alert_id"), period=period).values("pk")[:1]
                )
            )
            for delivery in deliveries:
                _send(
                    alerts[delivery.alert_id], f"alerts/email/{kind}", matches.get(delivery.alert_id, []), known=known
                )
                sent += 1
