"""The person's API tokens: list, create (the secret is shown once, on the answer to the creation), revoke."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ebourgogne.apitokens import selectors, services
from ebourgogne.apitokens.forms import TokenCreateForm
from ebourgogne.core.access import authenticated
from ebourgogne.core.errors import DomainError, NotFound


def _page(request, form, *, created=None, secret=None, status=200):
    context = {
        "form": form,
        "tokens": selectors.tokens_of(user=request.user),
        "created": created,
        "secret": secret,
        "limit": services.MAX_ACTIVE_TOKENS,
    }
    return render(request, "apitokens/tokens.html", context, status=status)


@authenticated
def tokens(request):
    if request.method != "POST":
        return _page(request, TokenCreateForm())
    form = TokenCreateForm(request.POST)
    if form.is_valid():
        try:
            token, secret = services.token_create(
                user=request.user, name=form.cleaned_data["name"], expires_at=form.expires_at(), request=request
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            # Shown on this answer only: it is stored nowhere in clear (signed-in pages are never cached).
            return _page(request, TokenCreateForm(), created=token, secret=secret, status=201)
    return _page(request, form, status=400)


@require_POST
@authenticated
def revoke(request, pk: int):
    try:
        token = services.token_revoke(user=request.user, token_id=pk, request=request)
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Le jeton « %(name)s » est révoqué.") % {"name": token.name})
    return redirect("apitokens:list")
