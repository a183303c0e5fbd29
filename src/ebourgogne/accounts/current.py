"""What every page needs to know about the signed-in person, read once per request and never kept longer.

The navigation (organisation switcher, operator menu), the MFA middleware and the account pages all ask
the same two questions: which organisations and roles does this person have, and do they have an
authenticator app. Both are answered by the query that reads the session with the signed-in person
(`session_with_person`, run by the session engine core.sessions), by the one that loads the person
(`load_user()`, when the session came from elsewhere, as the Redis cache), or by one query of their own,
all from SQL compiled once (`core.prepared`); the
answers are kept on the request only: a membership removed or an authenticator deleted shows on
the very next request, in every server process, with nothing to invalidate.
"""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Exists, OuterRef
from django.http import HttpRequest

from ebourgogne.core.prepared import PreparedQuery
from ebourgogne.organisations.models import Organisation
from ebourgogne.organisations.selectors import group_organisation_rows, memberships_of_user_id_rows

_ORGANISATIONS_ATTR = "_ebourgogne_current_organisations"
_TOTP_ATTR = "_ebourgogne_current_has_totp"


def _totp_of(user_id):
    return Authenticator.objects.filter(user_id=user_id, type=Authenticator.Type.TOTP)


# One query for both questions when the person has organisations (each row also says "has TOTP")...
_memberships_and_totp = PreparedQuery(
    lambda user_id: memberships_of_user_id_rows(user_id).annotate(has_totp_app=Exists(_totp_of(OuterRef("user_id"))))
)
# ... and this one when they have none.
_totp_of_user_id = PreparedQuery(lambda user_id: _totp_of(user_id).values_list("pk")[:1])


# --- The person's row, their organisations and their TOTP state in one query ----------------------------
# Read by the authentication middleware (accounts.authentication) when it loads the signed-in person: the
# answers are kept on the request only once the person is accepted (active, session hash verified).


def _user_fields() -> list[str]:
    return [field.attname for field in get_user_model()._meta.concrete_fields]


def _organisation_fields() -> list[str]:
    return [field.attname for field in Organisation._meta.concrete_fields]


def _person_columns(user_path: str) -> list[str]:
    """The person's columns, their organisations' and the role, from the model at `user_path` ("" or
    "user__")."""
    return [
        *(f"{user_path}{name}" for name in _user_fields()),
        *(f"{user_path}memberships__organisation__{name}" for name in _organisation_fields()),
        f"{user_path}memberships__role",
    ]


def _person_ordering(user_path: str) -> list[str]:
    return [f"{user_path}memberships__organisation__{name}" for name in ("name", "id")] + [
        f"{user_path}memberships__role"
    ]


def _user_with_memberships(user_id):
    return (
        get_user_model()
        ._default_manager.filter(pk=user_id)
        .order_by(*_person_ordering(""))
        .values_list(*_person_columns(""))
        .annotate(has_totp_app=Exists(_totp_of(OuterRef("pk"))))
    )


_user_with_memberships_query = PreparedQuery(_user_with_memberships)


# The session row with the person signed in through it (accounts.models.Session keeps their id): the session
# engine (core.sessions) reads both at once, the authentication middleware takes the person from there.
SESSION_COLUMNS = ("session_data", "expire_date")


def _session_with_person(session_key):
    from ebourgogne.accounts.models import Session

    return (
        Session.objects.filter(session_key=session_key)
        .order_by(*_person_ordering("user__"))
        .values_list(*SESSION_COLUMNS, *_person_columns("user__"))
        .annotate(has_totp_app=Exists(_totp_of(OuterRef("user_id"))))
    )


session_with_person = PreparedQuery(_session_with_person, kinds=(str,))


def _person_from_rows(rows, start: int) -> tuple[Any, list[tuple[Organisation, list[str]]], bool]:
    """(user or None, active organisations with roles, has TOTP) from rows whose person columns begin at
    `start`."""
    user_fields, organisation_fields = _user_fields(), _organisation_fields()
    end = start + len(user_fields)
    if not rows or rows[0][start + user_fields.index(get_user_model()._meta.pk.attname)] is None:
        return None, [], False
    role_at = end + len(organisation_fields)
    active_at = end + organisation_fields.index("is_active")
    user = get_user_model().from_db(DEFAULT_DB_ALIAS, user_fields, rows[0][start:end])
    memberships = [row[end:] for row in rows if row[role_at] is not None and row[active_at]]
    return user, group_organisation_rows(memberships), bool(rows[0][-1])


def load_user(user_id: int) -> tuple[Any, list[tuple[Organisation, list[str]]], bool]:
    """(user or None, their active organisations with roles, has TOTP), read in one query."""
    return _person_from_rows(_user_with_memberships_query.rows(user_id), 0)


_SESSION_ROWS_ATTR = "_ebourgogne_person_rows"


def keep_session_rows(session: Any, rows: list[tuple]) -> None:
    """Called by the session engine: the rows of `session_with_person` it has just read."""
    session.__dict__[_SESSION_ROWS_ATTR] = rows


def person_read_with_session(session: Any, user_id: int) -> tuple[Any, list[tuple[Organisation, list[str]]], bool]:
    """`load_user(user_id)`, taken from the rows the session engine read with the session when they are
    those of `user_id` (the id in the session data), else read now. The rows are used once."""
    rows = session.__dict__.pop(_SESSION_ROWS_ATTR, None)
    if rows:
        found = _person_from_rows(rows, len(SESSION_COLUMNS))
        if found[0] is not None and found[0].pk == user_id:
            return found
    return load_user(user_id)


def remember(request: HttpRequest, found: list[tuple[Organisation, list[str]]], totp: bool) -> None:
    """Keep what `load_user()` read with the person, for the rest of this request."""
    setattr(request, _ORGANISATIONS_ATTR, found)
    setattr(request, _TOTP_ATTR, totp)


# --- Read on demand (requests whose user was loaded otherwise) ----------------------------------------


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
        rows = _memberships_and_totp.rows(user_id) if user_id is not None else []
        found = group_organisation_rows(rows)
        setattr(request, _ORGANISATIONS_ATTR, found)
        if rows:
            setattr(request, _TOTP_ATTR, bool(rows[0][-1]))
    return found


def roles(request: HttpRequest) -> set[str]:
    """Every role the signed-in person holds, in any organisation."""
    return {role for _organisation, held in organisations(request) for role in held}


def has_totp(request: HttpRequest) -> bool:
    """True when the signed-in person has an authenticator app (TOTP) activated."""
    found = request.__dict__.get(_TOTP_ATTR)
    if found is None:
        organisations(request)  # answers both when the person has organisations
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
