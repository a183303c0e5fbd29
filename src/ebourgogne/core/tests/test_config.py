"""The environment variables: one registry (ebourgogne.config), one table (docs/deployment.md)."""

from __future__ import annotations

import re
from pathlib import Path

from ebourgogne.config import VARIABLES, variables_table

ROOT = Path(__file__).resolve().parents[4]
DEPLOYMENT = ROOT / "docs" / "deployment.md"
SOURCE = ROOT / "src" / "ebourgogne"
REGENERATE = "regenerate the table with `uv run python -m ebourgogne.config` and paste it into docs/deployment.md"

# Read by the tooling, not by the platform's configuration.
NOT_CONFIGURATION = {"DJANGO_SETTINGS_MODULE"}


def _documented_table() -> str:
    text = DEPLOYMENT.read_text(encoding="utf-8")
    match = re.search(r"<!-- variables:start -->\n(.*?)\n<!-- variables:end -->", text, re.S)
    assert match, "docs/deployment.md has lost its variables table markers"
    return match.group(1)


def _documented_names() -> list[str]:
    return re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", _documented_table(), re.M)


def test_every_declared_variable_is_documented_and_every_documented_one_exists():
    documented = _documented_names()
    assert len(documented) == len(set(documented)), "a variable is documented twice"
    undocumented = sorted(set(VARIABLES) - set(documented))
    unknown = sorted(set(documented) - set(VARIABLES))
    assert not undocumented, f"declared in config.py but not in docs/deployment.md: {undocumented}; {REGENERATE}"
    assert not unknown, f"documented but not declared in config.py: {unknown}; {REGENERATE}"


def test_the_documented_table_is_the_generated_one():
    # Defaults and meanings too, not only the names.
    assert _documented_table() == variables_table(), REGENERATE


def test_the_platform_reads_no_undeclared_environment_variable():
    pattern = re.compile(r"""os\.(?:environ(?:\.get|\.setdefault)?\s*[\[(]|getenv\s*\()\s*["']([A-Z][A-Z0-9_]*)["']""")
    offenders = []
    for path in SOURCE.rglob("*.py"):
        if "tests" in path.parts or "testing" in path.parts:
            continue
        for name in pattern.findall(path.read_text(encoding="utf-8")):
            if name not in VARIABLES and name not in NOT_CONFIGURATION:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert not offenders, f"declare these in ebourgogne/config.py (and read them with env()): {offenders}"
