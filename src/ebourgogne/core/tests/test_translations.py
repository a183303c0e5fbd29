"""Both catalogues complete: every French string of every app has its English translation, and the
committed .mo files are up to date with their .po files.

For each app, makemessages runs on a copy of the app (so the work tree is never touched); the copy's
catalogue must have no untranslated and no fuzzy entry. Then the committed .po is compiled to a
temporary .mo, which must hold the same messages as the committed .mo.
"""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2]
SOURCE_SUFFIXES = {".py", ".html", ".txt"}


def _apps() -> list[str]:
    return sorted(
        path.name
        for path in PACKAGE.iterdir()
        if path.is_dir() and (path / "__init__.py").exists() and (path / "apps.py").exists()
    )


def _django_admin(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    # -P: the copied app's modules (an app's selectors.py...) must not shadow the standard library.
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="ebourgogne.settings_test")
    return subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-P", "-m", "django", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def _entries(po_file: Path) -> list[dict]:
    """The entries of a .po file: msgid, plural, translations, flags (a small reader, enough for checks)."""
    import ast

    entries: list[dict] = []
    for block in po_file.read_text(encoding="utf-8").split("\n\n"):
        entry: dict = {"msgid": None, "plural": None, "msgstr": {}, "flags": set(), "obsolete": False}
        key = None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry["obsolete"] = True
                continue
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif line.startswith("msgid_plural "):
                key, entry["plural"] = "plural", ast.literal_eval(line[13:])
            elif line.startswith("msgid "):
                key, entry["msgid"] = "msgid", ast.literal_eval(line[6:])
            elif line.startswith("msgstr["):
                index = int(line[7 : line.index("]")])
                key = ("msgstr", index)
                entry["msgstr"][index] = ast.literal_eval(line[line.index("]") + 2 :])
            elif line.startswith("msgstr "):
                key = ("msgstr", 0)
                entry["msgstr"][0] = ast.literal_eval(line[7:])
            elif line.startswith('"') and key is not None:
                if isinstance(key, tuple):
                    entry["msgstr"][key[1]] += ast.literal_eval(line)
                else:
                    entry[key] += ast.literal_eval(line)
        if entry["msgid"] is not None and not entry["obsolete"]:
            entries.append(entry)
    return entries


def _problems(po_file: Path) -> list[str]:
    problems = []
    for entry in _entries(po_file):
        if entry["msgid"] == "":
            continue
        if "fuzzy" in entry["flags"]:
            problems.append(f"fuzzy: {entry['msgid']!r}")
        elif not entry["msgstr"] or any(text == "" for text in entry["msgstr"].values()):
            problems.append(f"untranslated: {entry['msgid']!r}")
    return problems


def _catalogue(mo_file: Path) -> dict:
    with mo_file.open("rb") as handle:
        catalogue = dict(gettext.GNUTranslations(handle)._catalog)  # type: ignore[attr-defined]
    catalogue.pop("", None)  # header: carries dates
    return catalogue


@pytest.fixture(scope="module")
def msgfmt_available():
    if shutil.which("msgfmt") is None or shutil.which("xgettext") is None:
        pytest.skip("GNU gettext (xgettext, msgfmt) is not installed: apt-get install gettext")


@pytest.mark.parametrize("app", _apps())
def test_english_catalogue_is_complete_and_compiled(app, tmp_path, msgfmt_available):
    copy = tmp_path / app
    shutil.copytree(PACKAGE / app, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "locale").mkdir(exist_ok=True)

    result = _django_admin(["makemessages", "-l", "en", "--no-obsolete", "--no-wrap"], cwd=copy)
    assert result.returncode == 0, result.stderr

    regenerated = copy / "locale/en/LC_MESSAGES/django.po"
    if not regenerated.exists():
        return  # nothing to translate in this app
    problems = _problems(regenerated)
    assert problems == [], (
        f"{app}: the English catalogue is incomplete. Run `cd src/ebourgogne/{app} && uv run django-admin "
        f"makemessages -l en --no-obsolete`, translate, then `uv run django-admin compilemessages`:\n"
        + "\n".join(problems)
    )

    committed_po = PACKAGE / app / "locale/en/LC_MESSAGES/django.po"
    committed_mo = committed_po.with_suffix(".mo")
    assert committed_mo.exists(), f"{app}: {committed_mo.name} is missing; run compilemessages"
    fresh_mo = tmp_path / "fresh.mo"
    compiled = subprocess.run(  # noqa: S603
        ["msgfmt", "--check-format", "-o", str(fresh_mo), str(committed_po)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    assert compiled.returncode == 0, compiled.stderr
    assert _catalogue(committed_mo) == _catalogue(fresh_mo), f"{app}: the .mo file is older than the .po file"


def test_the_checks_catch_missing_and_fuzzy_translations(tmp_path):
    po_file = tmp_path / "django.po"
    po_file.write_text(
        'msgid ""\nmsgstr ""\n"Language: en\\n"\n\n'
        'msgid "Bonjour"\nmsgstr "Hello"\n\n'
        'msgid "Au revoir"\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "Merci"\nmsgstr "Thanks"\n\n'
        'msgid "un fichier"\nmsgid_plural "%(n)s fichiers"\nmsgstr[0] "one file"\nmsgstr[1] ""\n\n'
        '#~ msgid "Ancien"\n#~ msgstr ""\n',
        encoding="utf-8",
    )

    assert _problems(po_file) == [
        "untranslated: 'Au revoir'",
        "fuzzy: 'Merci'",
        "untranslated: 'un fichier'",
    ]


def test_the_apps_with_strings_are_all_checked():
    assert {"accounts", "core", "organisations", "portal"} <= set(_apps())
