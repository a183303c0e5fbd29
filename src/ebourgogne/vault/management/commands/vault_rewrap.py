"""Re-wrap every company data key of the vault with the current platform key (after a rotation).

    EBOURGOGNE_VAULT_PLATFORM_KEY=<new> EBOURGOGNE_VAULT_PLATFORM_KEY_PREVIOUS=<old> ebourgogne vault_rewrap

The files are not re-encrypted (only the wrapped keys change); see vault/crypto.py."""

from django.core.management.base import BaseCommand

from ebourgogne.vault.storage import rewrap_all


class Command(BaseCommand):
    help = "Wrap every vault data key with the current platform key (VAULT_PLATFORM_KEY)."

    def handle(self, *args, **options):
        changed = rewrap_all()
        self.stdout.write(f"{changed} data key(s) re-wrapped.")
