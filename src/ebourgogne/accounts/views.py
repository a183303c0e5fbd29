"""The person's own pages: account overview and profile."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _

from ebourgogne.accounts import current
from ebourgogne.accounts.adapters import set_language_cookie
from ebourgogne.accounts.forms import ProfileForm
from ebourgogne.accounts.middleware import mfa_required
from ebourgogne.accounts.selectors import recovery_codes_left
from ebourgogne.accounts.services import profile_update
from ebourgogne.core.access import authenticated
from ebourgogne.core.errors import DomainError
from ebourgogne.core.layout import layout_inputs, render_fragment_page
from ebourgogne.organisations.roles import MFA_REQUIRED_ROLES


@authenticated
def home(request):
    user = request.user
    has_totp = current.has_totp(request)
    organisations = current.organisations(request)
    context = {
        **layout_inputs(request),
        "organisations": organisations,
        "has_organisations": bool(organisations),
        "has_totp": has_totp,
        "mfa_is_required": bool(current.roles(request) & MFA_REQUIRED_ROLES),
        "mfa_missing": mfa_required(request),
        "recovery_codes_left": recovery_codes_left(user) if has_totp else None,
        "full_name": user.full_name,
        "email": user.email,
        "language": user.language,
    }
    # One fragment (its copy per language and situation, the person's data in its slots): rendered without
    # the context processors, which it never reads (core.layout.render_fragment_page).
    return render_fragment_page(request, "accounts/home.html", context)


@authenticated
def profile(request):
    user = request.user
    form = ProfileForm(
        request.POST if request.method == "POST" else None,
        initial={"full_name": user.full_name, "language": user.language},
    )
    if request.method == "POST" and form.is_valid():
        try:
            profile_update(
                user=user,
                acting_user=user,
                full_name=form.cleaned_data["full_name"],
                language=form.cleaned_data["language"],
                request=request,
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            language = user.language
            translation.activate(language)
            messages.success(request, _("Vos informations ont été enregistrées."))
            response = redirect("accounts:home")
            set_language_cookie(response, language)
            return response
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/profile.html", {"form": form}, status=status)
