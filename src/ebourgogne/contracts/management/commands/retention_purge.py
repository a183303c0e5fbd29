"""`ebourgogne retention_purge [--dry-run]`: delete the files past their retention period (R2184-12/13).

The same purge as the daily job (`contracts.tasks_retention`): contract documents whose `retain_until`
has passed, bids and tender files of consultations past their retention date, letters and commission
minutes past theirs. Prints one line per contract, per consultation (bids, letters) and per meeting
(minutes), then the totals as JSON. `--dry-run` prints what would be deleted and deletes nothing.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from ebourgogne.contracts.retention import describe, purge


class Command(BaseCommand):
    help = "Supprime les fichiers dont la durée de conservation est écoulée (pièces des marchés, plis, DCE, courriers, procès-verbaux)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Afficher ce qui serait supprimé, sans rien supprimer."
        )

    def handle(self, *args, **options) -> None:
        dry_run = options["dry_run"]
        report = purge(dry_run=dry_run)
        heading = _("À supprimer (simulation, rien n'est supprimé) :") if dry_run else _("Supprimé :")
        lines = describe(report)
        self.stdout.write(heading if lines else _("Rien à supprimer."))
        for line in lines:
            self.stdout.write(f"- {line}")
        self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        if report.errors:
            self.stderr.write(_("%(n)s suppression(s) en échec : voir le journal.") % {"n": len(report.errors)})
