"""`ebourgogne operator grant|revoke EMAIL`: how a new platform gets its first operator."""

from __future__ import annotations

import io
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from ebourgogne.organisations.selectors import user_is_operator
from ebourgogne.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_grant_and_revoke_an_existing_account():
    first, second = UserFactory(email="premiere@e-bourgogne.test"), UserFactory(email="second@e-bourgogne.test")
    out = StringIO()
    call_command("operator", "grant", "Premiere@E-Bourgogne.test", stdout=out)
    call_command("operator", "grant", second.email, stdout=out)
    assert "premiere@e-bourgogne.test est désormais exploitant" in out.getvalue()
    first.refresh_from_db()
    assert first.is_staff and user_is_operator(first)
    call_command("operator", "revoke", first.email, stdout=out)
    first = get_user_model().objects.get(pk=first.pk)
    assert not first.is_staff and not user_is_operator(first)
    with pytest.raises(CommandError, match="dernier exploitant"):
        call_command("operator", "revoke", second.email)


def test_unknown_accounts_are_refused_unless_created():
    with pytest.raises(CommandError, match="--create"):
        call_command("operator", "grant", "nouvelle@e-bourgogne.test")


def test_create_the_first_operator_with_a_password_from_stdin(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("un mot de passe solide 2026\n"))
    call_command(
        "operator",
        "grant",
        "nouvelle@e-bourgogne.test",
        "--create",
        "--password-stdin",
        "--name",
        "Nina Neuve",
        stdout=StringIO(),
    )
    user = get_user_model().objects.get(email="nouvelle@e-bourgogne.test")
    assert user.check_password("un mot de passe solide 2026") and user.full_name == "Nina Neuve" and user.is_staff
    assert EmailAddress.objects.get(user=user).verified


def test_a_weak_password_is_refused_and_nothing_is_created(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("123\n"))
    with pytest.raises(CommandError):
        call_command("operator", "grant", "faible@e-bourgogne.test", "--create", "--password-stdin")
    assert not get_user_model().objects.filter(email="faible@e-bourgogne.test").exists()
