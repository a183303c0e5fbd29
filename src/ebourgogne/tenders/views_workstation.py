"""The workstation test (/poste-de-travail/): can this browser seal and send a bid, and how fast?

The page itself runs in the browser (static/tenders/workstation.js): capabilities (streams, Origin Private
File System, WebCrypto), encryption speed (age, to a throwaway key, on data generated in the page) and
upload speed, measured against `upload_probe`, which reads the body and throws it away. No account is
needed: a company checks its computers before it has one.
"""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ebourgogne.core.access import public
from ebourgogne.tenders.limits import CHUNK_SIZE

# What the page sends and encrypts: enough to measure a rate, small enough for a slow line.
PROBE_UPLOAD_BYTES = 16 * 1024 * 1024
PROBE_ENCRYPT_BYTES = 64 * 1024 * 1024
# The probe refuses more than this per request, and more than PROBE_LIMIT requests per address per window:
# a person runs the test a few times; a robot does not get a free bandwidth sink.
PROBE_MAX_BYTES = 32 * 1024 * 1024
PROBE_LIMIT = 20
PROBE_WINDOW = 10 * 60
READ_BLOCK = 1024 * 1024


def _strings() -> dict[str, str]:
    """The page's messages, translated here (workstation.js only places them)."""
    return {
        "yes": _("oui"),
        "no": _("non"),
        "streams": _("Flux de données (Streams)"),
        "opfs": _("Stockage privé du navigateur (OPFS) pour reprendre un envoi après fermeture"),
        "webcrypto": _("Cryptographie du navigateur (WebCrypto)"),
        "running_encrypt": _("Mesure de la vitesse de chiffrement…"),
        "running_upload": _("Mesure de la vitesse d'envoi…"),
        "encrypt_speed": _("Chiffrement : {rate}/s ({size} en {time})"),
        "upload_speed": _("Envoi : {rate}/s ({size} en {time})"),
        "estimate": _("Un pli de {size} serait chiffré et envoyé en {time} environ."),
        "verdict_ok": _("Ce poste convient pour déposer des plis."),
        "verdict_slow": _(
            "Ce poste peut déposer des plis, mais lentement : prévoyez large avant la date limite "
            "(voir le guide du poste de travail)."
        ),
        "verdict_no_opfs": _(
            "Ce poste peut déposer des plis, mais un envoi interrompu par la fermeture du navigateur "
            "devra être repris depuis le début."
        ),
        "verdict_ko": _(
            "Ce navigateur ne peut pas chiffrer les plis. Utilisez une version récente de Firefox, "
            "Chrome, Edge ou Safari."
        ),
        "failed": _("La mesure a échoué : {message}"),
        "rate_limited": _("Trop de mesures depuis votre adresse. Réessayez dans quelques minutes."),
    }


@public(reason="workstation test: a static page measuring the visitor's own browser, no data")
@require_GET
def workstation(request: HttpRequest) -> HttpResponse:
    config = {
        "probe_url": reverse("tenders_workstation:probe"),
        "upload_bytes": PROBE_UPLOAD_BYTES,
        "encrypt_bytes": PROBE_ENCRYPT_BYTES,
        "chunk_size": CHUNK_SIZE,
        "example_bytes": 200 * 1000 * 1000,
        "strings": _strings(),
    }
    return render(request, "tenders/workstation.html", {"config": config})


def _probe_throttled(request: HttpRequest) -> bool:
    from ebourgogne.audit.services import client_ip

    key = f"tenders:probe:{client_ip(request)}"
    cache.add(key, 0, PROBE_WINDOW)
    try:
        return cache.incr(key) > PROBE_LIMIT
    except ValueError:  # expired between add and incr
        cache.set(key, 1, PROBE_WINDOW)
        return False


@public(reason="workstation test: reads the posted bytes and discards them (size-capped, rate-limited, CSRF)")
@require_POST
def upload_probe(request: HttpRequest) -> HttpResponse:
    """Read the request body block by block and forget it: the upload speed as the browser sees it."""
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = -1
    if length < 0 or length > PROBE_MAX_BYTES:
        message = _("La mesure accepte au plus %(size)s Mo par envoi.") % {"size": PROBE_MAX_BYTES // 1024 // 1024}
        return JsonResponse({"code": "too_large", "message": message}, status=413)
    if _probe_throttled(request):
        return JsonResponse({"code": "rate_limited", "message": _strings()["rate_limited"]}, status=429)
    received = 0
    while True:
        block = request.read(READ_BLOCK)
        if not block:
            break
        received += len(block)
    return JsonResponse({"received": received})
