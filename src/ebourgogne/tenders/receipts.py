"""Receipts (accusés de réception) of deposited bids: what the platform can prove it received, and when.

`issue_receipt(bid)` is called by `tenders.services.bid_deposit` inside the deposit's transaction, once
every file is stored durably. It builds the payload (bidder, buyer, consultation, lots, deposit time,
files with the size and SHA-256 of their ciphertext, the consultation's recipient and its fingerprint,
late flag, kind), serialises it as canonical JSON (sorted keys, UTF-8, no spaces), and timestamps the
payload's SHA-256 with the RFC 3161 authority (`ebourgogne.timestamping`).

No deposit is lost because of a timestamp authority:
- the embedded authority signs in-process, inside the transaction (a few milliseconds), except for the
  deposit (`after_commit=True`): there the token is signed right after the commit, in the same request,
  so that the consultation's lock (which numbers the bids) is not held while signing;
- an external authority (EBOURGOGNE_TSA_URL) is asked right after the commit, outside the deposit's
  locks, with a short timeout.
If the token could not be stored (the authority failed, or the process died between the commit and the
signature), the receipt stays valid without its token (`timestamp_pending` in the JSON, a line in the
PDF), a task asks again with growing delays, the receipt's mail asks once more, and the periodic job
`timestamping.stamp_pending_receipts` sweeps any receipt still without a token (`stamp_pending`).

The receipt is e-mailed, with its PDF, to the depositor (in their language) and to the company's contact
address, after the commit (task `send_receipt_mail`, retried when the mail server fails).
`receipt_document(receipt)` is the JSON of the API and of the download; `receipt_pdf(receipt)` the PDF.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import smtplib
from datetime import UTC, timedelta
from typing import Any

from asn1crypto import cms
from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import formats, translation
from django.utils.translation import gettext as _

from ebourgogne.core import clock
from ebourgogne.tenders.models import Bid, BidKind, Envelope, Receipt
from ebourgogne.timestamping import authority as tsa

logger = logging.getLogger("ebourgogne.tenders.receipts")

# Waits before asking an unavailable external timestamp authority again (then the periodic sweep).
STAMP_RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
KIND_LABELS = {BidKind.BID: "offre", BidKind.BACKUP: "copie de sauvegarde"}  # fixed French: part of the signed text
ENVELOPE_LABELS = {Envelope.APPLICATION: "candidature", Envelope.OFFER: "offre"}


def canonical(data: dict[str, Any]) -> bytes:
    """The exact bytes the digest covers: JSON with sorted keys, UTF-8, no spaces."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _utc(value) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def receipt_number(bid: Bid) -> str:
    return f"EB-{bid.consultation_id}-{bid.number}"


def build_payload(bid: Bid, *, lots: list[Any] | None = None, files: list[Any] | None = None) -> dict[str, Any]:
    """The receipt's content. Its texts are fixed (French), never translated: they are signed.

    `lots` and `files`: the bid's lots and files when the caller has already read them (the deposit, to
    keep its lock short); read here otherwise."""
    consultation = bid.consultation
    if lots is None:
        lots = list(bid.lots.all())
    if files is None:
        files = list(bid.files.all())
    key = getattr(consultation, "opening_key", None)
    depositor = bid.deposited_by
    return {
        "version": 1,
        "receipt": receipt_number(bid),
        "platform": settings.BASE_URL,
        "bid": bid.pk,
        "deposit_number": bid.number,
        "kind": bid.kind,
        "kind_label": KIND_LABELS.get(bid.kind, bid.kind),
        "bidder": {
            "name": bid.company.name,
            "siret": bid.company.siret,
            "siren": bid.company.siren,
            "depositor": {"name": depositor.full_name, "email": depositor.email} if depositor else None,
        },
        "buyer": {"name": consultation.organisation.name, "siret": consultation.organisation.siret},
        "consultation": {
            "id": consultation.pk,
            "reference": consultation.reference,
            "title": consultation.title,
            "bids_deadline": _utc(consultation.bids_deadline),
        },
        "lots": [{"number": lot.number, "title": lot.title} for lot in sorted(lots, key=lambda lot: lot.number)],
        "upload_started_at": _utc(bid.upload_started_at),
        "deposited_at": _utc(bid.deposited_at),
        "late": bid.is_late,
        "physical_backup_declared": bid.physical_backup_declared,
        "recipient": key.recipient if key else None,
        "recipient_fingerprint": key.fingerprint if key else None,
        "files": [
            {
                "envelope": f.envelope,
                "envelope_label": ENVELOPE_LABELS.get(f.envelope, f.envelope),
                "name": f.name,
                "size": f.size,
                "sha256": f.sha256,
            }
            for f in sorted(files, key=lambda f: (f.envelope, f.pk))
        ],
    }


