"""The contract pages: the buyer's (under /organisations/<org>/marches/) and the holder's (under
/organisations/<company>/mes-marches/). Thin: access through `core.access`, reads through `selectors`,
changes through `services`; a refusal is shown on the page with the input kept and the right status
(400, 403, 404). Another buyer's contract, or a contract held by another company, is a 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ebourgogne.contracts import decp_selectors, documents, forms, selectors, services
from ebourgogne.contracts.models import ContractState
from ebourgogne.core.access import organisation_view
from ebourgogne.core.errors import DomainError
from ebourgogne.organisations.roles import roles_grant
from ebourgogne.organisations.services import InvalidData

VIEW = "contracts.view"
MANAGE = "contracts.manage"
SIGN = "contracts.sign"
HOLDER = "contracts.holder"
HOLDER_SIGN = "contracts.holder_sign"
ERROR_STATUS = {"not_found": 404, "forbidden": 403}
CERTIFICATE_CODES = ("revoked", "expired", "not_yet_valid", "key_usage", "unsealable")
SECRET_CODES = ("wrong_secret", "wrong_password")


def _status(error: DomainError) -> int:
    return ERROR_STATUS.get(error.code, 400)


def _can(request: HttpRequest, *permissions: str) -> dict[str, bool]:
    roles = getattr(request, "organisation_roles", set())
    return {permission.split(".")[-1]: roles_grant(roles, permission) for permission in permissions}


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _buyer_contract(organisation: Any, pk: int) -> Any:
    contract = selectors.contract_of(organisation=organisation, pk=pk) if organisation.is_buyer else None
    if contract is None:
        raise Http404
    return contract


def _held_contract(organisation: Any, pk: int) -> Any:
    contract = selectors.held_contract(company=organisation, pk=pk) if not organisation.is_buyer else None
    if contract is None:
        raise Http404
    return contract


def verification_rows(document: Any) -> list[dict[str, Any]]:
    """The signatures of a document's last verification, from either report format (the platform's own
    check at signing, or `signatures.verify` for a piece signed elsewhere)."""
    rows = []
    for item in (document.verification or {}).get("signatures", []):
        certificate = item.get("certificate") or {}
        rows.append(
            {
                "kind": item.get("kind", "signature"),
                "signer": item.get("signer_name") or item.get("signer") or certificate.get("subject", ""),
                "field": item.get("field_name", ""),
                "time": item.get("timestamp") or item.get("timestamp_time") or item.get("signing_time") or "",
                "ok": bool(item.get("ok")),
                "qualified": item.get("qualified_label", ""),
            }
        )
    return rows


def _documents(contract: Any) -> list[dict[str, Any]]:
    return [
        {"document": document, "checks": verification_rows(document), "error": document.verification.get("error", "")}
        for document in selectors.documents_of(contract)
    ]


def _party_state(contract: Any, document: Any, party: str) -> str:
    if document is None:
        return ""
    return "signed" if getattr(document, f"{party}_signed_at") else "pending"


# --- Buyer: list and preparation ------------------------------------------------------------------


@require_GET
@organisation_view(VIEW)
def contract_list(request: HttpRequest, organisation: Any) -> HttpResponse:
    if not organisation.is_buyer:
        raise Http404
    state = request.GET.get("etat", "")
    search = request.GET.get("q", "")[: selectors.SEARCH_MAX]
    can = _can(request, MANAGE)
    context = {
        "organisation": organisation,
        "contracts": selectors.contracts_of(organisation=organisation, state=state, search=search),
        "awards": selectors.awards_to_contract(organisation=organisation) if can["manage"] else [],
        "decp_overdue": decp_selectors.decp_overdue(organisation) if can["manage"] else [],
        "decp_siret_missing": decp_selectors.decp_siret_missing(organisation) if can["manage"] else [],
        "states": ContractState.choices,
        "state": state if state in ContractState.values else "",
        "search": search,
        "can": can,
    }
    return render(request, "contracts/list.html", context)


@require_http_methods(["GET", "POST"])
@organisation_view(MANAGE)
def contract_prepare(request: HttpRequest, organisation: Any, award_id: int) -> HttpResponse:
    award = selectors.award_of(organisation=organisation, pk=award_id) if organisation.is_buyer else None
    if award is None:
        raise Http404
    existing = selectors.contract_of_award(award)
    if existing is not None:
        return redirect("contracts:detail", organisation.slug, existing.pk)
    form = forms.CreateForm(request.POST or None, auto_id="create_%s")
    error, status = "", 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                contract = services.contract_create(
                    award=award, acting_user=request.user, number=form.cleaned_data["number"], request=request
                )
            except InvalidData as invalid:
                for field, problems in invalid.errors.items():
                    for problem in problems:
                        form.add_error(field if field in form.fields else None, problem)
            except DomainError as problem:
                error, status = problem.message, _status(problem)
            else:
                messages.success(request, _("Le marché est préparé : vérifiez ses conditions, puis signez-le."))
                return redirect("contracts:detail", organisation.slug, contract.pk)
    context = {
        "organisation": organisation,
        "award": award,
        "consultation": award.evaluation.consultation,
        "form": form,
        "error": error,
    }
    return render(request, "contracts/prepare.html", context, status=status)


# --- Buyer: one contract --------------------------------------------------------------------------


def _detail(
    request: HttpRequest,
    organisation: Any,
    contract: Any,
    *,
    status: int = 200,
    error: str = "",
    terms_form: Any = None,
    sign_form: Any = None,
    upload_form: Any = None,
) -> HttpResponse:
    from ebourgogne.signatures import selectors as certificate_selectors

    can = _can(request, MANAGE, SIGN)
    document = selectors.contract_document(contract)
    preparing = contract.state == ContractState.PREPARING
    signed_any = document is not None and bool(document.buyer_signed_at or document.holder_signed_at)
    certificates = certificate_selectors.usable_certificates_of(request.user) if can["sign"] else []
    may_sign = can["sign"] and preparing and document is not None and document.buyer_signed_at is None
    if may_sign and sign_form is None:
        sign_form = forms.SignForm(certificates=certificates)
    if can["manage"] and preparing and not signed_any and terms_form is None:
        terms_form = forms.TermsForm.for_contract(contract)
    if can["manage"] and upload_form is None:
        upload_form = forms.UploadForm()
    context = {
        "organisation": organisation,
        "contract": contract,
        "side": "buyer",
        "document": document,
        "documents": _documents(contract),
        "buyer_state": _party_state(contract, document, "buyer"),
        "holder_state": _party_state(contract, document, "holder"),
        "can": can,
        "terms_form": terms_form if (can["manage"] and preparing and not signed_any) else None,
        "sign_form": sign_form if may_sign else None,
        "certificates": certificates,
        "upload_form": upload_form if can["manage"] else None,
        "can_notify": can["manage"] and contract.state == ContractState.SIGNED,
        "letter": contract.notification_letter,
        "error": error,
    }
    return render(request, "contracts/detail.html", context, status=status)


@require_GET
@organisation_view(VIEW)
def contract_detail(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    return _detail(request, organisation, _buyer_contract(organisation, pk))


@require_POST
@organisation_view(MANAGE)
def contract_terms(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    contract = _buyer_contract(organisation, pk)
    form = forms.TermsForm(request.POST, auto_id="terms_%s")
    if form.is_valid():
        data = form.cleaned_data
        terms = {field: data[field] for field in services.TERM_FIELDS if field in data}
        if terms.get("advance_rate") is None:
            terms["advance_rate"] = ""
        try:
            services.contract_update_terms(contract=contract, acting_user=request.user, request=request, **terms)
        except InvalidData as invalid:
            for field, problems in invalid.errors.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        except DomainError as problem:
            return _detail(request, organisation, contract, status=_status(problem), error=problem.message)
        else:
            messages.success(request, _("Les conditions du marché sont enregistrées ; l'acte d'engagement est à jour."))
            return redirect("contracts:detail", organisation.slug, contract.pk)
    return _detail(request, organisation, contract, status=400, terms_form=form)


def _sign(request: HttpRequest, organisation: Any, contract: Any, party: str, page: Any) -> HttpResponse:
    from ebourgogne.signatures import selectors as certificate_selectors

    form = forms.SignForm(request.POST, certificates=certificate_selectors.usable_certificates_of(request.user))
    if form.is_valid():
        try:
            done = services.contract_sign(
                contract=contract,
                party=party,
                acting_user=request.user,
                certificate=form.certificates[form.cleaned_data["certificate"]],
                secret=form.cleaned_data["secret"],
                request=request,
            )
        except DomainError as problem:
            if problem.code in SECRET_CODES:
                form.add_error("secret", problem.message)
            elif problem.code in CERTIFICATE_CODES:
                form.add_error("certificate", problem.message)
            else:
                return page(request, organisation, contract, status=_status(problem), error=problem.message)
        else:
            if done.state == ContractState.SIGNED:
                messages.success(request, _("Vous avez signé l'acte d'engagement : les deux parties ont signé."))
            else:
                messages.success(request, _("Vous avez signé l'acte d'engagement."))
            return None
    return page(request, organisation, contract, status=400, sign_form=form)


@require_POST
@organisation_view(SIGN)
def contract_sign(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    contract = _buyer_contract(organisation, pk)
    response = _sign(request, organisation, contract, "buyer", _detail)
    return response or redirect("contracts:detail", organisation.slug, contract.pk)


@require_POST
@organisation_view(MANAGE)
def contract_notify(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    contract = _buyer_contract(organisation, pk)
    try:
        services.contract_notify(contract=contract, acting_user=request.user, request=request)
    except DomainError as problem:
        return _detail(request, organisation, contract, status=_status(problem), error=problem.message)
    messages.success(request, _("Le marché est notifié au titulaire : son exécution commence."))
    return redirect("contracts:detail", organisation.slug, contract.pk)


@require_POST
@organisation_view(MANAGE)
def contract_decp_publish(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    contract = _buyer_contract(organisation, pk)
    try:
        services.contract_decp_publish(contract=contract, acting_user=request.user, request=request)
    except DomainError as problem:
        return _detail(request, organisation, contract, status=_status(problem), error=problem.message)
    messages.success(request, _("Les données essentielles du marché sont publiées."))
    return redirect("contracts:detail", organisation.slug, contract.pk)


def _upload(request: HttpRequest, organisation: Any, contract: Any, page: Any, *, holder: bool) -> HttpResponse | None:
    form = forms.UploadForm(request.POST, request.FILES, holder=holder)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > documents.MAX_SIZE:
            form.add_error("file", _("Le fichier dépasse la taille maximale de 50 Mo."))
        else:
            try:
                services.document_upload_signed(
                    contract=contract,
                    acting_user=request.user,
                    pdf_bytes=upload.read(),
                    filename=upload.name,
                    title=form.cleaned_data["title"],
                    kind=form.cleaned_data["kind"],
                    request=request,
                )
            except DomainError as problem:
                if problem.code in ("not_found", "forbidden"):
                    return page(request, organisation, contract, status=_status(problem), error=problem.message)
                form.add_error("title" if problem.code == "invalid_title" else "file", problem.message)
            else:
                messages.success(
                    request, _("La pièce est enregistrée avec le rapport de vérification de ses signatures.")
                )
                return None
    return page(request, organisation, contract, status=400, upload_form=form)


@require_POST
@organisation_view(MANAGE)
def contract_upload(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    contract = _buyer_contract(organisation, pk)
    response = _upload(request, organisation, contract, _detail, holder=False)
    return response or redirect("contracts:detail", organisation.slug, contract.pk)


def _download(contract: Any, document_id: int) -> HttpResponse:
    document = selectors.document_of(contract, document_id)
    if document is None:
        raise Http404
    try:
        data = documents.content(document)
    except DomainError as problem:
        return HttpResponse(problem.message, status=410 if problem.code == "purged" else 409, content_type="text/plain")
    return _pdf(data, document.filename)


@require_GET
@organisation_view(VIEW)
def document_download(request: HttpRequest, organisation: Any, pk: int, document_id: int) -> HttpResponse:
    return _download(_buyer_contract(organisation, pk), document_id)


# --- Holder ---------------------------------------------------------------------------------------


@require_GET
@organisation_view(HOLDER)
def holder_list(request: HttpRequest, organisation: Any) -> HttpResponse:
    if organisation.is_buyer:
        raise Http404
    state = request.GET.get("etat", "")
    context = {
        "organisation": organisation,
        "contracts": selectors.held_contracts(company=organisation, state=state),
        "states": ContractState.choices,
        "state": state if state in ContractState.values else "",
    }
    return render(request, "contracts/holder_list.html", context)


def _holder_detail(
    request: HttpRequest,
    organisation: Any,
    contract: Any,
    *,
    status: int = 200,
    error: str = "",
    sign_form: Any = None,
    upload_form: Any = None,
    terms_form: Any = None,
) -> HttpResponse:
    from ebourgogne.signatures import selectors as certificate_selectors

    can = _can(request, HOLDER_SIGN)
    document = selectors.contract_document(contract)
    preparing = contract.state == ContractState.PREPARING
    certificates = certificate_selectors.usable_certificates_of(request.user) if can["holder_sign"] else []
    may_sign = can["holder_sign"] and preparing and document is not None and document.holder_signed_at is None
    if may_sign and sign_form is None:
        sign_form = forms.SignForm(certificates=certificates)
    if upload_form is None:
        upload_form = forms.UploadForm(holder=True)
    context = {
        "organisation": organisation,
        "contract": contract,
        "side": "holder",
        "document": document,
        "documents": _documents(contract),
        "buyer_state": _party_state(contract, document, "buyer"),
        "holder_state": _party_state(contract, document, "holder"),
        "can": can,
        "sign_form": sign_form if may_sign else None,
        "certificates": certificates,
        "upload_form": upload_form,
        "letter": contract.notification_letter,
        "error": error,
    }
    return render(request, "contracts/holder_detail.html", context, status=status)


@require_GET
@organisation_view(HOLDER)
def holder_detail(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    return _holder_detail(request, organisation, _held_contract(organisation, pk))


@require_POST
@organisation_view(HOLDER_SIGN)
def holder_sign(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    contract = _held_contract(organisation, pk)
    response = _sign(request, organisation, contract, "holder", _holder_detail)
    return response or redirect("contracts_holder:detail", organisation.slug, contract.pk)


@require_POST
@organisation_view(HOLDER)
def holder_upload(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    contract = _held_contract(organisation, pk)
    response = _upload(request, organisation, contract, _holder_detail, holder=True)
    return response or redirect("contracts_holder:detail", organisation.slug, contract.pk)


@require_GET
@organisation_view(HOLDER)
def holder_download(request: HttpRequest, organisation: Any, pk: int, document_id: int) -> HttpResponse:
    return _download(_held_contract(organisation, pk), document_id)
