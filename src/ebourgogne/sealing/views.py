"""The personal opening key pages, under /compte/cle-ouverture/ (a signed-in person, on their own key).

Thin: forms check the two entries agree, `services` apply the rules; a passphrase is never echoed back."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ebourgogne.core.access import authenticated
from ebourgogne.core.errors import DomainError
from ebourgogne.sealing import forms, selectors, services


def _page(request: HttpRequest, *, status: int = 200, **forms_given) -> HttpResponse:
    key = selectors.personal_key_of(request.user)
    context = {
        "key": key,
        "shares": selectors.shares_held(request.user),
        "min_length": services.PASSPHRASE_MIN_LENGTH,
        "setup_form": forms_given.get("setup_form") or forms.SetUpForm(auto_id="setup_%s"),
        "rotate_form": forms_given.get("rotate_form") or forms.RotateForm(auto_id="rotate_%s"),
        "lost_form": forms_given.get("lost_form") or forms.ReplaceLostForm(auto_id="lost_%s"),
    }
    return render(request, "sealing/personal_key.html", context, status=status)


@authenticated
def home(request: HttpRequest) -> HttpResponse:
    return _page(request)


def _error_field(error: DomainError) -> str | None:
    return "passphrase" if error.code == "weak_passphrase" else None


@require_POST
@authenticated
def set_up(request: HttpRequest) -> HttpResponse:
    form = forms.SetUpForm(request.POST, auto_id="setup_%s")
    if form.is_valid():
        try:
            services.personal_key_create(user=request.user, passphrase=form.cleaned_data["passphrase"], request=request)
        except DomainError as error:
            form.add_error(_error_field(error), error.message)
        else:
            messages.success(request, _("Votre clé d'ouverture est créée. Retenez bien votre phrase secrète."))
            return redirect("sealing:home")
    return _page(request, setup_form=form, status=400)


@require_POST
@authenticated
def rotate(request: HttpRequest) -> HttpResponse:
    form = forms.RotateForm(request.POST, auto_id="rotate_%s")
    if form.is_valid():
        try:
            services.personal_key_rotate(
                user=request.user,
                old_passphrase=form.cleaned_data["old_passphrase"],
                new_passphrase=form.cleaned_data["passphrase"],
                request=request,
            )
        except DomainError as error:
            form.add_error("old_passphrase" if error.code == "wrong_passphrase" else _error_field(error), error.message)
        else:
            messages.success(
                request,
                _("Votre clé d'ouverture est changée : vos parts de clé suivent la nouvelle phrase secrète."),
            )
            return redirect("sealing:home")
    return _page(request, rotate_form=form, status=400)


@require_POST
@authenticated
def replace_lost(request: HttpRequest) -> HttpResponse:
    form = forms.ReplaceLostForm(request.POST, auto_id="lost_%s")
    if form.is_valid():
        try:
            services.personal_key_create(
                user=request.user, passphrase=form.cleaned_data["passphrase"], replace_lost=True, request=request
            )
        except DomainError as error:
            form.add_error(_error_field(error), error.message)
        else:
            messages.warning(
                request,
                _(
                    "Votre nouvelle clé d'ouverture est créée. Les parts que vous déteniez pour les consultations déjà "
                    "publiées sont perdues : prévenez l'administrateur de l'acheteur."
                ),
            )
            return redirect("sealing:home")
    return _page(request, lost_form=form, status=400)