def issue_receipt(
    bid: Bid, *, after_commit: bool = False, lots: list[Any] | None = None, files: list[Any] | None = None
) -> Receipt:
    """Create the receipt of a bid just deposited (inside the deposit's transaction), timestamp it, and
    send it by e-mail after the commit.

    `after_commit`: the embedded authority too signs right after the commit (the deposit: its locks are
    not held while signing). The returned receipt then has no token yet; it is stored by the time the
    outermost transaction has committed, or else the receipt is pending and `stamp_pending` repairs it."""
    payload = canonical(build_payload(bid, lots=lots, files=files))
    digest = hashlib.sha256(payload)
    receipt = Receipt.objects.create(
        bid=bid,
        number=receipt_number(bid),
        issued_at=clock.now(),
        payload=payload,
        digest=digest.hexdigest(),
        is_late=bid.is_late,
    )
    try:
        authority = tsa.get_authority()
    except Exception:  # a misconfigured authority (unreadable files...) must not cost the deposit
        logger.exception("Receipt %s: the timestamp authority could not be loaded", receipt.number)
        authority = None
    if isinstance(authority, tsa.EmbeddedAuthority) and not after_commit:
        _store_token(receipt, authority)
    else:
        # Never hold the deposit's locks while signing, nor while waiting for a remote server: after the commit.
        receipt_id = receipt.pk
        transaction.on_commit(lambda: _quietly(stamp_now_or_later, receipt_id))
    for address, language in mail_recipients(bid):
        _mail_after_commit(receipt.pk, address, language)
    return receipt


def _mail_after_commit(receipt_id: int, to: str, language: str) -> None:
    """Queue the receipt's mail once the deposit is committed. A queue that refuses (a busy database)
    is logged, not raised: the deposit is already committed, and the bidder must not be told it failed;
    the receipt stays downloadable."""
    send_receipt_mail.get_backend().validate_task(send_receipt_mail)

    def enqueue() -> None:
        try:
            send_receipt_mail.enqueue(receipt_id=receipt_id, to=to, language=language)
        except Exception:
            logger.exception("Receipt %s: the mail to %s could not be queued", receipt_id, to)

    transaction.on_commit(enqueue)


def _store_token(receipt: Receipt, authority: tsa.Authority | None = None) -> bool:
    """Ask the authority for the receipt's token; True when stored. The receipt stands either way."""
    try:
        authority = authority or tsa.get_authority()
        token = authority.timestamp(bytes.fromhex(receipt.digest))
    except tsa.TimestampUnavailable as error:
        logger.warning("Receipt %s: no timestamp token yet (%s)", receipt.number, error)
        return False
    except Exception:  # no database work above: the deposit's transaction is untouched
        logger.exception("Receipt %s: timestamping failed", receipt.number)
        return False
    receipt.timestamp_token = token
    receipt.timestamp_authority = authority.name[:200]
    Receipt.objects.filter(pk=receipt.pk, timestamp_token__isnull=True).update(
        timestamp_token=token, timestamp_authority=receipt.timestamp_authority
    )
    return True


def _quietly(function, *args) -> None:
    """After the commit nothing may make a committed deposit look failed: log, the sweep catches up."""
    try:
        function(*args)
    except Exception:
        logger.exception("After the deposit: %s%r failed", function.__name__, args)


def stamp_now_or_later(receipt_id: int) -> None:
    """After the commit: ask the external authority now; if it fails, let a task ask again later."""
    receipt = Receipt.objects.filter(pk=receipt_id, timestamp_token__isnull=True).first()
    if receipt is None or _store_token(receipt):
        return
    try:
        stamp_receipt.using(run_after=clock.now() + STAMP_RETRY_DELAYS[0]).enqueue(receipt_id=receipt_id, attempt=1)
    except Exception:  # the periodic sweep will find it
        logger.exception("Receipt %s: could not schedule the timestamp retry", receipt.number)


