"""What every page needs to know about the signed-in person, read once per request and never kept longer.

The navigation (organisation switcher, operator menu), the MFA middleware and the account pages all ask
the same two questions: which organisations and roles does this person have, and do they have an
authenticator app. Each is answered by one query per request, from SQL compiled once (`core.prepared`),
and the answer is kept on the request only: a membership removed or an authenticator deleted shows on
the very next request, in every server process, with nothing to invalidate.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.http import HttpRequest

from ebourgogne.core.prepared import PreparedQuery
from ebourgogne.organisations.models import Organisation
from ebourgogne.organisations.selectors import organisations_of_user_id

_ORGANISATIONS_ATTR = "_ebourgogne_current_organisations"
_TOTP_ATTR = "_ebourgogne_current_has_totp"

_totp_of_user_id = PreparedQuery(
    lambda user_id: Authenticator.objects.filter(user_id=user_id, type=Authenticator.Type.TOTP).values_list("pk")[:1]
)


def _signed_in_user_id(request: HttpRequest) -> int | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return user.pk


def organisations(request: HttpRequest) -> list[tuple[Organisation, list[str]]]:
    """The signed-in person's active organisations with their roles there, by name (empty for visitors)."""
    found = request.__dict__.get(_ORGANISATIONS_ATTR)
    if found is None:
        user_id = _signed_in_user_id(request)
        found = organisations_of_user_id(user_id) if user_id is not None else []
        setattr(request, _ORGANISATIONS_ATTR, found)
    return found


def roles(request: HttpRequest) -> set[str]:
    """Every role the signed-in person holds, in any organisation."""
    return {role for _organisation, held in organisations(request) for role in held}


def has_totp(request: HttpRequest) -> bool:
    """True when the signed-in person has an authenticator app (TOTP) activated."""
    found = request.__dict__.get(_TOTP_ATTR)
    if found is None:
        user_id = _signed_in_user_id(request)
        found = bool(user_id is not None and _totp_of_user_id.rows(user_id))
        setattr(request, _TOTP_ATTR, found)
    return found


def forget(request: HttpRequest) -> None:
    """Drop what was read for this request (after a change made by the request itself)."""
    request.__dict__.pop(_ORGANISATIONS_ATTR, None)
    request.__dict__.pop(_TOTP_ATTR, None)
