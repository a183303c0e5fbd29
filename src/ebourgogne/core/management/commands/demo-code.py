"""`ebourgogne demo-code EMAIL`: the current TOTP code of a demo account (demo data only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ebourgogne.core import demo


class Command(BaseCommand):
    help = "Print the current 6-digit TOTP code of a demo account. Refused in production and for other accounts."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email", help="E-mail address of a demo account (see `ebourgogne demo`).")

    def handle(self, *args: Any, email: str, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("demo-code is refused with EBOURGOGNE_PRODUCTION=1.")
        try:
            code = demo.current_code(email)
        except demo.NotDemoAccount as refused:
            raise CommandError(f"{refused} demo-code only works for the demo accounts.") from None
        self.stdout.write(code)
