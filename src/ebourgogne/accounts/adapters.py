"""How django-allauth fits the platform: mails in the recipient's language, the language chosen at sign-up
kept on the account and applied again at each login."""

from __future__ import annotations

import time
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import translation

SUPPORTED_LANGUAGES = frozenset(code for code, _name in settings.LANGUAGES)


def supported_language(code: str | None) -> str:
    """`code` reduced to a language the platform speaks ("en-gb" → "en"), else the default."""
    if code:
        base = code.split("-")[0].lower()
        if base in SUPPORTED_LANGUAGES:
            return base
    return settings.LANGUAGE_CODE


def language_for_recipient(email: str, context: dict[str, Any]) -> str:
    """The language of the person a mail goes to: their account's, else the page's current language
    (someone who has no account yet, e.g. a password reset for an unknown address)."""
    user = context.get("user")
    if user is None or not getattr(user, "pk", None):
        user = get_user_model().objects.filter(email__iexact=email).only("language").first()
    if user is not None and getattr(user, "language", None):
        return supported_language(user.language)
    return supported_language(translation.get_language())


def set_language_cookie(response, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        with translation.override(language_for_recipient(email, context)):
            super().send_mail(template_prefix, email, context)

    def save_user(self, request, user, form, commit: bool = True):
        # The language the person used to sign up is their language until they change it.
        user.language = supported_language(translation.get_language())
        return super().save_user(request, user, form, commit=commit)

    def post_login(self, request, user, **kwargs):
        language = supported_language(getattr(user, "language", None))
        translation.activate(language)  # before the "signed in" message is rendered
        response = super().post_login(request, user, **kwargs)
        if response is not None:
            set_language_cookie(response, language)
        return response

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        # A person who has just signed in with their password is not asked for it again (for example on
        # the way from the login page to the mandatory MFA activation); later on, allauth's rule applies.
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        return not signed_in_recently(getattr(allauth_context, "request", None))


def signed_in_recently(request) -> bool:
    """True when this session's person proved their password less than REAUTHENTICATION_TIMEOUT ago."""
    from allauth.account.internal.flows.login import get_authentication_records

    if request is None or not request.user.is_authenticated:
        return False
    records = [r for r in get_authentication_records(request, request.user) if r.get("method") == "password"]
    if not records:
        return False
    return time.time() - float(records[-1].get("at", 0)) < account_settings.REAUTHENTICATION_TIMEOUT


class MFAAdapter(DefaultMFAAdapter):
    """Notification mails go through AccountAdapter.send_mail, hence in the recipient's language."""
