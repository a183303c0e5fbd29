"""`ebourgogne audit verify`: check the hash chain of the audit trail.

Exit status 0 when the chain is intact, 1 at the first broken link (named on standard error).
"""

from __future__ import annotations

import re
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ebourgogne.audit.integrity import explain, verify_chain

ANCHOR_PATTERN = re.compile(r"^(\d+):([0-9a-f]{64})$")


def _anchor(value: str) -> tuple[int, str]:
    match = ANCHOR_PATTERN.match(value.strip().lower())
    if not match:
        raise CommandError(_("Point de repère invalide « %(value)s » : attendu NUMÉRO:EMPREINTE.") % {"value": value})
    return int(match.group(1)), match.group(2)


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        # A plain string: argparse cannot format a lazy one.
        return _(
            "Outils du journal des événements. verify : recalcule la chaîne d'empreintes et nomme le premier "
            "maillon rompu."
        )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            default=None,
            help=_("langue des messages (par défaut, celle de la plateforme)"),
        )
        subcommands = parser.add_subparsers(dest="subcommand", required=True, metavar="{verify}")
        verify = subcommands.add_parser(
            "verify", help=_("vérifie la chaîne d'empreintes de tous les événements, dans l'ordre")
        )
        verify.add_argument(
            "--batch-size",
            type=int,
            default=2000,
            help=_("événements lus par requête (la mémoire utilisée reste constante)"),
        )
        verify.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help=_(
                "numéro et empreinte relevés lors d'une vérification précédente ; échoue si cet événement a changé "
                "(option répétable)"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["language"] or settings.LANGUAGE_CODE):
            if options["subcommand"] == "verify":
                self.verify(options)

    def verify(self, options: dict[str, Any]) -> None:
        if options["batch_size"] < 1:
            raise CommandError(_("--batch-size doit être un entier positif."))
        anchors = [_anchor(value) for value in options["anchor"]]
        started = time.perf_counter()
        result = verify_chain(batch_size=options["batch_size"], anchors=anchors)
        elapsed = time.perf_counter() - started
        if result.ok:
            self.stdout.write(
                ngettext(
                    "OK : %(count)s événement, chaîne intacte",
                    "OK : %(count)s événements, chaîne intacte",
                    result.count,
                )
                % {"count": result.count}
            )
            self.stdout.write(
                _("Tête de chaîne : %(seq)s:%(hash)s (à noter ailleurs pour --anchor) — vérifié en %(seconds)s s")
                % {"seq": result.head_seq, "hash": result.head_hash, "seconds": number_format(elapsed, 2)}
            )
            return
        assert result.problem is not None
        self.stderr.write(
            _("ÉCHEC : premier maillon rompu au n° %(seq)s") % {"seq": result.problem.seq}
            + "\n"
            + explain(result.problem)
            + "\n"
            + ngettext(
                "%(count)s événement vérifié avant la rupture.",
                "%(count)s événements vérifiés avant la rupture.",
                result.count,
            )
            % {"count": result.count}
        )
        raise SystemExit(1)
