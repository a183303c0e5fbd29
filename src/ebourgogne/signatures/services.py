"""Signing certificates and PAdES signatures: every change, with its rules, audited.

- `certificate_upload`: a person registers their own PKCS#12 (checked by `certificates.load_pkcs12` and
  `check_usable`: wrong password, not a PKCS#12, expired, not yet valid, no signing key usage... refused
  with a clear message, nothing stored). The file is kept sealed with the platform key; the password is
  not stored.
- `certificate_issue`: the platform signing CA (signatures/ca.py) issues a certificate for the person; the
  key is made here (ECDSA P-256), encrypted with the signing passphrase the person chooses (age scrypt)
  and sealed with the platform key. The passphrase is not stored.
- `certificate_revoke`: the person withdraws a certificate: it can no longer sign, its sealed key
  material is erased. Signatures already made stay valid (what they prove does not change).
- `sign_pdf`: one PAdES B-T signature with a certificate of the person, its password (uploaded) or
  passphrase (platform) typed now; `add_document_timestamp`; `validate_pdf` with the platform's trust
  decision (see `trust_roots`).

Who may use a certificate: only its owner (`owner` is checked by every function that opens one).
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from ebourgogne.audit.services import log_event
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.sealing import crypto
from ebourgogne.signatures import ca, certificates, pades
from ebourgogne.signatures.models import Origin, SigningCertificate

PASSPHRASE_MIN_LENGTH = 12
PASSPHRASE_MAX_LENGTH = 1024
LABEL_MAX = 100
REASON_MAX = 300


def work_factor() -> int:
    """The age scrypt work factor protecting platform-issued keys: the sealing setting (18 in production,
    about a second per signature; low in tests)."""
    from ebourgogne.sealing.services import work_factor as sealing_work_factor

    return sealing_work_factor()


def _require_signed_in(user: Any) -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionRefused(_("Connectez-vous pour effectuer cette action."))


def _context(kind: str, user_id: int, fingerprint: str) -> bytes:
    # Binds the sealed bytes to their owner and certificate: a blob copied onto another row does not open.
    return f"signatures/{kind}/{user_id}/{fingerprint}".encode("ascii")


def _seal(data: bytes, *, kind: str, user_id: int, fingerprint: str) -> bytes:
    return crypto.platform_seal(
        base64.b64encode(data).decode("ascii"),
        secret_key=settings.SECRET_KEY,
        context=_context(kind, user_id, fingerprint),
    )


def _unseal(data: bytes, *, kind: str, user_id: int, fingerprint: str) -> bytes:
    try:
        text = crypto.platform_unseal(
            bytes(data), secret_key=settings.SECRET_KEY, context=_context(kind, user_id, fingerprint)
        )
    except crypto.SealingCryptoError as error:
        raise DomainError(
            _(
                "La clé de ce certificat ne peut plus être ouverte sur ce serveur (clé de la plateforme changée) : "
                "révoquez-le et ajoutez-en un autre."
            ),
            code="unsealable",
        ) from error
    return base64.b64decode(text)


def _label(label: Any) -> str:
    value = (label or "").strip() if isinstance(label, str) else ""
    if len(value) > LABEL_MAX:
        raise DomainError(
            _("Le nom ne peut pas dépasser %(max)d caractères.") % {"max": LABEL_MAX}, code="invalid_label"
        )
    return value


def _check_passphrase(passphrase: Any) -> str:
    value = passphrase if isinstance(passphrase, str) else ""
    if len(value) < PASSPHRASE_MIN_LENGTH:
        raise DomainError(
            _("La phrase secrète de signature doit compter au moins %(min)d caractères.")
            % {"min": PASSPHRASE_MIN_LENGTH},
            code="weak_passphrase",
        )
    if len(value) > PASSPHRASE_MAX_LENGTH or "\x00" in value:
        raise DomainError(_("Cette phrase secrète n'est pas acceptée."), code="weak_passphrase")
    return value


def _store(
    *,
    user: Any,
    origin: str,
    label: str,
    details: certificates.Details,
    chain_pem: str,
    sealed_pkcs12: bytes | None = None,
    sealed_key: bytes | None = None,
) -> SigningCertificate:
    if SigningCertificate.objects.filter(user=user, fingerprint=details.fingerprint, revoked_at__isnull=True).exists():
        raise DomainError(_("Ce certificat est déjà enregistré dans votre compte."), code="duplicate")
    try:
        with transaction.atomic():
            return SigningCertificate.objects.create(
                user=user,
                origin=origin,
                label=label,
                subject=details.subject,
                issuer=details.issuer,
                serial=details.serial[:80],
                not_before=details.not_before,
                not_after=details.not_after,
                fingerprint=details.fingerprint,
                certificate_der=details.der,
                chain_pem=chain_pem,
                sealed_pkcs12=sealed_pkcs12,
                sealed_key=sealed_key,
                created_at=clock.now(),
            )
    except IntegrityError as error:  # the same file sent twice at the same moment
        raise DomainError(_("Ce certificat est déjà enregistré dans votre compte."), code="duplicate") from error


def _audit_data(certificate: SigningCertificate) -> dict[str, Any]:
    return {
        "certificate": certificate.pk,
        "origin": certificate.origin,
        "subject": certificate.subject,
        "issuer": certificate.issuer,
        "serial": certificate.serial,
        "fingerprint": certificate.fingerprint,
        "not_after": certificate.not_after.isoformat(),
    }


@transaction.atomic
def certificate_upload(
    *, user: Any, data: bytes, password: str, label: str = "", request: Any = None
) -> SigningCertificate:
    """Register the person's own PKCS#12 after checking it opens with `password` and can sign now."""
    _require_signed_in(user)
    label = _label(label)
    loaded = certificates.load_pkcs12(data, password if isinstance(password, str) else "")
    certificates.check_usable(loaded.certificate, now=clock.now())
    details = certificates.details(loaded.certificate)
    certificate = _store(
        user=user,
        origin=Origin.UPLOADED,
        label=label,
        details=details,
        chain_pem=certificates.chain_pem(loaded.chain),
        sealed_pkcs12=_seal(bytes(data), kind="pkcs12", user_id=user.pk, fingerprint=details.fingerprint),
    )
    log_event(
        action="signatures.certificate.uploaded",
        actor=user,
        obj=certificate,
        data=_audit_data(certificate),
        request=request,
    )
    return certificate


