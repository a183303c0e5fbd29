"""Health probes and error pages."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from ebourgogne.core.access import public


@public(reason="liveness probe: says only that the process answers")
def healthz(request):
    return JsonResponse({"status": "ok"})


@public(reason="readiness probe: database, storage and queue reachability, no data")
def readyz(request):
    from ebourgogne.core.health import readiness

    checks = readiness()
    ok = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503)


def _error(request, status: int, title: str, message: str):
    return render(request, "core/error.html", {"title": title, "message": message, "status": status}, status=status)


def bad_request(request, exception=None):
    return _error(request, 400, _("Requête invalide"), _("La requête n'a pas pu être comprise. Vérifiez les informations saisies et réessayez."))


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else _("Vous n'avez pas les droits nécessaires pour cette page.")
    return _error(request, 403, _("Accès refusé"), message)


def page_not_found(request, exception=None):
    return _error(request, 404, _("Page introuvable"), _("Cette page n'existe pas ou n'est pas accessible avec votre compte."))


def server_error(request):
    return _error(request, 500, _("Erreur du service"), _("Une erreur inattendue s'est produite. L'équipe d'exploitation en est informée ; réessayez dans quelques instants."))
