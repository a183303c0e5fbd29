"""The regional portal: home, help, legal pages, and the platform operator's home."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from ebourgogne.core.access import operator_only, public
from ebourgogne.core.layout import layout_inputs
from ebourgogne.portal.help import AUDIENCES

# Where people write to the platform's team (shown on the contact page).
CONTACT_EMAIL = "contact@e-bourgogne.fr"


@public(reason="the regional portal's home page")
def home(request):
    return render(request, "portal/home.html", layout_inputs(request))


@public(reason="help pages describe the platform, no data")
def help_index(request):
    return render(request, "portal/help/index.html", {"audiences": AUDIENCES.values()})


@public(reason="help pages describe the platform, no data")
def help_role(request, role: str):
    audience = AUDIENCES.get(role)
    if audience is None:
        raise Http404
    return render(request, "portal/help/role.html", {"audience": audience, "audiences": AUDIENCES.values()})


@public(reason="accessibility statement, required to be public (RGAA)")
def accessibility(request):
    return render(request, "portal/accessibility.html")


@public(reason="legal notice, required to be public")
def legal(request):
    return render(request, "portal/legal.html")


@public(reason="contact details of the platform's team")
def contact(request):
    return render(request, "portal/contact.html", {"contact_email": CONTACT_EMAIL})


@operator_only
def operator_home(request):
    return render(request, "portal/operator_home.html")