@task()
def stamp_receipt(*, receipt_id: int, attempt: int = 1) -> dict:
    """Ask for a missing timestamp token again (an external authority was unavailable)."""
    receipt = Receipt.objects.filter(pk=receipt_id).first()
    if receipt is None or receipt.timestamp_token:
        return {"status": "done"}
    if _store_token(receipt):
        return {"status": "stamped", "attempt": attempt}
    if attempt < len(STAMP_RETRY_DELAYS) and stamp_receipt.get_backend().supports_defer:
        delay = STAMP_RETRY_DELAYS[attempt]
        stamp_receipt.using(run_after=clock.now() + delay).enqueue(receipt_id=receipt_id, attempt=attempt + 1)
        return {"status": "retrying", "attempt": attempt}
    return {"status": "pending", "attempt": attempt}  # left to the periodic sweep


def stamp_pending(limit: int = 200) -> int:
    """Timestamp receipts still without a token (oldest first); the number stamped."""
    stamped = 0
    for receipt in Receipt.objects.filter(timestamp_token__isnull=True).order_by("issued_at")[:limit]:
        if not _store_token(receipt):
            break  # the authority is still down: try again at the next run
        stamped += 1
    return stamped


# -- What the bidder gets ------------------------------------------------------------------------


def tsa_certificates(receipt: Receipt) -> list[str]:
    """PEM certificates to verify the token offline: the TSA's (from the token), intermediates, root last."""
    certificates = []
    seen = set()
    authority_chain = tsa.get_authority().chain()
    if receipt.timestamp_token:
        content = cms.ContentInfo.load(bytes(receipt.timestamp_token))
        signer = tsa.signer_certificate(content)
        if signer is not None:
            certificates.append(signer)
    certificates.extend(authority_chain)
    pems = []
    for certificate in certificates:
        if certificate.sha256 in seen:
            continue
        seen.add(certificate.sha256)
        pems.append(tsa.to_pem(certificate))
    return pems


def timestamp_summary(receipt: Receipt) -> dict[str, Any] | None:
    """What the token says (read, not verified: `receipt verify` does that)."""
    if not receipt.timestamp_token:
        return None
    info = tsa.token_info(bytes(receipt.timestamp_token))
    return {
        "time": _utc(info["gen_time"].native),
        "authority": receipt.timestamp_authority,
        "serial_number": str(info["serial_number"].native),
        "policy": info["policy"].dotted,
    }


def receipt_document(receipt: Receipt) -> dict[str, Any]:
    """The receipt as JSON (API, download): everything needed to verify it offline."""
    payload = bytes(receipt.payload)
    token = bytes(receipt.timestamp_token) if receipt.timestamp_token else None
    return {
        "number": receipt.number,
        "issued_at": _utc(receipt.issued_at),
        "payload": json.loads(payload),
        "payload_canonical": base64.b64encode(payload).decode(),
        "digest_algorithm": "sha256",
        "digest": receipt.digest,
        "timestamp_token": base64.b64encode(token).decode() if token else None,
        "timestamp_pending": token is None,
        "timestamp": timestamp_summary(receipt),
        "tsa_certificates": tsa_certificates(receipt),
        "late": receipt.is_late,
        "verify": "ebourgogne receipt verify RECEIPT.json [FILES...] ; "
        + settings.BASE_URL.rstrip("/")
        + "/horodatage/",
    }


def receipt_json_bytes(receipt: Receipt) -> bytes:
    return json.dumps(receipt_document(receipt), ensure_ascii=False, indent=2).encode() + b"\n"


def _local(value: str | None) -> str:
    if not value:
        return "—"
    from datetime import datetime

    moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(clock.PARIS)
    return _("%(date)s à %(time)s (heure de Paris)") % {
        "date": formats.date_format(moment, "DATE_FORMAT"),
        "time": moment.strftime("%H:%M:%S"),
    }


def _size(value: int) -> str:
    return _("%(size)s octets") % {"size": formats.number_format(value, force_grouping=True)}


