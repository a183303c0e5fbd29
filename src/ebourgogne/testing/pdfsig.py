"""pdfsig (poppler-utils), an independent reader of PDF signatures, for the tests that check ours.

`pdfsig(path)` returns its report, or skips the calling test loudly when poppler-utils is missing (CI
installs it): call it after the test's other assertions so that they still run.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest


def pdfsig(path) -> str:  # noqa: ANN001 - a str or a Path
    """pdfsig's report of `path`. Skipped loudly when poppler-utils is missing (CI installs it)."""
    binary = shutil.which("pdfsig")
    if binary is None:
        pytest.skip("pdfsig (poppler-utils) is not installed: the independent check did NOT run")
    done = subprocess.run(  # noqa: S603 - a fixed binary on a file of ours
        [binary, "-no-ocsp", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def signature_blocks(report: str) -> list[str]:
    """The report's part for each signature, in order."""
    return report.split("Signature #")[1:]
