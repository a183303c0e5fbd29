"""Text normalisation shared by the two search backends: words, accents, French light stemming.

User input is never handed to a query language: `query_words()` keeps only runs of letters and digits
(so quotes, `*`, `-`, `:`, parentheses, NEAR, AND/OR... are plain words or nothing), drops French stop
words and caps their number. Each backend then builds its own query from these words.

SQLite FTS5 has no French stemmer: `stem()` is a small "light" stemmer (plurals, feminines, a few
frequent suffix pairs) applied by us to the indexed text and to the query words alike, so that
"école", "écoles", "ecole" and "ÉCOLE" all become "ecol". PostgreSQL uses its own French Snowball
stemmer (configuration `ebourgogne_fr`) on accent-folded text; the two stemmers differ in detail,
but on each backend the index and the query go through the same one.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MAX_QUERY_WORDS = 12
MAX_QUERY_CHARS = 200

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# Ligatures that NFKD does not split.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})

# Frequent French words that carry no meaning in a search (also ignored by PostgreSQL's French
# configuration); dropped from queries on both backends so that "le" or "de" find the same thing.
STOP_WORDS = frozenset(
    """a au aux avec ce ces dans de des du elle en et eux il je la le les leur lui ma mais me meme mes moi mon
    ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre
    vous c d j l m n s t y ete etre est sont""".split()
)

# Irregular plurals the rules below would get wrong, frequent in public procurement.
_IRREGULAR = {
    "travaux": "travail",
    "vitraux": "vitrail",
    "baux": "bail",
    "coraux": "corail",
    "emaux": "email",
    "soupiraux": "soupirail",
    "vantaux": "vantail",
}

_VOWELS = frozenset("aeiouy")


def _strip(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Latin letters with accents (Latin-1 and Latin Extended-A/B) to their base letters, computed once.
_FOLD = {code: _strip(chr(code)) for code in range(0xC0, 0x250) if _strip(chr(code)) != chr(code)}


def fold(text: str) -> str:
    """Lower case without accents: "École Léon-Blum" -> "ecole leon-blum"."""
    if text.isascii():
        return text.lower()
    folded = text.translate(_FOLD)
    if not folded.isascii():  # other scripts or rare marks: the slow, complete way
        folded = _strip(folded)
    return folded.lower()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """French light stem of a folded word (lower case, no accents). Idempotent on its own output for
    the common cases, and the same for the masculine, feminine, singular and plural forms:
    ecole/ecoles -> ecol, regional/regionale/regionaux -> regional, sportif/sportive -> sportif,
    professionnel/professionnelle -> professionnel, heureux/heureuse -> heureu."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    w = word
    # Plurals.
    if w.endswith("aux") and len(w) > 5:
        w = w[:-3] + "al"
    elif w.endswith("eux"):
        w = w[:-1]
    elif w.endswith(("s", "x")) and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    # Feminines and final mute e.
    if w.endswith("euse"):
        w = w[:-2]
    elif w.endswith("ive"):
        w = w[:-3] + "if"
    elif w.endswith("e") and len(w) > 3:
        w = w[:-1]
        if w.endswith("e") and len(w) > 3:  # durée -> duree -> dure
            w = w[:-1]
    # Doubled final consonant of feminines: professionnelle -> professionnell -> professionnel.
    if len(w) > 4 and w[-1] == w[-2] and w[-1] not in _VOWELS and w[-1].isalpha():
        w = w[:-1]
    return w


def words(text: str) -> list[str]:
    """The folded words of a text, in order."""
    return _WORD.findall(fold(text))


@lru_cache(maxsize=131072)  # generated and real texts repeat a lot (objects, lots, buyers' names)
def stemmed(text: str) -> str:
    """The text as the SQLite index stores it: folded, stemmed words separated by spaces."""
    return " ".join(stem(word) for word in words(text))


def query_words(query: str) -> list[str]:
    """The words of a user's query, safe to hand to any backend: letters and digits only, no stop words,
    no duplicates, at most MAX_QUERY_WORDS. Empty when the query has nothing to search for."""
    found: list[str] = []
    for word in words((query or "")[:MAX_QUERY_CHARS]):
        if word in STOP_WORDS or word in found:
            continue
        found.append(word)
        if len(found) == MAX_QUERY_WORDS:
            break
    return found
