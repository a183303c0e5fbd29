"""Second factor required for buyer staff, commission members and platform operators.

A signed-in person holding one of `organisations.roles.MFA_REQUIRED_ROLES` (in any organisation) and no
authenticator app is sent to the activation page, with a message saying why. The pages needed to get
there stay open: allauth's own pages (login, logout, MFA, e-mail, password), the language switch, the
health probes. The API answers a JSON 403 instead of a redirect. Company members are not forced.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from ebourgogne.accounts import current
from ebourgogne.organisations.roles import MFA_REQUIRED_ROLES

# Views reachable without a second factor, matched on the view's module (allauth, set_language) or name.
EXEMPT_MODULE_PREFIXES = ("allauth.", "django.views.i18n", "django.views.static")
EXEMPT_VIEW_NAMES = frozenset({"healthz", "readyz"})


def mfa_required(request: HttpRequest) -> bool:
    """True when the signed-in person must have a second factor and has none."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    if not (current.roles(request) & MFA_REQUIRED_ROLES):
        return False
    return not current.has_totp(request)


def _exempt(request: HttpRequest, view_func) -> bool:
    module = getattr(view_func, "__module__", "") or ""
    if module.startswith(EXEMPT_MODULE_PREFIXES):
        return True
    match = getattr(request, "resolver_match", None)
    return bool(match is not None and match.url_name in EXEMPT_VIEW_NAMES and not match.namespace)


class RequireMFAMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if _exempt(request, view_func) or not mfa_required(request):
            return None
        message = _(
            "Votre rôle exige la double authentification. Activez une application d'authentification "
            "pour continuer à utiliser la plateforme."
        )
        if request.path_info.startswith("/api/"):
            return JsonResponse({"detail": message, "code": "mfa_required"}, status=403)
        messages.warning(request, message)
        return redirect("mfa_activate_totp")
