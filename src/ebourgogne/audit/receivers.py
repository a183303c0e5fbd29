"""Account and MFA events recorded from the signals of Django and django-allauth (connected in apps.ready).

Account events belong to a person, not to an organisation: they carry no organisation and are seen by
platform operators. Nothing secret is ever recorded: a failed login keeps the e-mail address tried,
never the password; MFA events keep the kind of authenticator, never its secret or codes.
"""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.contrib.auth import signals as auth_signals

from ebourgogne.audit.chain import clean_text
from ebourgogne.audit.services import log_event

RECOVERY_CODES = "recovery_codes"


def _user(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def on_signed_up(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    log_event(action="account.signup", actor=user, obj=user, request=request)


def on_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    log_event(action="account.login", actor=user, obj=user, request=request)


def on_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    user = _user(user)
    if user is not None:
        log_event(action="account.logout", actor=user, obj=user, request=request)


def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # Only the identifier tried: credentials also hold the (masked) password, which is never recorded.
    tried = credentials.get("email") or credentials.get("username") or credentials.get("login") or ""
    log_event(action="account.login.failed", data={"email": clean_text(tried, 254)}, request=request)


def on_email_confirmed(sender: Any, request: Any, email_address: Any, **kwargs: Any) -> None:
    user = email_address.user
    log_event(
        action="account.email.confirmed", actor=user, obj=user, data={"email": email_address.email}, request=request
    )


def on_email_added(sender: Any, request: Any, user: Any, email_address: Any, **kwargs: Any) -> None:
    log_event(action="account.email.added", actor=user, obj=user, data={"email": email_address.email}, request=request)


def on_email_removed(sender: Any, request: Any, user: Any, email_address: Any, **kwargs: Any) -> None:
    log_event(
        action="account.email.removed", actor=user, obj=user, data={"email": email_address.email}, request=request
    )


def on_email_changed(
    sender: Any, request: Any, user: Any, from_email_address: Any, to_email_address: Any, **kwargs: Any
) -> None:
    data = {"from": getattr(from_email_address, "email", ""), "to": getattr(to_email_address, "email", "")}
    log_event(action="account.email.primary_changed", actor=user, obj=user, data=data, request=request)


def on_password_set(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    log_event(action="account.password.set", actor=user, obj=user, request=request)


def on_password_changed(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    log_event(action="account.password.changed", actor=user, obj=user, request=request)


def on_password_reset(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    log_event(action="account.password.reset", actor=user, obj=user, request=request)


def on_authenticator_added(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    log_event(action="account.mfa.added", actor=user, obj=user, data={"type": authenticator.type}, request=request)


def on_authenticator_removed(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    log_event(action="account.mfa.removed", actor=user, obj=user, data={"type": authenticator.type}, request=request)


def on_authenticator_reset(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    action = "account.mfa.recovery_codes.regenerated" if authenticator.type == RECOVERY_CODES else "account.mfa.reset"
    log_event(action=action, actor=user, obj=user, data={"type": authenticator.type}, request=request)


def on_mfa_failed(sender: Any, request: Any, user: Any, authenticator: Any = None, **kwargs: Any) -> None:
    data = {"type": getattr(authenticator, "type", ""), "reauthentication": bool(kwargs.get("reauthentication"))}
    log_event(action="account.mfa.failed", actor=None, obj=user, data=data, request=request)


DISPATCH_UID = "ebourgogne.audit"


def connect() -> None:
    """Connect every receiver (idempotent: each has a dispatch_uid)."""
    pairs = [
        (account_signals.user_signed_up, on_signed_up),
        # Django's own signals: fired by allauth's login and logout, and by every other way in (admin...).
        (auth_signals.user_logged_in, on_logged_in),
        (auth_signals.user_logged_out, on_logged_out),
        (auth_signals.user_login_failed, on_login_failed),
        (account_signals.email_confirmed, on_email_confirmed),
        (account_signals.email_added, on_email_added),
        (account_signals.email_removed, on_email_removed),
        (account_signals.email_changed, on_email_changed),
        (account_signals.password_set, on_password_set),
        (account_signals.password_changed, on_password_changed),
        (account_signals.password_reset, on_password_reset),
        (mfa_signals.authenticator_added, on_authenticator_added),
        (mfa_signals.authenticator_removed, on_authenticator_removed),
        (mfa_signals.authenticator_reset, on_authenticator_reset),
        (mfa_signals.authentication_failed, on_mfa_failed),
    ]
    for signal, receiver in pairs:
        signal.connect(receiver, dispatch_uid=f"{DISPATCH_UID}.{receiver.__name__}")
