"""Checking the header of an age-encrypted file without decrypting it.

A bid file must be an age v1 file (binary, not armored) encrypted to exactly one X25519 recipient: the
consultation's opening key. The age specification (https://age-encryption.org/v1) hides the recipient,
so the server checks the structure only:

    age-encryption.org/v1
    -> X25519 <ephemeral share: 32 bytes, base64 without padding>
    <wrapped file key: 32 bytes, base64 without padding>
    --- <header MAC: 32 bytes, base64 without padding>
    <payload: binary>

Stanzas whose type ends in "-grease" are allowed: age implementations (rage, hence pyrage) add one
random "grease" stanza to keep parsers honest; it carries no key. Anything else is refused: plaintext,
an armored file, a passphrase (scrypt), several X25519 recipients, another recipient type (ssh-ed25519,
ssh-rsa, post-quantum, plugins).

`check_header(prefix, final)` looks at the first bytes of the file as received so far and answers
`None` (valid: the header is complete and right), `INCOMPLETE` (nothing wrong yet, send more bytes), or
raises `HeaderError` with a code of the upload protocol and a translated message.
"""

from __future__ import annotations

import base64
import binascii

from django.utils.translation import gettext as _

INTRO = b"age-encryption.org/v1\n"
HEADER_MAX = 64 * 1024  # a header longer than this is not one we accept (ours is about 200 bytes)
LINE_COLUMNS = 64
INCOMPLETE = "incomplete"


class HeaderError(Exception):
    """The first bytes are not an age header we accept. `code` is the protocol's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _not_age(detail: str = "") -> HeaderError:
    message = _(
        "Ce fichier n'est pas chiffré au format age : la plateforme n'accepte que des fichiers chiffrés pour la "
        "clé de la consultation (la page de dépôt le fait pour vous). Rien n'a été conservé de cet envoi."
    )
    return HeaderError("not_age", f"{message} {detail}".strip())


def _wrong_stanza(detail: str) -> HeaderError:
    message = _(
        "Le fichier est chiffré au format age, mais pas comme demandé : il doit l'être pour un seul destinataire, "
        "la clé X25519 de la consultation (%(detail)s). Rien n'a été conservé de cet envoi."
    ) % {"detail": detail}
    return HeaderError("wrong_recipient_stanza", message)


def _b64_32(text: bytes) -> bool:
    """True for the canonical base64 (no padding) of exactly 32 bytes."""
    if len(text) != 43:
        return False
    try:
        raw = base64.b64decode(text + b"=", validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(raw) == 32 and base64.b64encode(raw).rstrip(b"=") == text


def _valid_b64_line(line: bytes) -> bool:
    if not line:
        return True
    if len(line) > LINE_COLUMNS:
        return False
    padded = line + b"=" * (-len(line) % 4)
    try:
        base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return False
    return b"=" not in line


def check_header(prefix: bytes, *, final: bool = False) -> str | None:
    """Check the header at the start of `prefix` (the file's first bytes received so far).

    `final`: no more bytes will come (the file is entirely in `prefix`): an incomplete header is refused.
    """
    if prefix.startswith(b"-----"):
        raise _not_age(_("Le fichier est au format age « armure » (texte) : envoyez le format binaire."))
    if not prefix.startswith(INTRO[: len(prefix)]) or (not prefix and final):
        raise _not_age()
    if len(prefix) < len(INTRO):
        if final:
            raise _not_age()
        return INCOMPLETE
    position = len(INTRO)
    x25519 = 0
    in_stanza = False  # reading the body lines of a stanza
    stanza_type = b""
    while True:
        end = prefix.find(b"\n", position, HEADER_MAX)
        if end < 0:
            if len(prefix) >= HEADER_MAX:
                raise _not_age(_("L'en-tête age est anormalement long."))
            if final:
                raise _not_age(_("Le fichier s'arrête au milieu de l'en-tête age."))
            return _partial_line_check(prefix[position:], in_stanza)
        line = prefix[position:end]
        position = end + 1
        if in_stanza:
            if not _valid_b64_line(line):
                raise _not_age(_("Une ligne de l'en-tête age est invalide."))
            if stanza_type == b"X25519" and len(line) != 43:
                raise _wrong_stanza(_("la clé enveloppée n'a pas la taille attendue"))
            if len(line) < LINE_COLUMNS:
                in_stanza = False  # the last line of a body is shorter than 64 columns
            continue
        if line.startswith(b"--- "):
            if not _b64_32(line[4:]):
                raise _not_age(_("La ligne d'authentification de l'en-tête age est invalide."))
            if x25519 != 1:
                raise _wrong_stanza(_("aucune clé X25519"))
            return None
        if not line.startswith(b"-> "):
            raise _not_age(_("L'en-tête age est mal formé."))
        arguments = line[3:].split(b" ")
        stanza_type = arguments[0]
        if stanza_type == b"X25519":
            x25519 += 1
            if x25519 > 1:
                raise _wrong_stanza(_("plusieurs destinataires"))
            if len(arguments) != 2 or not _b64_32(arguments[1]):
                raise _wrong_stanza(_("la part éphémère X25519 est invalide"))
        elif stanza_type == b"scrypt":
            raise _wrong_stanza(_("chiffré avec une phrase de passe"))
        elif not stanza_type.endswith(b"-grease"):
            kind = stanza_type.decode("ascii", "replace")[:40]
            raise _wrong_stanza(_("destinataire de type « %(kind)s »") % {"kind": kind})
        in_stanza = True


def _partial_line_check(partial: bytes, in_stanza: bool) -> str:
    """The bytes after the last complete line: refuse at once what cannot become a valid line."""
    if not partial:
        return INCOMPLETE
    if in_stanza:
        if len(partial) > LINE_COLUMNS:
            raise _not_age(_("Une ligne de l'en-tête age est invalide."))
        return INCOMPLETE
    for start in (b"-> ", b"--- "):
        if start.startswith(partial[: len(start)]):
            return INCOMPLETE
    raise _not_age(_("L'en-tête age est mal formé."))