def receipt_pdf(receipt: Receipt, language: str | None = None) -> bytes:
    """The receipt as a PDF, in `language` (the current one by default)."""
    from ebourgogne.core.pdf import Document

    with translation.override(language or translation.get_language() or settings.LANGUAGE_CODE):
        document = receipt_document(receipt)
        payload = document["payload"]
        title = _("Accusé de réception d'un pli électronique")
        doc = Document(title=title, subject=receipt.number, footer=f"{title} {receipt.number}")
        doc.heading(title)
        doc.paragraph(
            _(
                "La plateforme %(platform)s certifie avoir reçu le pli décrit ci-dessous. Les fichiers sont "
                "chiffrés : la plateforme n'en connaît que la taille et l'empreinte ; ils ne pourront être "
                "ouverts qu'après la date limite, par la commission."
            )
            % {"platform": payload["platform"]}
        )
        if payload["late"]:
            doc.paragraph(
                _(
                    "PLI HORS DÉLAI : ce pli a été reçu après la date limite de remise des plis. Il est conservé, "
                    "scellé, mais ne sera pas ouvert avec les autres."
                ),
                bold=True,
            )
        if payload["kind"] == BidKind.BACKUP:
            doc.paragraph(_("Ce pli est une copie de sauvegarde."), bold=True)
        lots = ", ".join(f"{lot['number']} — {lot['title']}" for lot in payload["lots"]) or _("La consultation entière")
        depositor = payload["bidder"].get("depositor") or {}
        doc.key_values(
            [
                (_("Numéro de l'accusé"), receipt.number),
                (_("Soumissionnaire"), payload["bidder"]["name"]),
                (_("SIRET"), payload["bidder"]["siret"] or "—"),
                (_("Déposé par"), " — ".join(v for v in (depositor.get("name"), depositor.get("email")) if v) or "—"),
                (_("Acheteur"), payload["buyer"]["name"]),
                (_("Consultation"), f"{payload['consultation']['reference']} — {payload['consultation']['title']}"),
                (_("Lots"), lots),
                (_("Date limite de remise des plis"), _local(payload["consultation"]["bids_deadline"])),
                (_("Début de l'envoi"), _local(payload["upload_started_at"])),
                (_("Date et heure du dépôt"), _local(payload["deposited_at"])),
                (_("Reçu dans les délais"), _("non") if payload["late"] else _("oui")),
                (_("Nature du pli"), _("Copie de sauvegarde") if payload["kind"] == BidKind.BACKUP else _("Offre")),
                (
                    _("Copie de sauvegarde papier annoncée"),
                    _("oui") if payload["physical_backup_declared"] else _("non"),
                ),
                (_("Clé de chiffrement de la consultation"), payload["recipient"] or "—"),
                (_("Empreinte de la clé (SHA-256)"), payload["recipient_fingerprint"] or "—"),
            ],
            mono_keys=[_("Clé de chiffrement de la consultation"), _("Empreinte de la clé (SHA-256)")],
        )
        doc.heading(_("Fichiers reçus (chiffrés)"), level=2)
        doc.table(
            [_("Enveloppe"), _("Fichier"), _("Taille"), _("SHA-256 du fichier chiffré")],
            [
                [
                    _("Candidature") if f["envelope"] == Envelope.APPLICATION else _("Offre"),
                    f["name"],
                    _size(f["size"]),
                    f["sha256"],
                ]
                for f in payload["files"]
            ],
            col_widths=(24, 46, 28, 76),
            mono_columns=[3],
        )
        doc.heading(_("Preuve de l'heure"), level=2)
        doc.digest(_("Empreinte SHA-256 de l'accusé (contenu JSON canonique)"), receipt.digest)
        stamp = document["timestamp"]
        if stamp:
            doc.key_values(
                [
                    (_("Heure certifiée"), _local(stamp["time"])),
                    (_("Autorité d'horodatage"), stamp["authority"]),
                    (_("Numéro de série du jeton"), stamp["serial_number"]),
                ]
            )
            doc.digest(_("Jeton d'horodatage RFC 3161 (base64)"), document["timestamp_token"])
        else:
            doc.paragraph(
                _(
                    "Le jeton d'horodatage est en attente : l'autorité d'horodatage n'a pas encore répondu. Il "
                    "sera ajouté automatiquement ; téléchargez de nouveau l'accusé plus tard. L'heure du dépôt "
                    "ci-dessus fait foi."
                ),
                bold=True,
            )
        doc.paragraph(
            _(
                "Vérification : téléchargez cet accusé au format JSON depuis la plateforme, puis lancez "
                "« ebourgogne receipt verify accuse.json fichiers… » ou suivez le guide « Vérifier un accusé de "
                "réception » (vérification avec openssl). Certificats de l'autorité d'horodatage : %(url)s"
            )
            % {"url": settings.BASE_URL.rstrip("/") + "/horodatage/"},
            size=9,
            grey=True,
        )
        return doc.output()


