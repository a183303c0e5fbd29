"""Health probes and error pages.

Error pages answer in the visitor's language with the right status: 400 malformed request, 403 refused,
404 unknown or not yours, 413 request too large, 500 our fault, and the CSRF failure page. None of them
may fail in turn: the 500 page renders without touching the database.
"""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from ebourgogne.core.access import public

logger = logging.getLogger("ebourgogne.errors")

TOO_LARGE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


@public(reason="liveness probe: says only that the process answers")
def healthz(request):
    return JsonResponse({"status": "ok"})


@public(reason="readiness probe: database, storage and queue reachability, no data")
def readyz(request):
    from ebourgogne.core.health import readiness

    checks = readiness()
    ok = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503)


def wants_json(request) -> bool:
    return request.path_info.startswith("/api/")


def error_response(request, status: int, title: str, message: str, code: str):
    """The error page (or a JSON body for the API) with `status`."""
    if wants_json(request):
        return JsonResponse({"detail": message, "code": code}, status=status)
    context = {"title": title, "message": message, "status": status}
    return render(request, "core/error.html", context, status=status)


def too_large_response(request, exception=None):
    if isinstance(exception, TooManyFieldsSent):
        message = _("Le formulaire envoyé contient trop de champs. Rechargez la page et réessayez.")
    elif isinstance(exception, TooManyFilesSent):
        message = _("Trop de fichiers ont été envoyés en une fois. Envoyez-les en plusieurs fois.")
    else:
        message = _(
            "Les données envoyées dépassent la taille autorisée. Réduisez le texte saisi ou la taille "
            "des fichiers, puis réessayez."
        )
    return error_response(request, 413, _("Envoi trop volumineux"), message, "too_large")


def bad_request(request, exception=None):
    if isinstance(exception, TOO_LARGE):
        return too_large_response(request, exception)
    return error_response(
        request,
        400,
        _("Requête invalide"),
        _("La requête n'a pas pu être comprise. Vérifiez les informations saisies et réessayez."),
        "bad_request",
    )


def permission_denied(request, exception=None):
    detail = str(exception) if exception is not None else ""
    message = detail or _("Vous n'avez pas les droits nécessaires pour cette page.")
    return error_response(request, 403, _("Accès refusé"), message, "forbidden")


def page_not_found(request, exception=None):
    return error_response(
        request,
        404,
        _("Page introuvable"),
        _("Cette page n'existe pas ou n'est pas accessible avec votre compte. Vérifiez l'adresse saisie."),
        "not_found",
    )


def server_error(request):
    title = _("Erreur du service")
    message = _(
        "Une erreur inattendue s'est produite. L'équipe d'exploitation en est informée ; "
        "réessayez dans quelques instants."
    )
    if wants_json(request):
        return JsonResponse({"detail": message, "code": "server_error"}, status=500)
    try:
        # No request context: the database may be what failed, so nothing here may query it.
        html = render_to_string(
            "core/error.html",
            {"title": title, "message": message, "status": 500, "PLATFORM_NAME": "e-bourgogne", "minimal": True},
        )
    except Exception:  # noqa: BLE001 - the last resort must not fail
        logger.exception("The 500 page could not be rendered")
        html = f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{message}</p>"
    return HttpResponseServerError(html)


def csrf_failure(request, reason: str = "", template_name: str = ""):
    """The form was refused by the CSRF protection: usually an expired page or cookies turned off."""
    logger.info("CSRF failure on %s: %s", request.path, reason)
    return error_response(
        request,
        403,
        _("Formulaire expiré"),
        _(
            "Le formulaire n'a pas pu être vérifié : la page était peut-être ouverte depuis trop longtemps, "
            "ou votre navigateur refuse les cookies. Rechargez la page, puis envoyez le formulaire à nouveau. "
            "Les cookies de ce site doivent être acceptés."
        ),
        "csrf_failed",
    )
