"""`ebourgogne search_index --rebuild`: index every public consultation again (after an upgrade, a bulk
import or to repair the index)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ebourgogne.search import indexing


class Command(BaseCommand):
    help = _("Reconstruit l'index de recherche du portail à partir des consultations publiques.")

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help=_("vider l'index et tout réindexer"))

    def handle(self, *args, rebuild: bool, **options):
        if not rebuild:
            raise CommandError(_("Précisez --rebuild pour reconstruire l'index."))
        started = time.perf_counter()
        count = indexing.rebuild()
        self.stdout.write(
            _("%(count)d consultations indexées en %(seconds).1f s.")
            % {"count": count, "seconds": time.perf_counter() - started}
        )