# -- E-mail ------------------------------------------------------------------------------------

MAIL_RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))


def mail_recipients(bid: Bid) -> list[tuple[str, str]]:
    """(address, language): the depositor in their language, and the company's contact address."""
    recipients: list[tuple[str, str]] = []
    depositor = bid.deposited_by
    if depositor is not None and depositor.email:
        recipients.append((depositor.email, depositor.language or settings.LANGUAGE_CODE))
    contact = (bid.company.email or "").strip()
    if contact and contact.lower() not in {address.lower() for address, _language in recipients}:
        recipients.append((contact, settings.LANGUAGE_CODE))
    return recipients


@task(queue_name="mail")
def send_receipt_mail(*, receipt_id: int, to: str, language: str, attempt: int = 1) -> dict:
    """Send the receipt, PDF attached, to one address. Retried when the mail server fails for a while."""
    from ebourgogne.notifications.services import AUTOMATIC_HEADERS, render_templated_mail
    from ebourgogne.notifications.tasks import build_message, is_temporary

    receipt = Receipt.objects.select_related("bid__consultation__organisation", "bid__company").get(pk=receipt_id)
    if not receipt.timestamp_token:
        _store_token(receipt)  # one more try, so that the PDF carries the token if possible
    bid = receipt.bid
    rendered = render_templated_mail(
        template="tenders/email/receipt",
        context={
            "receipt": receipt,
            "bid": bid,
            "consultation": bid.consultation,
            "payload": json.loads(bytes(receipt.payload)),
        },
        language=language,
    )
    message = build_message(
        to=[to],
        subject=rendered["subject"],
        text=rendered["text"],
        html=rendered["html"],
        headers={"Content-Language": language, **AUTOMATIC_HEADERS},
    )
    message.attach(f"accuse-{receipt.number}.pdf", receipt_pdf(receipt, language), "application/pdf")
    message.attach(f"accuse-{receipt.number}.json", receipt_json_bytes(receipt), "application/json")
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        if is_temporary(error) and attempt <= len(MAIL_RETRY_DELAYS) and send_receipt_mail.get_backend().supports_defer:
            send_receipt_mail.using(run_after=clock.now() + MAIL_RETRY_DELAYS[attempt - 1]).enqueue(
                receipt_id=receipt_id, to=to, language=language, attempt=attempt + 1
            )
            return {"status": "retrying", "attempt": attempt, "error": str(error)}
        from ebourgogne.notifications.backends import store_message
        from ebourgogne.notifications.models import OutboxMessage

        store_message(
            message, status=OutboxMessage.Status.FAILED, error=f"{type(error).__name__}: {error}", attempts=attempt
        )
        raise
    Receipt.objects.filter(pk=receipt_id, emailed_at__isnull=True).update(emailed_at=clock.now())
    return {"status": "sent", "attempt": attempt}


# -- Verification (offline) ----------------------------------------------------------------------


class Check:
    """One line of a verification: what was checked, and whether it holds."""

    def __init__(self, ok: bool, message: str) -> None:
        self.ok = ok
        self.message = message

    def __repr__(self) -> str:
        return f"Check({self.ok}, {self.message!r})"


