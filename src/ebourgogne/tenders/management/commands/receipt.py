"""`ebourgogne receipt verify RECEIPT.json [FILES...]`: check a bid receipt offline.

Checks the digest of the canonical payload, the RFC 3161 timestamp token (imprint = digest, signature,
TSA certificate chain to a root: the one given with --ca, else the one carried by the receipt, whose
fingerprint is printed to compare with the platform's /horodatage/ page) and each file's SHA-256 against
the receipt. Exit code 0 when everything holds, 1 otherwise. Needs no database.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = "Vérifie un accusé de réception de pli hors ligne (empreinte, jeton d'horodatage RFC 3161, fichiers)."
    requires_system_checks: list = []
    requires_migrations_checks = False

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser(
            "verify", help="Vérifier un accusé de réception (JSON) et, en option, les fichiers déposés."
        )
        verify.add_argument("receipt", help="L'accusé de réception au format JSON.")
        verify.add_argument("files", nargs="*", help="Fichiers chiffrés déposés, à comparer à l'accusé.")
        verify.add_argument(
            "--ca", action="append", default=[], help="Certificat racine de l'autorité d'horodatage (PEM), répétable."
        )
        verify.add_argument(
            "--language", choices=["fr", "en"], default=None, help="Langue des messages : fr (par défaut) ou en."
        )

    def handle(self, *args, **options) -> None:
        from ebourgogne.tenders.receipts import verify_document
        from ebourgogne.timestamping.authority import load_pem_certificates

        with translation.override(options["language"] or settings.LANGUAGE_CODE):
            try:
                document = json.loads(Path(options["receipt"]).read_text(encoding="utf-8"))
            except OSError as error:
                raise CommandError(
                    _("Accusé illisible : %(error)s") % {"error": error.strerror}, returncode=1
                ) from None
            except ValueError:
                raise CommandError(
                    _("Ce fichier n'est pas du JSON : ce n'est pas un accusé de réception."), returncode=1
                ) from None
            roots = None
            if options["ca"]:
                roots = []
                for path in options["ca"]:
                    try:
                        roots.extend(load_pem_certificates(Path(path).read_bytes()))
                    except (OSError, ValueError):
                        raise CommandError(
                            _("Certificat racine illisible : %(path)s") % {"path": path}, returncode=1
                        ) from None
            payload = document.get("payload") if isinstance(document, dict) else None
            if isinstance(payload, dict):
                self.stdout.write(
                    _("Accusé %(number)s — %(bidder)s — consultation %(reference)s — déposé le %(time)s%(late)s")
                    % {
                        "number": document.get("number", "?"),
                        "bidder": (payload.get("bidder") or {}).get("name", "?"),
                        "reference": (payload.get("consultation") or {}).get("reference", "?"),
                        "time": payload.get("deposited_at", "?"),
                        "late": _(" (HORS DÉLAI)") if payload.get("late") else "",
                    }
                )
            checks = verify_document(document, options["files"], trust_roots=roots)
            for check in checks:
                mark = _("OK    ") if check.ok else _("ÉCHEC ")
                line = f"{mark} {check.message}"
                self.stdout.write(self.style.SUCCESS(line) if check.ok else self.style.ERROR(line))
            failed = [c for c in checks if not c.ok]
            if failed:
                raise CommandError(
                    _("Accusé NON vérifié : %(count)d contrôle(s) en échec.") % {"count": len(failed)}, returncode=1
                )
            self.stdout.write(self.style.SUCCESS(_("Accusé vérifié : tous les contrôles sont conformes.")))
