"""The minutes (procès-verbal) of a closed session: generated as a PDF from the session record, then signed
electronically (PAdES) by the president and the members who must sign, in order, and kept immutable.

The rules, and why:

- **Generating.** Once the session is closed (state `closed`), the buyer's staff or the commission's
  president generate the minutes from `session.session_record(meeting)`: buyer, commission, date and
  place, attendance (voices, seats, remote, represented, left), quorum and how it was computed, agenda
  items with the opening of bids (members who typed their passphrase, bids opened, late or superseded
  ones, problems), decisions and votes, annexes (the opening reports, deposit registers and documents,
  with their SHA-256), then the list of the expected signatures, in order. The PDF is written with
  core/pdf.py (fpdf2): every font embedded (DejaVu), title, author, subject, language (fr), creation date
  and an XMP metadata packet. It is **PDF/A-like, not validated PDF/A**: no output intent (ICC profile)
  and no conformance checker run, so it does not claim PDF/A in its metadata.
- **Who signs.** The president first (when they sat), then the members chosen by whoever generates,
  among the members who sat (present, remote, or who left during the session); by default the president
  and the members with a deliberative voice present or remote. The president, when they sat, cannot be
  left out. Each signer is a `MinutesSignature` row with its order.
- **Signing in order.** Only the next signer in order may sign; someone else in the list is told whose
  turn it is; someone not in the list is refused; nobody signs twice. Each signature is a PAdES B-T
  signature (signatures.services.sign_pdf) in a new field, appended as an incremental update, so that
  every earlier signature still covers exactly its revision. The new PDF is checked (every signature
  intact, made with the expected certificate, in order) before it replaces the current one. A wrong
  password, a revoked or expired certificate, an unavailable timestamp authority: a clear message,
  nothing changed.
- **Immutable.** Every revision is stored under a new non-guessable name (the earlier files are kept:
  each one is the prefix of the next); `Minutes.storage_name`/`sha256` name the current one, and each
  signature keeps the hash after it (`sha256_after`). When the last signer signs, a document timestamp
  is appended, the state becomes `signed` and the final SHA-256 goes to the audit trail; the file never
  changes again. Before anybody signs, the minutes may be generated again (another choice of signers).
- **Who downloads.** The members of the commission (and those convened) and the buyer's staff: the
  same people who see the session (`session.access(...).can_view`); 404 to anybody else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.audit.services import log_event
from ebourgogne.core import clock
from ebourgogne.core.clock import PARIS
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.core.pdf import Document
from ebourgogne.meetings import session
from ebourgogne.meetings.models import (
    AttendanceStatus,
    Meeting,
    MeetingState,
    Minutes,
    MinutesSignature,
    MinutesState,
    SignerRole,
)

STORAGE_FOLDER = "meetings/minutes"
SIGNED_STATUSES = (AttendanceStatus.PRESENT, AttendanceStatus.REMOTE, AttendanceStatus.LEFT)
DEFAULT_STATUSES = (AttendanceStatus.PRESENT, AttendanceStatus.REMOTE)
DELIBERATIVE = "deliberative"


# --- Who signs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    user_id: int
    name: str
    is_president: bool
    voice_label: str
    status_label: str
    default: bool


def signer_candidates(meeting: Meeting, record: dict[str, Any] | None = None) -> list[Candidate]:
    """The members who may sign the minutes (they sat at the session), the president first."""
    record = record or session.session_record(meeting)
    president = (record.get("president") or {}).get("user")
    rows = [row for row in record["attendance"] if row["status"] in SIGNED_STATUSES]
    rows.sort(key=lambda row: 0 if row["user"] == president else 1)  # stable: attendance order otherwise
    return [
        Candidate(
            user_id=row["user"],
            name=row["name"],
            is_president=row["user"] == president,
            voice_label=row["voice_label"],
            status_label=row["status_label"],
            default=row["user"] == president or (row["voice"] == DELIBERATIVE and row["status"] in DEFAULT_STATUSES),
        )
        for row in rows
    ]


def _chosen_signers(candidates: list[Candidate], chosen: list[int] | None) -> list[Candidate]:
    if chosen is None:
        picked = [candidate for candidate in candidates if candidate.default]
    else:
        wanted = set()
        for value in chosen:
            try:
                wanted.add(int(value))
            except (TypeError, ValueError):
                continue
        known = {candidate.user_id for candidate in candidates}
        if wanted - known:
            raise DomainError(
                _("Les signataires se choisissent parmi les membres qui ont siégé à la séance."), code="signers"
            )
        picked = [candidate for candidate in candidates if candidate.user_id in wanted]
        president = next((candidate for candidate in candidates if candidate.is_president), None)
        if president is not None and president not in picked:
            raise DomainError(
                _("Le président a siégé : il signe le procès-verbal en premier, il ne peut pas être retiré."),
                code="signers",
            )
    if not picked:
        raise DomainError(_("Choisissez au moins un signataire."), code="signers")
    return picked


# --- The PDF -----------------------------------------------------------------------------------------


def _when(value: str | None, *, with_time: bool = True) -> str:
    if not value:
        return "—"
    moment = dt.datetime.fromisoformat(value).astimezone(PARIS)
    if not with_time:
        return moment.strftime("%d/%m/%Y")
    return _("%(date)s à %(time)s") % {"date": moment.strftime("%d/%m/%Y"), "time": moment.strftime("%H:%M")}


def _size(size: int | None) -> str:
    if not size:
        return "—"
    if size < 1024:
        return _("%(n)s octets") % {"n": size}
    if size < 1024 * 1024:
        return _("%(n)s Ko") % {"n": f"{size / 1024:.1f}".replace(".", ",")}
    return _("%(n)s Mo") % {"n": f"{size / 1024 / 1024:.1f}".replace(".", ",")}


def _attendance_detail(row: dict[str, Any]) -> str:
    parts = []
    if row.get("represented_by"):
        parts.append(_("représenté(e) par %(name)s") % {"name": row["represented_by"]["name"]})
    if row.get("representing"):
        parts.append(_("siège pour %(name)s") % {"name": row["representing"]["name"]})
    if row.get("arrived_at") and row["status"] in DEFAULT_STATUSES:
        parts.append(_("arrivée : %(time)s") % {"time": _when(row["arrived_at"])})
    if row.get("left_at"):
        parts.append(_("départ : %(time)s") % {"time": _when(row["left_at"])})
    return " ; ".join(parts) or "—"


def _xmp(*, title: str, author: str, subject: str, created: dt.datetime) -> str:
    from xml.sax.saxutils import escape

    stamp = created.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt></dc:title>'
        f"<dc:creator><rdf:Seq><rdf:li>{escape(author)}</rdf:li></rdf:Seq></dc:creator>"
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(subject)}</rdf:li></rdf:Alt></dc:description>'
        "<dc:language><rdf:Bag><rdf:li>fr</rdf:li></rdf:Bag></dc:language>"
        f"<xmp:CreateDate>{stamp}</xmp:CreateDate><xmp:CreatorTool>e-bourgogne</xmp:CreatorTool>"
        "<pdf:Producer>e-bourgogne (fpdf2)</pdf:Producer>"
        "</rdf:Description></rdf:RDF>"
    )


def render_pdf(record: dict[str, Any], signers: list[Candidate], *, generated_at: dt.datetime) -> bytes:
    """The minutes as PDF bytes, from the session record (in French: a legal document of the buyer)."""
    meeting = record["meeting"]
    commission = record["commission"]
    buyer = record["buyer"]
    day = _when(meeting["starts_at"], with_time=False)
    title = _("Procès-verbal — %(commission)s — séance du %(date)s") % {"commission": commission["name"], "date": day}
    doc = Document(title=title, subject=meeting["title"], author=buyer["name"], footer=title)
    doc.pdf.set_creation_date(generated_at.astimezone(dt.UTC))
    doc.pdf.set_keywords(_("procès-verbal, commission, séance, %(kind)s") % {"kind": commission["kind_label"]})
    doc.pdf.set_xmp_metadata(_xmp(title=title, author=buyer["name"], subject=meeting["title"], created=generated_at))

    doc.heading(_("Procès-verbal de la séance"))
    doc.paragraph(f"{commission['name']} — {buyer['name']}", bold=True)
    facts = [
        (_("Acheteur"), buyer["name"]),
        (
            _("Commission"),
            commission["name"]
            if commission["name"].lower() in commission["kind_label"].lower()
            else f"{commission['name']} ({commission['kind_label']})",
        ),
        (_("Séance"), meeting["title"]),
        (_("Date et heure"), _when(meeting["starts_at"]) + _(" (heure de Paris)")),
        (_("Lieu"), meeting["place"] or "—"),
    ]
    if meeting.get("video_url"):
        facts.append((_("Visioconférence"), meeting["video_url"]))
    facts.append((_("Convocation envoyée le"), _when(meeting["convened_at"])))
    if meeting.get("is_urgent"):
        facts.append((_("Convocation en urgence"), meeting.get("urgency_reason") or "—"))
    facts.append((_("Séance ouverte le"), _when(meeting["session_opened_at"])))
    facts.append((_("Séance close le"), _when(meeting["session_closed_at"])))
    if meeting.get("follows"):
        facts.append(
            (
                _("Nouvelle réunion après"),
                _("la séance du %(date)s, sans quorum") % {"date": _when(meeting["follows"]["starts_at"])},
            )
        )
    president = record.get("president")
    facts.append((_("Président"), president["name"] if president else "—"))
    doc.key_values(facts, key_width=50)

    doc.heading(_("1. Présences"), level=2)
    doc.table(
        [_("Membre"), _("Voix"), _("Siège"), _("Présence"), _("Précisions")],
        [
            [
                row["name"] + (_(" (président)") if row.get("is_president") else ""),
                row["voice_label"],
                row["seat_label"],
                row["status_label"],
                _attendance_detail(row),
            ]
            for row in record["attendance"]
        ],
        col_widths=(44, 30, 20, 32, 48),
    )

    quorum = record["quorum"]
    doc.heading(_("2. Quorum"), level=2)
    doc.paragraph(quorum.get("rule", ""))
    if not quorum["required"]:
        verdict = _("La commission délibère sans condition de quorum.")
    elif quorum["reached"]:
        verdict = _("Le quorum est atteint : la commission peut valablement délibérer.")
    else:
        verdict = _("Le quorum n'est pas atteint : la commission ne peut pas délibérer.")
    doc.paragraph(verdict, bold=True)
    if quorum.get("counted"):
        doc.paragraph(_("Comptés : %(names)s.") % {"names": ", ".join(quorum["counted"])}, grey=True)

    doc.heading(_("3. Ordre du jour et décisions"), level=2)
    if not record["items"]:
        doc.paragraph(_("Aucun point à l'ordre du jour."))
    for item in record["items"]:
        doc.paragraph(f"{item['position']}. {item['title']} — {item['kind_label']}", bold=True)
        if item.get("consultation"):
            doc.paragraph(_("Consultation %(reference)s : %(title)s") % item["consultation"], size=9.5, grey=True)
        if item.get("description"):
            doc.paragraph(item["description"], size=9.5)
        opening = item.get("opening")
        if opening:
            _opening_section(doc, opening)
        if not item["decisions"]:
            doc.paragraph(_("Pas de décision sur ce point."), size=9.5, grey=True)
        for decision in item["decisions"]:
            _decision_section(doc, decision)
        doc.rule()

    doc.heading(_("4. Annexes"), level=2)
    if record["annexes"]:
        rows = []
        for number, annex in enumerate(record["annexes"], start=1):
            detail = annex.get("sha256", "") or "—"
            rows.append([str(number), annex["title"], _size(annex.get("size")), detail])
        doc.table(
            [_("N°"), _("Annexe"), _("Taille"), _("SHA-256")], rows, col_widths=(10, 74, 18, 72), mono_columns=(3,)
        )
    else:
        doc.paragraph(_("Aucune annexe."))

    doc.heading(_("5. Signatures"), level=2)
    doc.paragraph(
        _(
            "Le présent procès-verbal est signé électroniquement (signatures PAdES, chacune horodatée), dans "
            "l'ordre ci-dessous, par chaque signataire avec son propre certificat. Un horodatage du document est "
            "ajouté après la dernière signature. Les signatures se vérifient dans le panneau des signatures de "
            "tout lecteur PDF ; elles ne sont pas dessinées sur cette page."
        )
    )
    doc.table(
        [_("Ordre"), _("Signataire"), _("Qualité")],
        [
            [
                str(order),
                signer.name,
                _("Président")
                if signer.is_president
                else _("Membre (%(voice)s)") % {"voice": signer.voice_label.lower()},
            ]
            for order, signer in enumerate(signers, start=1)
        ],
        col_widths=(16, 90, 68),
    )
    doc.paragraph(
        _("Procès-verbal généré le %(date)s par la plateforme e-bourgogne.")
        % {"date": _when(generated_at.astimezone(PARIS).isoformat())},
        size=8.5,
        grey=True,
    )
    return doc.output()


def _opening_section(doc: Document, opening: dict[str, Any]) -> None:
    if opening["state"] != "done":
        doc.paragraph(
            _("Ouverture des plis : %(state)s.") % {"state": opening["state"]}
            + (f" {opening['error']}" if opening.get("error") else ""),
            size=9.5,
        )
        return
    doc.paragraph(
        _("Ouverture des plis du %(start)s au %(end)s, avec les phrases secrètes de : %(members)s.")
        % {
            "start": _when(opening["started_at"]),
            "end": _when(opening["finished_at"]),
            "members": ", ".join(opening["members"]) or "—",
        },
        size=9.5,
    )
    if opening["opened"]:
        doc.table(
            [_("N°"), _("Entreprise"), _("SIRET"), _("Fichiers"), _("Anomalies")],
            [
                [
                    str(bid.get("number") or "—"),
                    bid["company"],
                    bid.get("siret") or "—",
                    str(bid.get("files", 0)),
                    str(bid.get("problems", 0)),
                ]
                for bid in opening["opened"]
            ],
            col_widths=(14, 72, 38, 24, 26),
        )
    else:
        doc.paragraph(_("Aucun pli ouvert."), size=9.5)
    if opening.get("late"):
        doc.paragraph(_("Plis hors délai, non ouverts : %(names)s.") % {"names": ", ".join(opening["late"])}, size=9.5)
    if opening.get("superseded"):
        doc.paragraph(
            _("Plis remplacés par un dépôt ultérieur : %(names)s.") % {"names": ", ".join(opening["superseded"])},
            size=9.5,
        )
    for problem in opening.get("problems", []):
        doc.paragraph(
            _("Anomalie — %(company)s, %(name)s : %(detail)s")
            % {
                "company": problem.get("company", "—"),
                "name": problem.get("name", "—"),
                "detail": problem.get("detail") or problem.get("status", "—"),
            },
            size=9,
            grey=True,
        )


def _decision_section(doc: Document, decision: dict[str, Any]) -> None:
    doc.paragraph(f"{decision['kind_label']} : {decision['text']}", size=9.5)
    companies = decision.get("companies") or []
    if companies:
        doc.paragraph(
            _("Entreprises : %(names)s.")
            % {
                "names": ", ".join(
                    f"{position}. {company.get('name', '—')}"
                    + (f" ({company['siret']})" if company.get("siret") else "")
                    for position, company in enumerate(companies, start=1)
                )
            },
            size=9.5,
        )
    vote = decision.get("vote")
    if vote:
        doc.paragraph(
            _("Vote : %(for)s pour, %(against)s contre, %(abstentions)s abstention(s).")
            % {"for": vote["for"], "against": vote["against"], "abstentions": vote["abstentions"]},
            size=9.5,
        )
    else:
        doc.paragraph(_("Décision prise sans vote."), size=9.5, grey=True)
    if decision.get("voters"):
        doc.paragraph(
            _("Voix délibératives présentes : %(names)s.") % {"names": ", ".join(decision["voters"])},
            size=9,
            grey=True,
        )


# --- Storage -----------------------------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _store(data: bytes) -> str:
    """Save under a new non-guessable name; never overwrites."""
    return default_storage.save(f"{STORAGE_FOLDER}/{secrets.token_urlsafe(24)}.pdf", ContentFile(data))


def read_current(minutes: Minutes) -> bytes:
    """The current PDF, checked against its recorded SHA-256. DomainError "purged" once the retention purge
    deleted it (contracts.retention: the row, its SHA-256 and the signatures stay)."""
    if not minutes.storage_name:
        raise DomainError(
            _("Ce procès-verbal a été supprimé au terme de sa durée de conservation ; son empreinte reste."),
            code="purged",
        )
    try:
        with default_storage.open(minutes.storage_name, "rb") as handle:
            data = handle.read()
    except (FileNotFoundError, OSError) as error:
        raise DomainError(_("Le fichier du procès-verbal est introuvable dans le stockage."), code="missing") from error
    if _sha256(data) != minutes.sha256:
        raise DomainError(
            _("Le fichier du procès-verbal ne correspond plus à son empreinte enregistrée : signature refusée."),
            code="tampered",
        )
    return data


# --- Generating --------------------------------------------------------------------------------------


def minutes_of(meeting: Meeting) -> Minutes | None:
    with scopes_disabled():
        return Minutes.objects.filter(meeting=meeting).first()


def signatures_of(minutes: Minutes) -> list[MinutesSignature]:
    with scopes_disabled():
        return list(MinutesSignature.objects.filter(minutes=minutes).select_related("user").order_by("order"))


def next_signature(minutes: Minutes) -> MinutesSignature | None:
    if minutes.state != MinutesState.SIGNING:
        return None
    with scopes_disabled():
        return (
            MinutesSignature.objects.filter(minutes=minutes, signed_at__isnull=True)
            .select_related("user")
            .order_by("order")
            .first()
        )


def _require_run(user: Any, meeting: Meeting) -> None:
    found = session.access(user, meeting)
    if not found.can_view:
        raise NotFound(_("Séance introuvable."))
    if not found.can_run:
        raise PermissionRefused(
            _("Seuls les agents de l'acheteur et le président de la commission génèrent le procès-verbal.")
        )


def minutes_generate(
    *, meeting: Meeting, acting_user: Any, signers: list[int] | None = None, request: Any = None
) -> Minutes:
    """Generate the minutes of a closed session (or generate them again while nobody has signed).
    `signers`: user ids among `signer_candidates` (None: the default choice)."""
    _require_run(acting_user, meeting)
    with translation.override("fr"):
        record = session.session_record(meeting)
        if record["meeting"]["state"] != MeetingState.CLOSED:
            raise DomainError(_("Le procès-verbal se génère une fois la séance close."), code="not_closed")
        candidates = signer_candidates(meeting, record)
        chosen = _chosen_signers(candidates, signers)
        now = clock.now()
        data = render_pdf(record, chosen, generated_at=now)
    digest = _sha256(data)
    name = _store(data)
    try:
        with transaction.atomic():
            with scopes_disabled():
                locked = Meeting.objects.select_for_update(of=("self",)).get(pk=meeting.pk)
                existing = Minutes.objects.select_for_update().filter(meeting=locked).first()
                previous = None
                if existing is not None:
                    if MinutesSignature.objects.filter(minutes=existing, signed_at__isnull=False).exists():
                        raise DomainError(
                            _("Le procès-verbal a déjà été signé : il ne peut plus être généré à nouveau."),
                            code="already_signing",
                        )
                    previous = existing.sha256
                    MinutesSignature.objects.filter(minutes=existing).delete()
                    minutes = existing
                    minutes.generated_at = now
                    minutes.generated_by = acting_user
                    minutes.unsigned_sha256 = digest
                    minutes.storage_name = name
                    minutes.sha256 = digest
                    minutes.save()
                else:
                    minutes = Minutes.objects.create(
                        meeting=locked,
                        generated_at=now,
                        generated_by=acting_user,
                        unsigned_sha256=digest,
                        storage_name=name,
                        sha256=digest,
                    )
                MinutesSignature.objects.bulk_create(
                    [
                        MinutesSignature(
                            minutes=minutes,
                            user_id=signer.user_id,
                            order=order,
                            role=SignerRole.PRESIDENT if signer.is_president else SignerRole.MEMBER,
                        )
                        for order, signer in enumerate(chosen, start=1)
                    ]
                )
            log_event(
                action="meeting.minutes.generated",
                actor=acting_user,
                organisation=meeting.organisation,
                obj=meeting,
                data={
                    "minutes": minutes.pk,
                    "sha256": digest,
                    "size": len(data),
                    "signers": [signer.name for signer in chosen],
                    "replaces_sha256": previous,
                },
                request=request,
            )
    except Exception:
        default_storage.delete(name)
        raise
    return minutes


# --- Signing -----------------------------------------------------------------------------------------


def _signer_name(user: Any) -> str:
    return getattr(user, "full_name", "") or user.email


def _check_signed(data: bytes, expected: list[MinutesSignature]) -> None:
    """The new PDF holds exactly the expected signatures, in order, each intact, made with the recorded
    certificate and covering its own revision."""
    from ebourgogne.signatures import services as signing

    checks = [check for check in signing.validate_pdf(data) if check.kind == "signature"]
    fingerprints = [row.certificate_fingerprint for row in expected]
    if [check.fingerprint for check in checks] != fingerprints or not all(
        check.intact and check.valid and check.covers_revision for check in checks
    ):
        raise DomainError(
            _("La signature produite ne se vérifie pas : rien n'a été enregistré."), code="signature_invalid"
        )


def minutes_sign(*, minutes: Minutes, user: Any, certificate: Any, secret: str, request: Any = None) -> Minutes:
    """`user` signs the minutes with one of their certificates, opened with `secret` (the PKCS#12
    password or the signing passphrase). Only the next signer in order; the last one seals the file."""
    from ebourgogne.signatures import services as signing

    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionRefused(_("Connectez-vous pour signer."))
    if certificate is None or certificate.user_id != user.pk:
        raise NotFound(_("Certificat introuvable."))
    new_name = None
    try:
        with transaction.atomic():
            with scopes_disabled():
                minutes = (
                    Minutes.objects.select_for_update(of=("self",))
                    .select_related("meeting__organisation")
                    .get(pk=minutes.pk)
                )
                rows = list(MinutesSignature.objects.filter(minutes=minutes).select_related("user").order_by("order"))
            mine = next((row for row in rows if row.user_id == user.pk), None)
            if mine is None:
                raise PermissionRefused(
                    _("Vous n'êtes pas parmi les signataires de ce procès-verbal."), code="not_a_signer"
                )
            if mine.signed_at is not None:
                raise DomainError(
                    _("Vous avez déjà signé ce procès-verbal, le %(date)s.")
                    % {"date": _when(mine.signed_at.astimezone(PARIS).isoformat())},
                    code="already_signed",
                )
            if minutes.state != MinutesState.SIGNING:
                raise DomainError(_("Le procès-verbal est déjà entièrement signé."), code="signed")
            turn = next(row for row in rows if row.signed_at is None)
            if turn.user_id != user.pk:
                raise DomainError(
                    _(
                        "Ce n'est pas encore votre tour : le procès-verbal se signe dans l'ordre, et c'est au tour de "
                        "%(name)s (signataire n° %(order)s). Vous êtes le signataire n° %(mine)s."
                    )
                    % {"name": _signer_name(turn.user), "order": turn.order, "mine": mine.order},
                    code="not_your_turn",
                )
            current = read_current(minutes)
            meeting = minutes.meeting
            field_name = f"Signature{mine.order}"
            signed = signing.sign_pdf(
                current,
                certificate=certificate,
                secret=secret,
                field_name=field_name,
                reason=_("Signature du procès-verbal de la séance « %(title)s »") % {"title": meeting.title},
                location=meeting.place[:200] if meeting.place else "",
                signer_name=_signer_name(user),
            )
            now = clock.now()
            mine.signed_at = now
            mine.field_name = field_name
            mine.certificate_subject = certificate.subject[:500]
            mine.certificate_fingerprint = certificate.fingerprint
            _check_signed(signed, [row for row in rows if row.signed_at is not None])
            last = all(row.signed_at is not None for row in rows)
            if last:
                signed = signing.add_document_timestamp(signed)
            digest = _sha256(signed)
            new_name = _store(signed)
            mine.sha256_after = digest
            with scopes_disabled():
                mine.save(
                    update_fields=[
                        "signed_at",
                        "field_name",
                        "certificate_subject",
                        "certificate_fingerprint",
                        "sha256_after",
                    ]
                )
                before = minutes.sha256
                minutes.storage_name = new_name
                minutes.sha256 = digest
                fields = ["storage_name", "sha256"]
                if last:
                    minutes.state = MinutesState.SIGNED
                    minutes.signed_at = now
                    fields += ["state", "signed_at"]
                minutes.save(update_fields=fields)
            log_event(
                action="meeting.minutes.signed",
                actor=user,
                organisation=meeting.organisation,
                obj=meeting,
                data={
                    "minutes": minutes.pk,
                    "order": mine.order,
                    "role": mine.role,
                    "signer": _signer_name(user),
                    "certificate_subject": certificate.subject,
                    "certificate_fingerprint": certificate.fingerprint,
                    "sha256_before": before,
                    "sha256": digest,
                    "complete": last,
                    "final_sha256": digest if last else None,
                },
                request=request,
            )
    except Exception:
        if new_name:
            default_storage.delete(new_name)
        raise
    return minutes


# --- Reading -----------------------------------------------------------------------------------------


def can_download(user: Any, meeting: Meeting) -> bool:
    """Members of the commission (and those convened) and the buyer's staff."""
    return session.access(user, meeting).can_view


def download_name(minutes: Minutes) -> str:
    day = minutes.meeting.starts_at.astimezone(PARIS).strftime("%Y-%m-%d")
    suffix = "signe" if minutes.state == MinutesState.SIGNED else "en-cours-de-signature"
    return f"proces-verbal-{day}-seance-{minutes.meeting_id}-{suffix}.pdf"
