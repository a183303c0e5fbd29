"""`ebourgogne seed --buyers N --companies N --consultations N --seed S`: generated organisations and
consultations for demos and benchmarks."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ebourgogne.organisations import seeding


class Command(BaseCommand):
    help = _(
        "Ajoute des acheteurs publics (avec leurs services) et des entreprises de Bourgogne générés : "
        "identifiants valides, communes réelles ; même graine, mêmes données."
    )

    def add_arguments(self, parser):
        parser.add_argument("--buyers", type=int, default=0, help=_("nombre d'acheteurs publics à ajouter"))
        parser.add_argument("--companies", type=int, default=0, help=_("nombre d'entreprises à ajouter"))
        parser.add_argument(
            "--consultations",
            type=int,
            default=0,
            help=_("nombre de consultations à ajouter (aux acheteurs déjà présents), indexées pour la recherche"),
        )
        parser.add_argument("--seed", type=int, default=0, help=_("graine du générateur (défaut : 0)"))

    def handle(self, *args, buyers: int, companies: int, seed: int, consultations: int = 0, **options):
        if buyers < 0 or companies < 0 or consultations < 0:
            raise CommandError(_("--buyers, --companies et --consultations doivent être positifs ou nuls."))
        started = time.perf_counter()
        counts = seeding.seed(buyers=buyers, companies=companies, seed=seed)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            _("%(buyers)d acheteurs, %(services)d services et %(companies)d entreprises ajoutés en %(seconds).2f s.")
            % {**counts, "seconds": elapsed}
        )
        if consultations:
            self._seed_consultations(consultations, seed)

    def _seed_consultations(self, count: int, seed: int) -> None:
        from ebourgogne.consultations.seeding import seed_consultations

        started = time.perf_counter()
        try:
            counts = seed_consultations(count=count, seed=seed)
        except ValueError:
            raise CommandError(_("Aucun acheteur public : ajoutez-en d'abord avec --buyers.")) from None
        self.stdout.write(
            _(
                "%(consultations)d consultations (%(lots)d lots, %(cpv_codes)d codes CPV) ajoutées et "
                "%(indexed)d indexées en %(seconds).1f s."
            )
            % {**counts, "seconds": time.perf_counter() - started}
        )
