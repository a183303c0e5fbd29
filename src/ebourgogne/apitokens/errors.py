"""JSON errors of the API, in the caller's language (French by default, English with Accept-Language: en).

Every error is `{"detail": "...", "code": "...", "errors": {...}}`: `detail` a clear message, `code` a stable
machine-readable reason, `errors` (invalid input, 422) the messages per field. `install(api)` sets the
handlers on the NinjaAPI (ebourgogne/api.py). django-ninja's own English messages (unparsable JSON, CSRF)
are said again in the caller's language.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from ebourgogne.core.errors import DomainError


class ApiError(HttpError):
    """An HttpError with a machine-readable `code` next to the message (see `install`)."""

    def __init__(self, status_code: int, message: str, code: str) -> None:
        super().__init__(status_code, message)
        self.code = code


def consultation_not_found() -> str:
    return _("Consultation introuvable.")


def question_not_found() -> str:
    return _("Question introuvable.")


def file_not_found() -> str:
    return _("Ce fichier ne fait pas partie du DCE en préparation.")


def upload_refused() -> str:
    return _(
        "Envoyez un seul fichier, en multipart/form-data dans le champ « file » (ou, pour un petit fichier, en "
        "JSON avec name et content_base64), sans dépasser la place restante dans le DCE."
    )


def upload_too_large(left: str, limit: str) -> str:
    return _(
        "Le fichier dépasse la place restante dans le DCE (%(left)s sur %(limit)s) : il n'a pas été enregistré."
    ) % {
        "left": left,
        "limit": limit,
    }


def install(api: NinjaAPI) -> None:
    def _json(
        request: HttpRequest, status: int, detail: str, code: str = "", errors: dict | None = None
    ) -> HttpResponse:
        body: dict[str, Any] = {"detail": detail}
        if code:
            body["code"] = code
        if errors:
            body["errors"] = errors
        return api.create_response(request, body, status=status)

    # django-ninja's own messages, in English whatever the caller's language: said again in theirs.
    def _ninja_message(message: str) -> tuple[str, str] | None:
        if message.startswith("Cannot parse request body"):
            return _("Le corps de la requête n'est pas un JSON valide."), "json_invalid"
        if message == "CSRF check Failed":
            return _(
                "Jeton CSRF absent ou invalide : avec la session du navigateur, envoyez l'en-tête X-CSRFToken ; "
                "une application utilise plutôt un jeton d'API."
            ), "csrf_failed"
        return None

    @api.exception_handler(AuthenticationError)
    def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return _json(
            request,
            401,
            _("Authentification requise : envoyez un jeton d'API (Authorization: Bearer <jeton>) ou connectez-vous."),
            "authentication_required",
        )

    @api.exception_handler(Throttled)
    def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        return _json(request, 429, _("Trop de requêtes. Réessayez dans un instant."), "rate_limited")

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        # Errors raised with a plain HttpError (core.access...) keep their plain {"detail": ...} body.
        message, code = str(exc), getattr(exc, "code", "")
        known = _ninja_message(message)
        if known:
            message, code = known
        return _json(request, exc.status_code, message, code)

    @api.exception_handler(DomainError)
    def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        status = {"not_found": 404, "forbidden": 403, "too_large": 413}.get(exc.code, 400)
        return _json(request, status, str(exc.message), exc.code, getattr(exc, "errors", None))

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return _json(request, 404, _("Ressource introuvable."), "not_found")

    @api.exception_handler(PermissionDenied)
    def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return _json(request, 403, str(exc) or _("Action non autorisée."), "forbidden")

    def _field_message(error: dict[str, Any]) -> str:
        """A French (or English) message for one pydantic error, by its type."""
        kind = error.get("type", "")
        context = error.get("ctx") or {}
        if kind == "missing":
            return _("Champ obligatoire.")
        if kind == "extra_forbidden":
            return _("Champ inconnu.")
        if kind in {"string_type", "string_unicode"}:
            return _("Texte attendu.")
        if kind in {"int_type", "int_parsing", "int_from_float"}:
            return _("Nombre entier attendu.")
        if kind in {"bool_type", "bool_parsing"}:
            return _("Booléen attendu (true ou false).")
        if kind in {"decimal_type", "decimal_parsing", "float_type", "float_parsing"}:
            return _("Nombre attendu.")
        if kind.startswith("decimal_max") or kind == "decimal_whole_digits":
            return _("Nombre trop grand ou trop précis.")
        if kind.startswith("datetime") or kind == "timezone_aware":
            return _("Date et heure ISO 8601 attendues, avec le fuseau (par exemple 2027-01-15T12:00:00+01:00).")
        if kind.startswith("date"):
            return _("Date ISO 8601 attendue (AAAA-MM-JJ).")
        if kind in {"list_type", "tuple_type", "set_type"}:
            return _("Liste attendue.")
        if kind in {"dict_type", "model_type", "model_attributes_type"}:
            return _("Objet JSON attendu.")
        if kind == "string_too_long":
            return _("Au plus %(max)s caractères.") % {"max": context.get("max_length", "?")}
        if kind == "string_too_short":
            return _("Au moins %(min)s caractère(s).") % {"min": context.get("min_length", "?")}
        if kind in {"greater_than_equal", "greater_than"}:
            return _("Valeur trop petite (minimum : %(limit)s).") % {"limit": context.get("ge", context.get("gt", "?"))}
        if kind in {"less_than_equal", "less_than"}:
            return _("Valeur trop grande (maximum : %(limit)s).") % {"limit": context.get("le", context.get("lt", "?"))}
        if kind in {"enum", "literal_error"}:
            return _("Valeur non prévue (valeurs possibles : %(expected)s).") % {
                "expected": context.get("expected", "")
            }
        if kind == "value_error":
            # Our validators raise ValueError with a message already translated.
            return str(context.get("error") or error.get("msg", "")).removeprefix("Value error, ")
        if kind == "json_invalid":
            return _("JSON invalide.")
        return _("Valeur invalide.")

    def _field_name(loc: Any) -> str:
        parts = [str(part) for part in (loc or [])]
        if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form", "file"}:
            source, parts = parts[0], parts[1:]
            if source == "body" and len(parts) > 1:
                parts = parts[1:]  # the parameter's own name ("payload")
        return ".".join(parts) or "__all__"

    @api.exception_handler(ValidationError)
    def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors: dict[str, list[str]] = {}
        for error in exc.errors:
            errors.setdefault(_field_name(error.get("loc")), []).append(_field_message(error))
        summary = "; ".join(f"{field} : {' '.join(messages)}" for field, messages in errors.items())
        return _json(request, 422, _("Données invalides — %(summary)s") % {"summary": summary}, "validation", errors)