@transaction.atomic
def certificate_issue(
    *, user: Any, passphrase: str, label: str = "", request: Any = None, scrypt_work_factor: int | None = None
) -> SigningCertificate:
    """A certificate from the platform signing CA, in the person's name, its key protected by
    `passphrase` (chosen now, never stored) and by the platform key."""
    _require_signed_in(user)
    label = _label(label)
    passphrase = _check_passphrase(passphrase)
    authority = ca.get_authority()
    private_key = ec.generate_private_key(ec.SECP256R1())
    issued = authority.issue(
        public_key=private_key.public_key(),
        name=getattr(user, "full_name", "") or user.email,
        email=user.email,
        now=clock.now(),
    )
    details = certificates.details(issued)
    key_der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    protected = crypto.passphrase_encrypt(key_der, passphrase, work_factor=scrypt_work_factor or work_factor())
    certificate = _store(
        user=user,
        origin=Origin.PLATFORM,
        label=label,
        details=details,
        chain_pem=certificates.chain_pem([authority.certificate, authority.root]),
        sealed_key=_seal(protected, kind="platform-key", user_id=user.pk, fingerprint=details.fingerprint),
    )
    log_event(
        action="signatures.certificate.issued",
        actor=user,
        obj=certificate,
        data=_audit_data(certificate),
        request=request,
    )
    return certificate


def owned(user: Any, pk: Any) -> SigningCertificate:
    """The certificate `pk` of `user`; NotFound for anybody else's (never told apart from "no such")."""
    _require_signed_in(user)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("Certificat introuvable.")) from None
    found = SigningCertificate.objects.filter(pk=pk, user=user).first()
    if found is None:
        raise NotFound(_("Certificat introuvable."))
    return found


@transaction.atomic
def certificate_revoke(*, user: Any, certificate: SigningCertificate, reason: str = "", request: Any = None) -> None:
    """Withdraw a certificate of one's own: it can no longer sign; its sealed key material is erased."""
    certificate = owned(user, certificate.pk)
    certificate = SigningCertificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.revoked_at is not None:
        raise DomainError(_("Ce certificat est déjà révoqué."), code="revoked")
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if len(reason) > REASON_MAX:
        raise DomainError(
            _("Le motif ne peut pas dépasser %(max)d caractères.") % {"max": REASON_MAX}, code="invalid_reason"
        )
    certificate.revoked_at = clock.now()
    certificate.revoked_reason = reason
    certificate.sealed_pkcs12 = None
    certificate.sealed_key = None
    certificate.save(update_fields=["revoked_at", "revoked_reason", "sealed_pkcs12", "sealed_key"])
    log_event(
        action="signatures.certificate.revoked",
        actor=user,
        obj=certificate,
        data={**_audit_data(certificate), "reason": reason},
        request=request,
    )


# --- Signing ----------------------------------------------------------------------------------------


def _x509(certificate: SigningCertificate):  # noqa: ANN202
    from cryptography import x509

    return x509.load_der_x509_certificate(bytes(certificate.certificate_der))


