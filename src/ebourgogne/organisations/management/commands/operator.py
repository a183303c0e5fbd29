"""`ebourgogne operator grant EMAIL` / `ebourgogne operator revoke EMAIL`: who operates the platform.

The first operator of a new platform is made here (nobody can do it in the web interface yet).
`grant --create` also creates the account, with its e-mail address marked verified, when it does not
exist: the password is asked twice on the terminal, or read from standard input with --password-stdin.
"""

from __future__ import annotations

import getpass
import sys

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from ebourgogne.core.errors import DomainError
from ebourgogne.organisations import services


class Command(BaseCommand):
    help = _("Donne (grant) ou retire (revoke) le rôle d'exploitant de la plateforme à un compte.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["grant", "revoke"])
        parser.add_argument("email")
        parser.add_argument("--create", action="store_true", help=_("crée le compte s'il n'existe pas (avec grant)"))
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help=_("lit le mot de passe du nouveau compte sur l'entrée standard"),
        )
        parser.add_argument("--name", default="", help=_("nom complet du nouveau compte (avec grant --create)"))

    def handle(self, *args, action: str, email: str, create: bool, password_stdin: bool, name: str, **options):
        email = email.strip().lower()
        User = get_user_model()
        user = User.objects.filter(email__iexact=email).first()
        try:
            with transaction.atomic():
                if action == "grant":
                    if user is None:
                        if not create:
                            raise CommandError(
                                _("Aucun compte n'utilise %(email)s. Inscrivez-vous d'abord, ou ajoutez --create.")
                                % {"email": email}
                            )
                        user = self._create_user(email, name, password_stdin)
                    elif not EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists():
                        # The person running this command vouches for the address.
                        EmailAddress.objects.update_or_create(
                            user=user, email=email, defaults={"verified": True, "primary": True}
                        )
                    services.operator_grant(acting_user=None, user=user)
                    self.stdout.write(
                        self.style.SUCCESS(_("%(email)s est désormais exploitant de la plateforme.") % {"email": email})
                    )
                else:
                    if user is None:
                        raise CommandError(_("Aucun compte n'utilise %(email)s.") % {"email": email})
                    services.operator_revoke(acting_user=None, user=user)
                    self.stdout.write(
                        self.style.SUCCESS(_("%(email)s n'est plus exploitant de la plateforme.") % {"email": email})
                    )
        except DomainError as error:
            raise CommandError(str(error.message)) from None

    def _create_user(self, email: str, name: str, password_stdin: bool):
        User = get_user_model()
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            if not sys.stdin.isatty():
                raise CommandError(_("Pas de terminal pour demander le mot de passe : utilisez --password-stdin."))
            password = getpass.getpass(_("Mot de passe : "))
            if password != getpass.getpass(_("Mot de passe (confirmation) : ")):
                raise CommandError(_("Les deux mots de passe diffèrent."))
        user = User(email=email, full_name=name)
        try:
            password_validation.validate_password(password, user)
        except ValidationError as invalid:
            raise CommandError(" ".join(invalid.messages)) from None
        user = User.objects.create_user(email=email, password=password, full_name=name)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        self.stdout.write(_("Compte %(email)s créé (adresse électronique marquée vérifiée).") % {"email": email})
        return user
