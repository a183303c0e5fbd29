"""The practice consultation (consultation d'entraînement): a permanent test consultation where any
company user practises the whole submission, gets a receipt, then sees a mock opening of its own bid.

- `practice_consultation()`: created on first use (owned by the platform organisation, `is_practice`),
  always published, its deadline rolling (the end of next month, moved on when fewer than
  `ROLL_BEFORE` days are left; `tasks.practice_deadline_task` does it every few hours too). Never listed
  on the portal: search, feeds and lists exclude `is_practice`.
- Its opening key is a training key kept by the platform from the start (`sealing.services`
  `create_consultation_key` -> a practice `ConsultationKey` with the identity sealed by the platform key).
- `mock_opening()`: decrypts the company's own last practice bid with that key, in the request (practice
  bids are limited to `PRACTICE_SIZE_LIMIT`), checks every file like the real opening (SHA-256 against
  the receipt, ZIP test) and shows the result. Nothing decrypted is kept. A company never sees another
  company's practice bid.

Practice bids never count in indicators (statistics must exclude `consultation__is_practice`).
"""

from __future__ import annotations

import calendar
import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.audit.services import log_event
from ebourgogne.consultations.models import Consultation, State
from ebourgogne.core import clock
from ebourgogne.core.clock import PARIS
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.organisations.roles import roles_grant
from ebourgogne.organisations.selectors import roles_of
from ebourgogne.sealing.models import ConsultationKey
from ebourgogne.tenders import uploads
from ebourgogne.tenders.models import Bid, BidState, FileState, OpenedStatus
from ebourgogne.tenders.opening import decrypt_stream

PRACTICE_REFERENCE = "ENTRAINEMENT"
PRACTICE_SIZE_LIMIT = 100 * 1024 * 1024  # 100 Mo: the mock opening decrypts within the request
ROLL_BEFORE = dt.timedelta(days=10)
SUBMIT = "bids.submit"


def practice_deadline(now: dt.datetime | None = None) -> dt.datetime:
    """The end of next month, 12:00 Paris time (UTC stored)."""
    local = (now or clock.now()).astimezone(PARIS)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    last = calendar.monthrange(year, month)[1]
    return dt.datetime(year, month, last, 12, 0, tzinfo=PARIS).astimezone(dt.UTC)


def _fields(now: dt.datetime) -> dict[str, Any]:
    return {
        "title": _("Consultation d'entraînement au dépôt de plis électroniques"),
        "object": _(
            "Consultation fictive et permanente : déposez un pli d'essai comme pour une vraie consultation, "
            "recevez votre accusé de réception, puis vérifiez votre pli par une ouverture simulée. Aucun "
            "acheteur ne voit vos plis d'entraînement."
        ),
        "contract_type": "services",
        "procedure": "mapa",
        "state": State.PUBLISHED,
        "published_at": now,
        "bids_deadline": practice_deadline(now),
        "is_practice": True,
        "bid_size_limit": PRACTICE_SIZE_LIMIT,
        "contact_name": "e-bourgogne",
    }


def practice_consultation() -> Consultation:
    """The practice consultation, created on first use, published, with a deadline in the future and its
    training key."""
    from ebourgogne.organisations.services import platform_organisation

    with scopes_disabled():
        consultation = Consultation.objects.filter(is_practice=True).order_by("pk").first()
        if consultation is None:
            now = clock.now()
            try:
                with transaction.atomic(), translation.override("fr"):  # stored once, in French
                    consultation = Consultation.objects.create(
                        organisation=platform_organisation(), reference=PRACTICE_REFERENCE, **_fields(now)
                    )
                    log_event(
                        action="tenders.practice.created", organisation=consultation.organisation, obj=consultation
                    )
            except IntegrityError:  # created by a concurrent request
                consultation = Consultation.objects.filter(is_practice=True).order_by("pk").first()
                assert consultation is not None
        _ensure_open(consultation)
        _ensure_key(consultation)
    return consultation


def _ensure_open(consultation: Consultation) -> None:
    """Published with a deadline at least ROLL_BEFORE away (written directly: no signal, no index)."""
    now = clock.now()
    if (
        consultation.state == State.PUBLISHED
        and consultation.bids_deadline is not None
        and consultation.bids_deadline - now >= ROLL_BEFORE
    ):
        return
    deadline = practice_deadline(now)
    Consultation.objects.filter(pk=consultation.pk).update(
        state=State.PUBLISHED, bids_deadline=deadline, closed_at=None, opened_at=None, ended_at=None
    )
    consultation.state, consultation.bids_deadline = State.PUBLISHED, deadline