def sha256_of_file(path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def verify_document(document: Any, files: list[Any] = (), trust_roots: list | None = None) -> list[Check]:  # type: ignore[assignment]
    """Check a receipt's JSON offline: the canonical payload's digest, the RFC 3161 token (imprint, signature,
    chain to a trusted root) and each given file's SHA-256 against the payload. `trust_roots`: asn1crypto
    certificates; None = the root carried by the receipt (its fingerprint is printed, to compare with the
    platform's /horodatage/ page)."""
    checks: list[Check] = []
    if not isinstance(document, dict):
        return [Check(False, _("Ce fichier n'est pas un accusé de réception JSON de la plateforme."))]
    try:
        payload = base64.b64decode(document["payload_canonical"], validate=True)
        digest = str(document["digest"]).lower()
        data = json.loads(payload)
    except (KeyError, TypeError, ValueError):
        return [Check(False, _("L'accusé est incomplet ou illisible (payload_canonical, digest)."))]
    computed = hashlib.sha256(payload).hexdigest()
    if computed == digest:
        checks.append(Check(True, _("Empreinte SHA-256 du contenu : %(digest)s (conforme).") % {"digest": digest}))
    else:
        checks.append(
            Check(
                False,
                _("Le contenu de l'accusé a été modifié : son empreinte est %(computed)s, l'accusé annonce %(digest)s.")
                % {"computed": computed, "digest": digest},
            )
        )
    if "payload" in document and canonical(document["payload"]) != payload:
        checks.append(
            Check(
                False,
                _("Le champ « payload » ne correspond pas au contenu signé (payload_canonical) : il a été modifié."),
            )
        )
    # The token.
    token_b64 = document.get("timestamp_token")
    if not token_b64:
        checks.append(
            Check(
                False, _("L'accusé ne contient pas encore de jeton d'horodatage : téléchargez-le de nouveau plus tard.")
            )
        )
    else:
        certificates = []
        try:
            token = base64.b64decode(token_b64, validate=True)
            for text in document.get("tsa_certificates") or []:
                certificates.extend(tsa.load_pem_certificates(text.encode()))
        except (TypeError, ValueError):
            token, certificates = b"", []
        roots = trust_roots
        if roots is None:
            roots = [c for c in certificates if c.self_signed in ("yes", "maybe")]
            for root in roots:
                checks.append(
                    Check(
                        True,
                        _(
                            "Racine de confiance : celle fournie dans l'accusé, « %(subject)s », empreinte SHA-256 "
                            "%(fingerprint)s. Comparez-la à celle publiée par la plateforme (%(url)s) ou donnez la "
                            "racine avec --ca."
                        )
                        % {
                            "subject": root.subject.human_friendly,
                            "fingerprint": tsa.fingerprint(root),
                            "url": str(data.get("platform", "")).rstrip("/") + "/horodatage/",
                        },
                    )
                )
        try:
            verified = tsa.verify(
                token,
                bytes.fromhex(digest) if len(digest) == 64 else b"",
                trust_roots=roots,
                other_certificates=certificates,
            )
        except (tsa.TimestampError, ValueError) as error:
            checks.append(Check(False, _("Jeton d'horodatage refusé : %(reason)s") % {"reason": error}))
        else:
            moment = verified.time.astimezone(clock.PARIS)
            checks.append(
                Check(
                    True,
                    _(
                        "Jeton d'horodatage valide : l'empreinte est horodatée du %(time)s (heure de Paris) par "
                        "« %(tsa)s », certificat rattaché à la racine %(root)s."
                    )
                    % {
                        "time": moment.strftime("%d/%m/%Y %H:%M:%S"),
                        "tsa": verified.tsa_name,
                        "root": verified.root_fingerprint,
                    },
                )
            )
    # The files.
    listed = data.get("files", []) if isinstance(data, dict) else []
    for path in files:
        try:
            sha, size = sha256_of_file(path)
        except OSError as error:
            checks.append(
                Check(False, _("Fichier %(path)s illisible : %(error)s") % {"path": path, "error": error.strerror})
            )
            continue
        match = next((f for f in listed if f.get("sha256") == sha and f.get("size") == size), None)
        if match:
            checks.append(
                Check(
                    True,
                    _("Fichier %(path)s : identique au fichier « %(name)s » de l'accusé (SHA-256 %(sha)s).")
                    % {"path": path, "name": match.get("name"), "sha": sha},
                )
            )
        else:
            checks.append(
                Check(
                    False,
                    _(
                        "Fichier %(path)s : ne correspond à aucun fichier de l'accusé (SHA-256 %(sha)s, %(size)s octets)."
                    )
                    % {"path": path, "sha": sha, "size": size},
                )
            )
    return checks
