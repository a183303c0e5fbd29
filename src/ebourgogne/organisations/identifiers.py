"""French identifiers of organisations: SIREN, SIRET, NAF code, postal code, INSEE commune code, department.

Each `clean_*` function returns the normalised value or raises `InvalidIdentifier` with a translated
message; forms, services and the API all go through them, so a number is judged the same everywhere.
The `*_with_check_digit` helpers build valid numbers (factories, seed data).
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from stdnum import luhn
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret


class InvalidIdentifier(ValueError):
    """A malformed identifier. `message` is translated and safe to show."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


_SEPARATORS = re.compile(r"[\s.\-]")
_NAF = re.compile(r"^(\d{2})(\d{2})([A-Z])$")
_POSTAL_CODE = re.compile(r"^\d{5}$")
_INSEE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_DEPARTMENT = re.compile(r"^(0[1-9]|1\d|2[1-9]|[3-8]\d|9[0-5]|2[AB]|97[1-6])$")


def _compact(value: str) -> str:
    return _SEPARATORS.sub("", value or "").upper()


def clean_siren(value: str) -> str:
    number = _compact(value)
    if not number.isdigit() or len(number) != 9:
        raise InvalidIdentifier(_("Le numéro SIREN doit compter exactement 9 chiffres."))
    try:
        return stdnum_siren.validate(number)
    except StdnumError:
        raise InvalidIdentifier(
            _(
                "Ce numéro SIREN n'est pas valide (la clé de contrôle ne correspond pas) : vérifiez-le sur l'avis de situation INSEE."
            )
        ) from None


def clean_siret(value: str) -> str:
    number = _compact(value)
    if not number.isdigit() or len(number) != 14:
        raise InvalidIdentifier(_("Le numéro SIRET doit compter exactement 14 chiffres."))
    try:
        return stdnum_siret.validate(number)
    except StdnumError:
        raise InvalidIdentifier(
            _(
                "Ce numéro SIRET n'est pas valide (la clé de contrôle ne correspond pas) : vérifiez-le sur l'avis de situation INSEE."
            )
        ) from None


def clean_siret_of_siren(value: str, siren: str) -> str:
    """A SIRET that must belong to the company `siren` (its first nine digits)."""
    number = clean_siret(value)
    if number[:9] != siren:
        raise InvalidIdentifier(
            _("Ce SIRET n'appartient pas à l'entreprise : ses 9 premiers chiffres doivent être le SIREN.")
        )
    return number


def clean_naf_code(value: str) -> str:
    """A NAF rév. 2 code, written `62.01Z` (the dot is added when missing)."""
    match = _NAF.match(_compact(value))
    if match is None:
        raise InvalidIdentifier(_("Le code NAF s'écrit avec 4 chiffres et une lettre, par exemple 62.01Z."))
    return f"{match.group(1)}.{match.group(2)}{match.group(3)}"


def clean_postal_code(value: str) -> str:
    code = (value or "").strip().replace(" ", "")
    if not _POSTAL_CODE.match(code):
        raise InvalidIdentifier(_("Le code postal compte 5 chiffres, par exemple 21000."))
    return code


def clean_department(value: str) -> str:
    code = (value or "").strip().upper()
    if len(code) == 1 and code.isdigit():
        code = "0" + code
    if not _DEPARTMENT.match(code):
        raise InvalidIdentifier(_("Le département est un code de 2 ou 3 caractères, par exemple 21, 2A ou 971."))
    return code


def clean_insee_code(value: str, department: str | None = None) -> str:
    """The INSEE code of a commune (5 characters, 2A/2B for Corsica), consistent with `department`."""
    code = (value or "").strip().upper()
    if not _INSEE.match(code):
        raise InvalidIdentifier(_("Le code INSEE de la commune compte 5 caractères, par exemple 21231 pour Dijon."))
    if department:
        prefix = department if len(department) == 3 else department[:2]
        if not code.startswith(prefix):
            raise InvalidIdentifier(_("Le code INSEE de la commune ne correspond pas au département indiqué."))
    return code


def siren_with_check_digit(first_eight: str) -> str:
    """The valid SIREN whose first eight digits are `first_eight`."""
    assert len(first_eight) == 8 and first_eight.isdigit()
    return first_eight + luhn.calc_check_digit(first_eight)


def siret_with_check_digit(siren: str, first_four_of_nic: str) -> str:
    """The valid SIRET of establishment `first_four_of_nic` (+ check digit) of company `siren`."""
    assert len(siren) == 9 and len(first_four_of_nic) == 4
    stem = siren + first_four_of_nic
    return stem + luhn.calc_check_digit(stem)
