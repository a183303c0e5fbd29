"""Plain-text parts of mails (subjects and text bodies) are not HTML-escaped: a title with an apostrophe or
an ampersand reads as typed, not as `&#x27;` or `&amp;`."""

from __future__ import annotations

from pathlib import Path

import pytest

from ebourgogne.notifications.services import render_templated_mail

PACKAGE = Path(__file__).resolve().parents[2]
TITLE = "Rénovation de l'école & du gymnase <Nord>"


def test_the_dce_rectification_subject_keeps_apostrophes_and_ampersands():
    mail = render_templated_mail(
        template="dce/email/rectification",
        context={
            "consultation_title": TITLE,
            "consultation_reference": "2026-01",
            "buyer_name": "Ville d'Auxerre",
            "version_number": 2,
            "reason": "Plan corrigé",
            "published_at": None,
            "added": [],
            "removed": [],
            "consultation_url": "https://e-bourgogne.example/consultations/1/",
            "unsubscribe_url": "https://e-bourgogne.example/x/",
            "downloader_name": "Léa",
        },
        language="fr",
    )
    assert TITLE in mail["subject"]
    assert "&#x27;" not in mail["subject"] + mail["text"] and "&amp;" not in mail["subject"]


@pytest.mark.parametrize(
    "path", sorted(p for p in PACKAGE.glob("*/templates/*/email/*.txt") if not p.name.startswith("_"))
)
def test_every_plain_text_mail_template_turns_autoescape_off(path):
    assert "{% autoescape off %}" in path.read_text(encoding="utf-8"), (
        f"{path.relative_to(PACKAGE)}: wrap it in {{% autoescape off %}} (plain text is not HTML)"
    )