def _ensure_key(consultation: Consultation) -> ConsultationKey:
    from ebourgogne.sealing.services import create_consultation_key

    key = ConsultationKey.objects.filter(consultation=consultation).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            return create_consultation_key(consultation)
    except (IntegrityError, DomainError):  # made by a concurrent request
        return ConsultationKey.objects.get(consultation=consultation)


def roll_practice_deadline() -> dt.datetime | None:
    """The periodic job: keep the practice consultation open (when it exists). Returns its deadline."""
    with scopes_disabled():
        consultation = Consultation.objects.filter(is_practice=True).order_by("pk").first()
        if consultation is None:
            return None
        _ensure_open(consultation)
        return consultation.bids_deadline


# --- The mock opening --------------------------------------------------------------------------------


def _require(acting_user: Any, company: Any) -> None:
    if acting_user is None or not getattr(acting_user, "is_authenticated", False):
        raise PermissionRefused(_("Connectez-vous pour effectuer cette action."))
    roles = roles_of(user=acting_user, organisation=company) if company.is_active else set()
    if not roles:
        raise NotFound(_("Organisation introuvable."))
    if not roles_grant(roles, SUBMIT):
        raise PermissionRefused(_("Votre rôle dans cette entreprise ne permet pas de déposer des plis."))


def practice_bids(company: Any) -> list[Bid]:
    """The company's deposited practice bids, newest first (never another company's)."""
    with scopes_disabled():
        return list(
            Bid.objects.filter(consultation__is_practice=True, company=company, state=BidState.DEPOSITED)
            .select_related("receipt")
            .prefetch_related("files")
            .order_by("-deposited_at", "-pk")
        )


@dataclass
class MockFile:
    name: str
    envelope: str
    ciphertext_size: int
    sha256: str  # as on the receipt
    found_sha256: str = ""
    size: int | None = None
    status: str = OpenedStatus.OK
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == OpenedStatus.OK

    @property
    def hash_ok(self) -> bool:
        return bool(self.found_sha256) and self.found_sha256 == self.sha256

    @property
    def status_label(self) -> str:
        return str(OpenedStatus(self.status).label)


@dataclass
class MockOpening:
    bid: Bid
    files: list[MockFile] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.files) and all(item.ok for item in self.files)


def mock_opening(*, acting_user: Any, company: Any, bid_id: int | None = None, request: Any = None) -> MockOpening:
    """Decrypt the company's practice bid (the last deposited, or `bid_id` among its own) with the training
    key and check each file as the real opening does. Nothing decrypted is kept."""
    from ebourgogne.sealing.services import retained_identity

    _require(acting_user, company)
    bids = practice_bids(company)
    if bid_id is not None:
        bids = [bid for bid in bids if bid.pk == bid_id]
    if not bids:
        raise NotFound(_("Aucun pli d'entraînement déposé par cette entreprise."))
    bid = bids[0]
    with scopes_disabled():
        key = ConsultationKey.objects.filter(consultation_id=bid.consultation_id, is_practice=True).first()
    identity = retained_identity(key) if key is not None else None
    if not identity:
        raise DomainError(_("La clé d'entraînement est indisponible : réessayez plus tard."), code="busy")
    result = MockOpening(bid=bid)
    for bid_file in bid.files.all():
        item = MockFile(
            name=bid_file.name, envelope=bid_file.envelope, ciphertext_size=bid_file.size, sha256=bid_file.sha256
        )
        result.files.append(item)
        if bid_file.state != FileState.COMPLETE:
            item.status, item.detail = OpenedStatus.DECRYPT_FAILED, _("Fichier non reçu en entier.")
            continue
        with tempfile.TemporaryDirectory(prefix="practice-") as folder:
            target = Path(folder) / "plain"
            try:
                with uploads.open_ciphertext(bid_file) as source:
                    decrypted = decrypt_stream(source, target, identity, expected_sha256=bid_file.sha256)
            except OSError as exc:
                item.status, item.detail = OpenedStatus.DECRYPT_FAILED, str(exc)
                continue
        item.status, item.detail, item.size, item.found_sha256 = (
            decrypted.status,
            str(decrypted.detail),
            decrypted.size,
            decrypted.sha256,
        )
    log_event(
        action="tenders.practice.mock_opened",
        actor=acting_user,
        organisation=company,
        obj=bid,
        data={"files": [{"name": item.name, "status": item.status} for item in result.files]},
        request=request,
    )
    return result
