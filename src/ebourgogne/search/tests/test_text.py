"""The normalisation shared by both backends: accents, French light stemming, safe query words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ebourgogne.search.text import MAX_QUERY_WORDS, fold, query_words, stem, stemmed


def test_fold_removes_accents_ligatures_and_case():
    assert fold("École Léon-Blum, ŒUVRE, Noël, façade") == "ecole leon-blum, oeuvre, noel, facade"
    assert fold("Straße") == "strasse"


@pytest.mark.parametrize(
    ("forms", "expected"),
    [
        (("ecole", "ecoles"), "ecol"),
        (("regional", "regionale", "regionaux", "regionales"), "regional"),
        (("sportif", "sportive", "sportifs", "sportives"), "sportif"),
        (("professionnel", "professionnelle", "professionnels"), "professionnel"),
        (("travaux", "travail"), "travail"),
        (("duree", "durees"), "dur"),
        (("voirie", "voiries"), "voiri"),
        (("repas",), "repa"),  # consistent on both sides, which is what matters
        (("scolaire", "scolaires"), "scolair"),
    ],
)
def test_stem_brings_forms_together(forms, expected):
    assert {stem(form) for form in forms} == {expected}


def test_stem_leaves_short_words_and_numbers():
    assert stem("rue") == "rue"
    assert stem("2026") == "2026"
    assert stem("a4") == "a4"


def test_stemmed_text_is_folded_words():
    assert stemmed("Les Écoles régionales — travaux") == "les ecol regional travail"


def test_query_words_keep_letters_and_digits_only():
    assert query_words('voirie" OR 1=1; DROP TABLE x -- (école*) NEAR/3 col:val') == [
        "voirie",
        "or",
        "1",
        "drop",
        "table",
        "x",
        "ecole",
        "near",
        "3",
        "col",
        "val",
    ]


def test_query_words_drop_stop_words_duplicates_and_cap():
    assert query_words("la restauration de la restauration scolaire") == ["restauration", "scolaire"]
    assert query_words("le de la") == []
    assert len(query_words(" ".join(f"mot{n}" for n in range(50)))) == MAX_QUERY_WORDS


@given(st.text())
def test_query_words_are_always_plain(value):
    for word in query_words(value):
        assert word.isalnum()
        assert word == fold(word)
