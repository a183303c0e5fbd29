"""The operators' view of the mail outbox (/exploitation/courriels/)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.csp import CSP
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET, require_POST

from ebourgogne.core.access import operator_only
from ebourgogne.core.errors import DomainError
from ebourgogne.notifications import selectors, services
from ebourgogne.notifications.forms import OutboxSearchForm, TestMailForm

PAGE_SIZE = 50

# The HTML version of a mail is a document we did not write for the web: it is served apart, in a
# sandbox (no script, no form, a unique origin), with nothing fetched from outside (no tracking image),
# and only framed by our own detail page. Its <style> is allowed there and nowhere else.
MAIL_HTML_CSP = {
    "default-src": [CSP.NONE],
    "style-src": [CSP.UNSAFE_INLINE],
    "img-src": ["data:"],
    "font-src": [CSP.NONE],
    "form-action": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.SELF],
    "sandbox": True,
}


def _get_message(pk: int):
    message = selectors.outbox_message(pk=pk)
    if message is None:
        raise Http404
    return message


@require_GET
@operator_only
def outbox(request):
    form = OutboxSearchForm(request.GET or None)
    recipient = status = ""
    if form.is_bound and form.is_valid():
        recipient, status = form.cleaned_data["recipient"], form.cleaned_data["status"]
    page = Paginator(selectors.outbox_messages(recipient=recipient, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "notifications/outbox_list.html",
        {"form": form, "page": page, "query": query.urlencode(), "test_form": TestMailForm()},
    )


@require_GET
@operator_only
def outbox_detail(request, pk: int):
    return render(request, "notifications/outbox_detail.html", {"message": _get_message(pk)})


@require_GET
@operator_only
@xframe_options_sameorigin
@csp_override(MAIL_HTML_CSP)
def outbox_html(request, pk: int):
    message = _get_message(pk)
    if not message.html_body:
        raise Http404
    response = HttpResponse(message.html_body, content_type="text/html; charset=utf-8")
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_POST
@operator_only
def resend(request, pk: int):
    message = _get_message(pk)
    try:
        services.outbox_resend(message=message, acting_user=request.user, request=request)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Le courriel sera renvoyé dans quelques instants."))
    return redirect("notifications:outbox_detail", pk=message.pk)


@require_POST
@operator_only
def send_test(request):
    form = TestMailForm(request.POST)
    if form.is_valid():
        services.send_test_mail(
            to=form.cleaned_data["to"],
            language=form.cleaned_data["language"],
            acting_user=request.user,
            request=request,
        )
        messages.success(
            request, _("Le courriel d'essai à %(address)s est en file d'envoi.") % {"address": form.cleaned_data["to"]}
        )
        return redirect("notifications:outbox")
    page = Paginator(selectors.outbox_messages(), PAGE_SIZE).get_page(1)
    return render(
        request,
        "notifications/outbox_list.html",
        {"form": OutboxSearchForm(), "page": page, "query": "", "test_form": form},
        status=400,
    )
