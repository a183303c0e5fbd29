"""SIREN, SIRET, NAF, postal and INSEE codes: accepted in their usual spellings, refused with a clear reason."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from ebourgogne.organisations import identifiers
from ebourgogne.organisations.identifiers import InvalidIdentifier


@pytest.mark.parametrize("value", ["732829320", "732 829 320", "732.829.320", " 732-829-320 "])
def test_siren_accepts_the_usual_spellings(value):
    assert identifiers.clean_siren(value) == "732829320"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("732829321", "clé de contrôle"),
        ("73282932", "exactement 9 chiffres"),
        ("7328293200", "exactement 9 chiffres"),
        ("73282932A", "exactement 9 chiffres"),
        ("", "exactement 9 chiffres"),
    ],
)
def test_siren_refusals_say_why(value, reason):
    with pytest.raises(InvalidIdentifier) as refused:
        identifiers.clean_siren(value)
    assert reason in refused.value.message


def test_siret_is_checked_on_the_establishment_and_on_its_siren():
    assert identifiers.clean_siret("732 829 320 00074") == "73282932000074"
    with pytest.raises(InvalidIdentifier, match="clé de contrôle"):
        identifiers.clean_siret("73282932000075")
    with pytest.raises(InvalidIdentifier, match="14 chiffres"):
        identifiers.clean_siret("7328293200007")


def test_a_head_office_siret_must_belong_to_the_company():
    assert identifiers.clean_siret_of_siren("73282932000074", "732829320") == "73282932000074"
    other = identifiers.siret_with_check_digit("404833048", "0001")
    with pytest.raises(InvalidIdentifier, match="9 premiers chiffres"):
        identifiers.clean_siret_of_siren(other, "732829320")


@pytest.mark.parametrize(("value", "clean"), [("6201Z", "62.01Z"), ("62.01z", "62.01Z"), (" 43.32 A", "43.32A")])
def test_naf_codes_are_normalised(value, clean):
    assert identifiers.clean_naf_code(value) == clean


@pytest.mark.parametrize("value", ["62.01", "620Z", "62.011", "AB.CDZ", ""])
def test_malformed_naf_codes_are_refused(value):
    with pytest.raises(InvalidIdentifier, match="4 chiffres et une lettre"):
        identifiers.clean_naf_code(value)


def test_insee_code_and_department_must_agree():
    assert identifiers.clean_insee_code("21231", "21") == "21231"
    assert identifiers.clean_insee_code("2a004", "2A") == "2A004"
    assert identifiers.clean_insee_code("97105", "971") == "97105"
    with pytest.raises(InvalidIdentifier, match="ne correspond pas au département"):
        identifiers.clean_insee_code("89024", "21")
    with pytest.raises(InvalidIdentifier, match="5 caractères"):
        identifiers.clean_insee_code("21000x")


@pytest.mark.parametrize(("value", "clean"), [("21", "21"), ("1", "01"), ("2b", "2B"), ("974", "974")])
def test_departments(value, clean):
    assert identifiers.clean_department(value) == clean


@pytest.mark.parametrize("value", ["00", "96", "20", "977", "A1", ""])
def test_unknown_departments_are_refused(value):
    with pytest.raises(InvalidIdentifier):
        identifiers.clean_department(value)


def test_postal_codes():
    assert identifiers.clean_postal_code("21 000") == "21000"
    with pytest.raises(InvalidIdentifier, match="5 chiffres"):
        identifiers.clean_postal_code("2100")


@given(st.text(alphabet="0123456789", min_size=8, max_size=8), st.text(alphabet="0123456789", min_size=4, max_size=4))
def test_generated_numbers_are_valid_and_a_single_typo_is_caught(stem, nic):
    siren = identifiers.siren_with_check_digit(stem)
    siret = identifiers.siret_with_check_digit(siren, nic)
    assert stdnum_siren.is_valid(siren) and siret.startswith(siren)
    if not siret.startswith("356000000"):  # La Poste's establishments follow another rule
        assert stdnum_siret.is_valid(siret)
    typo = stem[:3] + str((int(stem[3]) + 1) % 10) + stem[4:] + siren[-1]
    assert not stdnum_siren.is_valid(typo)