def check_can_sign(certificate: SigningCertificate, *, now: dt.datetime | None = None) -> None:
    """Refuse a revoked certificate, or one that cannot sign now (dates, usages)."""
    if certificate.revoked_at is not None:
        raise DomainError(_("Ce certificat a été révoqué : il ne peut plus servir à signer."), code="revoked")
    certificates.check_usable(_x509(certificate), now=now or clock.now())


def open_signer(certificate: SigningCertificate, secret: str):  # noqa: ANN201
    """pyHanko's signer for `certificate`, opened with `secret` (the PKCS#12 password or the signing
    passphrase). DomainError "wrong_secret" when it does not open; nothing is changed."""
    check_can_sign(certificate)
    secret = secret if isinstance(secret, str) else ""
    chain = certificates.load_chain(certificate.chain_pem)
    if certificate.origin == Origin.UPLOADED:
        if not certificate.sealed_pkcs12:
            raise DomainError(_("Ce certificat a été révoqué : il ne peut plus servir à signer."), code="revoked")
        data = _unseal(
            certificate.sealed_pkcs12, kind="pkcs12", user_id=certificate.user_id, fingerprint=certificate.fingerprint
        )
        try:
            loaded = certificates.load_pkcs12(data, secret)
        except DomainError as error:
            if error.code == "wrong_password":
                raise DomainError(
                    _("Le mot de passe du certificat est incorrect : rien n'a été signé."), code="wrong_secret"
                ) from error
            raise
        if certificates.fingerprint(loaded.certificate) != certificate.fingerprint:
            raise DomainError(_("Le fichier du certificat ne correspond plus à son empreinte."), code="mismatch")
        return pades.make_signer(loaded.private_key, loaded.certificate, loaded.chain or chain)
    if not certificate.sealed_key:
        raise DomainError(_("Ce certificat a été révoqué : il ne peut plus servir à signer."), code="revoked")
    protected = _unseal(
        certificate.sealed_key, kind="platform-key", user_id=certificate.user_id, fingerprint=certificate.fingerprint
    )
    try:
        key_der = crypto.passphrase_decrypt(protected, secret)
    except crypto.SealingCryptoError as error:
        raise DomainError(
            _("La phrase secrète de signature est incorrecte : rien n'a été signé."), code="wrong_secret"
        ) from error
    private_key = serialization.load_der_private_key(key_der, password=None)
    return pades.make_signer(private_key, _x509(certificate), chain)


def sign_pdf(
    pdf_bytes: bytes,
    *,
    certificate: SigningCertificate,
    secret: str,
    field_name: str,
    reason: str = "",
    location: str = "",
    signer_name: str = "",
) -> bytes:
    """`pdf_bytes` with one more PAdES B-T signature (incremental update) made with `certificate`.
    The caller checks who may sign what; here: the certificate can sign and `secret` opens it."""
    signer = open_signer(certificate, secret)
    signed = pades.sign(
        pdf_bytes,
        signer=signer,
        field_name=field_name,
        reason=reason,
        location=location,
        signer_name=signer_name,
    )
    SigningCertificate.objects.filter(pk=certificate.pk).update(last_used_at=clock.now())
    return signed


def add_document_timestamp(pdf_bytes: bytes) -> bytes:
    """A PAdES document timestamp after the last signature."""
    return pades.add_document_timestamp(pdf_bytes)


def trust_roots() -> list[Any]:
    """The roots signatures are validated against (documented in docs/guide/certificats.md):

    - the platform signing root (certificates the platform issued);
    - the self-signed certificates carried in the PKCS#12 files members registered (their CA's root, or
      the certificate itself when it is self-signed): the platform checked at upload that the file
      opened with its password, that the certificate was valid and allowed signing, and it knows which
      account registered it. This trust is the platform's own: a reader such as Acrobat or pdfsig
      trusts only the roots of its own list (the European trusted lists for qualified certificates).
    """
    from cryptography import x509

    roots: dict[str, x509.Certificate] = {}
    root = ca.root_if_present()
    if root is not None:
        roots[certificates.fingerprint(root)] = root
    rows = SigningCertificate.objects.filter(origin=Origin.UPLOADED).values_list("certificate_der", "chain_pem")
    for der, chain in rows.iterator():
        for candidate in [x509.load_der_x509_certificate(bytes(der)), *certificates.load_chain(chain)]:
            if candidate.subject == candidate.issuer:
                roots.setdefault(certificates.fingerprint(candidate), candidate)
    return list(roots.values())


def validate_pdf(pdf_bytes: bytes) -> list[pades.SignatureCheck]:
    """Every signature and document timestamp of `pdf_bytes`, checked with pyHanko against the
    platform's trust roots (signers) and the timestamp authority's roots (timestamps)."""
    return pades.validate(pdf_bytes, trust_roots=trust_roots())
