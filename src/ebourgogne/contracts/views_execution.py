"""The execution pages of a contract: for the buyer under /organisations/<org>/marches/<pk>/execution/,
for the holder under /organisations/<company>/mes-marches/<pk>/execution/.

Thin: access through `core.access` (a contract that is not yours is 404), reads through
`execution_selectors`, changes through `execution`; a refusal is shown on the page with the input kept
and the right status (400, 403, 404).

The acts (modification, order form, subcontracting act, subcontracting change) share one page each
(`act`), addressed by a kind slug: "avenant", "bon-de-commande", "sous-traitance",
"modification-sous-traitance".
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ebourgogne.contracts import documents, execution
from ebourgogne.contracts import execution_selectors as selectors
from ebourgogne.contracts import forms_execution as forms
from ebourgogne.contracts.models import ChangeState, ContractState, LegalGround, SubcontractState
from ebourgogne.core.access import organisation_view
from ebourgogne.core.errors import DomainError
from ebourgogne.organisations.roles import roles_grant
from ebourgogne.organisations.services import InvalidData

ERROR_STATUS = {"not_found": 404, "forbidden": 403}
KINDS = {
    "avenant": "modification",
    "bon-de-commande": "order",
    "sous-traitance": "subcontract",
    "modification-sous-traitance": "subcontract_change",
}
# The forms of the overview (their key: the context's "<key>_form" and the ids' prefix) and of a
# subcontracting act's page.
CONTRACT_FORMS = {
    "modification": forms.ModificationForm,
    "order": forms.OrderFormForm,
    "subcontract": forms.SubcontractForm,
    "milestone": forms.MilestoneForm,
    "end": forms.EndForm,
}
SUBCONTRACT_FORMS = {"decision": forms.SubcontractDecisionForm, "change": forms.SubcontractChangeForm}
SIGN_FIELD_ERRORS = {
    "wrong_secret": "secret",
    "wrong_password": "secret",
    "revoked": "certificate",
    "expired": "certificate",
    "not_yet_valid": "certificate",
    "key_usage": "certificate",
    "unsealable": "certificate",
}


def _status(error: DomainError) -> int:
    return ERROR_STATUS.get(error.code, 400)


def _message(error: DomainError) -> str:
    errors = getattr(error, "errors", None)
    if errors:
        return " ".join(str(message) for values in errors.values() for message in values)
    return str(error.message)


def _buyer_contract(organisation: Any, contract_pk: int):
    if not organisation.is_buyer:
        raise Http404
    contract = selectors.buyer_contract(organisation=organisation, pk=contract_pk)
    if contract is None:
        raise Http404
    return contract


def _holder_contract(organisation: Any, contract_pk: int):
    if not organisation.is_company:
        raise Http404
    contract = selectors.holder_contract(company=organisation, pk=contract_pk)
    if contract is None:
        raise Http404
    return contract


def _item(contract: Any, kind: str, item_id: int):
    finder = {
        "modification": selectors.modification_of,
        "order": selectors.order_of,
        "subcontract": selectors.subcontract_of,
        "subcontract_change": selectors.subcontract_change_of,
    }.get(KINDS.get(kind, ""))
    if finder is None:
        raise Http404
    item = finder(contract, item_id)
    if item is None:
        raise Http404
    return item


def _can(request: HttpRequest, *, holder: bool) -> dict[str, bool]:
    roles = getattr(request, "organisation_roles", set())
    if holder:
        return {
            "manage": False,
            "sign": roles_grant(roles, execution.HOLDER_SIGN),
            "declare": roles_grant(roles, execution.HOLDER),
        }
    manage = roles_grant(roles, execution.MANAGE)
    return {"manage": manage, "sign": roles_grant(roles, execution.SIGN), "declare": manage}


def _urls(organisation: Any, contract: Any, *, holder: bool) -> dict[str, str]:
    namespace = "contracts_holder_execution" if holder else "contracts_execution"
    return {"namespace": namespace, "overview": reverse(f"{namespace}:overview", args=[organisation.slug, contract.pk])}


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Overview -------------------------------------------------------------------------------------


def _overview(
    request: HttpRequest,
    organisation: Any,
    contract: Any,
    *,
    holder: bool = False,
    forms_given: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    given = forms_given or {}
    running = contract.state == ContractState.NOTIFIED
    context = {
        "organisation": organisation,
        "contract": contract,
        "holder_view": holder,
        "terms": selectors.terms(contract),
        "modifications": selectors.modifications_of(contract),
        "orders": selectors.orders_of(contract),
        "subcontracts": selectors.subcontracts_of(contract),
        "milestones": selectors.milestones_of(contract),
        "can": _can(request, holder=holder),
        "running": running,
        "urls": _urls(organisation, contract, holder=holder),
        "milestone_error": given.get("milestone_error"),
    }
    for key, form_class in CONTRACT_FORMS.items():
        context[f"{key}_form"] = given.get(key) or form_class(auto_id=f"{key}_%s")
    return render(request, "contracts/execution/overview.html", context, status=status)


@organisation_view("contracts.view")
@require_GET
def overview(request: HttpRequest, organisation: Any, contract_pk: int) -> HttpResponse:
    return _overview(request, organisation, _buyer_contract(organisation, contract_pk))


@organisation_view("contracts.holder")
@require_GET
def holder_overview(request: HttpRequest, organisation: Any, contract_pk: int) -> HttpResponse:
    return _overview(request, organisation, _holder_contract(organisation, contract_pk), holder=True)


def _submit(
    request: HttpRequest,
    organisation: Any,
    contract: Any,
    key: str,
    service: Any,
    *,
    success: str,
    anchor: str,
    holder: bool = False,
) -> HttpResponse:
    """A form of the overview (`key` in CONTRACT_FORMS) sent to `service` with the contract: on success,
    back to the overview with `success`; otherwise the overview again with the form, its errors and the
    refusal's status."""
    form = CONTRACT_FORMS[key](request.POST, auto_id=f"{key}_%s")
    status = 400
    if form.is_valid():
        try:
            service(acting_user=request.user, contract=contract, request=request, **form.cleaned_data)
        except DomainError as error:
            forms.add_service_errors(form, error)
            status = _status(error)
        else:
            messages.success(request, success)
            return redirect(_urls(organisation, contract, holder=holder)["overview"] + anchor)
    return _overview(request, organisation, contract, holder=holder, forms_given={key: form}, status=status)


@organisation_view("contracts.manage")
@require_POST
def modification_create(request: HttpRequest, organisation: Any, contract_pk: int) -> HttpResponse:
    return _submit(
        request,
        organisation,
        _buyer_contract(organisation, contract_pk),
        "modification",
        execution.modification_create,
        success=_("La modification est préparée : elle doit maintenant être signée par les deux parties."),
        anchor="#modifications",
    )


@organisation_view("contracts.manage")
@require_POST
def order_issue(request: HttpRequest, organisation: Any, contract_pk: int) -> HttpResponse:
    return _submit(
        request,
        organisation,
        _buyer_contract(organisation, contract_pk),
        "order",
        execution.order_issue,
        success=_("Le bon de commande est émis : signez-le puis notifiez-le au titulaire."),
        anchor="#bons-de-commande",
    )


def _declare(request: HttpRequest, organisation: Any, contract: Any, *, holder: bool) -> HttpResponse:
    return _submit(
        request,
        organisation,
        contract,
        "subcontract",
        execution.subcontract_declare,
        success=_("Le sous-traitant est déclaré : l'acheteur doit l'accepter et agréer ses conditions de paiement."),
        anchor="#sous-traitance",
        holder=holder,
    )


@organisation_view("contracts.manage")
@require_POST
def subcontract_declare(request: HttpRequest, organisation: Any, contract_pk: int) -> HttpResponse:
    return _declare(request, organisation, _buyer_contract(organisation, contract_pk), holder=False)


@organisation_view("contracts.holder")
@require_POST
def holder_subcontract_declare(request: HttpRequest, organisation: Any, contract_pk: int) -> HttpResponse:
    return _declare(request, organisation, _holder_contract(organisation, contract_pk), holder=True)


@organisation_view("contracts.manage")
@require_POST
def milestone_set(request: HttpRequest, organisation: Any, contract_pk: int) -> HttpResponse:
    return _submit(
        request,
        organisation,
        _buyer_contract(organisation, contract_pk),
        "milestone",
        execution.milestone_set,
        success=_("Le jalon est enregistré."),
        anchor="#jalons",
    )


@organisation_view("contracts.manage")
@require_POST
def milestone_done(request: HttpRequest, organisation: Any, contract_pk: int, item_id: int) -> HttpResponse:
    contract = _buyer_contract(organisation, contract_pk)
    milestone = selectors.milestone_of(contract, item_id)
    if milestone is None:
        raise Http404
    form = forms.MilestoneDoneForm(request.POST, auto_id=f"done_{milestone.pk}_%s")
    status = 400
    message = _("Indiquez la date de réalisation (AAAA-MM-JJ).")
    if form.is_valid():
        try:
            execution.milestone_done(
                acting_user=request.user, milestone=milestone, done_on=form.cleaned_data["done_on"], request=request
            )
        except DomainError as error:
            message, status = _message(error), _status(error)
        else:
            messages.success(request, _("Le jalon est marqué comme réalisé."))
            return redirect(_urls(organisation, contract, holder=False)["overview"] + "#jalons")
    error = {"milestone": milestone.pk, "message": message, "done_on": request.POST.get("done_on", "")}
    return _overview(request, organisation, contract, forms_given={"milestone_error": error}, status=status)


@organisation_view("contracts.manage")
@require_POST
def contract_end(request: HttpRequest, organisation: Any, contract_pk: int) -> HttpResponse:
    return _submit(
        request,
        organisation,
        _buyer_contract(organisation, contract_pk),
        "end",
        execution.contract_end,
        success=_(
            "La fin du marché est enregistrée ; la durée de conservation de ses pièces court à partir de cette date."
        ),
        anchor="#fin",
    )


# --- One act: its page, signature, notification, decision ----------------------------------------


def _title(kind: str, item: Any) -> str:
    if kind == "modification":
        return _("Modification n° %(number)s") % {"number": item.number}
    if kind == "order":
        return _("Bon de commande n° %(number)s") % {"number": item.number}
    if kind == "subcontract":
        return _("Acte spécial de sous-traitance n° %(number)s — %(name)s") % {
            "number": item.number,
            "name": item.subcontractor_name,
        }
    return _("Acte modificatif n° %(number)s de la sous-traitance n° %(act)s") % {
        "number": item.number,
        "act": item.subcontract.number,
    }


def _act_page(
    request: HttpRequest,
    organisation: Any,
    contract: Any,
    kind: str,
    item: Any,
    *,
    holder: bool = False,
    sign_form: Any = None,
    decision_form: Any = None,
    change_form: Any = None,
    new_holder_form: Any = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    from ebourgogne.signatures import selectors as certificate_selectors

    can = _can(request, holder=holder)
    party = execution.HOLDER_PARTY if holder else execution.BUYER
    parties = execution.signing_parties(item)
    document = getattr(item, "document", None)
    signed_at = None
    if document is not None:
        signed_at = document.holder_signed_at if holder else document.buyer_signed_at
    may_sign = bool(
        can["sign"]
        and party in parties
        and document is not None
        and signed_at is None
        and item.notified_at is None
        and contract.state == ContractState.NOTIFIED
    )
    certificates = certificate_selectors.usable_certificates_of(request.user) if may_sign else []
    if may_sign and sign_form is None:
        sign_form = forms.SignForm(certificates=certificates, auto_id="sign_%s")
    is_subcontract = KINDS[kind] == "subcontract"
    may_set_holder = bool(
        not holder
        and can["manage"]
        and KINDS[kind] == "modification"
        and item.legal_ground == LegalGround.NEW_HOLDER
        and item.state == ChangeState.DRAFT
        and not (document is not None and (document.buyer_signed_at or document.holder_signed_at))
        and contract.state == ContractState.NOTIFIED
    )
    if may_set_holder and new_holder_form is None:
        new_holder_form = forms.NewHolderForm(
            initial={"new_holder_name": item.new_holder_name, "new_holder_siret": item.new_holder_siret},
            auto_id="new_holder_%s",
        )
    context = {
        "title": _title(KINDS[kind], item),
        "organisation": organisation,
        "contract": contract,
        "holder_view": holder,
        "kind": kind,
        "kind_name": KINDS[kind],
        "item": item,
        "document": document,
        "parties": parties,
        "can": can,
        "may_sign": may_sign,
        "certificates": certificates,
        "sign_form": sign_form,
        "may_notify": bool(
            not holder
            and can["manage"]
            and item.notified_at is None
            and execution.signed_by_all(item)
            and contract.state == ContractState.NOTIFIED
        ),
        "may_decide": bool(not holder and can["manage"] and is_subcontract and item.state == SubcontractState.DECLARED),
        "decision_form": decision_form or forms.SubcontractDecisionForm(auto_id="decision_%s"),
        "may_change": bool(
            not holder
            and can["manage"]
            and is_subcontract
            and item.state == SubcontractState.ACCEPTED
            and item.notified_at is not None
            and contract.state == ContractState.NOTIFIED
        ),
        "change_form": change_form or forms.SubcontractChangeForm(auto_id="change_%s"),
        "changes": selectors.changes_of(item) if is_subcontract else [],
        "may_set_holder": may_set_holder,
        "new_holder_form": new_holder_form,
        "error": error,
        "urls": _urls(organisation, contract, holder=holder),
    }
    return render(request, "contracts/execution/act.html", context, status=status)


@organisation_view("contracts.view")
@require_GET
def act(request: HttpRequest, organisation: Any, contract_pk: int, kind: str, item_id: int) -> HttpResponse:
    contract = _buyer_contract(organisation, contract_pk)
    return _act_page(request, organisation, contract, kind, _item(contract, kind, item_id))


@organisation_view("contracts.holder")
@require_GET
def holder_act(request: HttpRequest, organisation: Any, contract_pk: int, kind: str, item_id: int) -> HttpResponse:
    contract = _holder_contract(organisation, contract_pk)
    return _act_page(request, organisation, contract, kind, _item(contract, kind, item_id), holder=True)


def _sign(request: HttpRequest, organisation: Any, contract: Any, kind: str, item_id: int, *, holder: bool):
    from ebourgogne.signatures import selectors as certificate_selectors

    item = _item(contract, kind, item_id)
    form = forms.SignForm(
        request.POST, certificates=certificate_selectors.usable_certificates_of(request.user), auto_id="sign_%s"
    )
    if form.is_valid():
        try:
            execution.act_sign(
                acting_user=request.user,
                item=item,
                party=execution.HOLDER_PARTY if holder else execution.BUYER,
                certificate=form.certificates[form.cleaned_data["certificate"]],
                secret=form.cleaned_data["secret"],
                request=request,
            )
        except DomainError as problem:
            field = SIGN_FIELD_ERRORS.get(problem.code)
            if field:
                form.add_error(field, problem.message)
            else:
                return _act_page(
                    request,
                    organisation,
                    contract,
                    kind,
                    _item(contract, kind, item_id),
                    holder=holder,
                    error=_message(problem),
                    status=_status(problem),
                )
        else:
            messages.success(request, _("Votre signature est apposée sur le document."))
            namespace = _urls(organisation, contract, holder=holder)["namespace"]
            return redirect(f"{namespace}:act", organisation.slug, contract.pk, kind, item.pk)
    return _act_page(
        request, organisation, contract, kind, _item(contract, kind, item_id), holder=holder, sign_form=form, status=400
    )


@organisation_view("contracts.sign")
@require_POST
def act_sign(request: HttpRequest, organisation: Any, contract_pk: int, kind: str, item_id: int) -> HttpResponse:
    return _sign(request, organisation, _buyer_contract(organisation, contract_pk), kind, item_id, holder=False)


@organisation_view("contracts.holder_sign")
@require_POST
def holder_act_sign(request: HttpRequest, organisation: Any, contract_pk: int, kind: str, item_id: int) -> HttpResponse:
    return _sign(request, organisation, _holder_contract(organisation, contract_pk), kind, item_id, holder=True)


@organisation_view("contracts.manage")
@require_POST
def act_notify(request: HttpRequest, organisation: Any, contract_pk: int, kind: str, item_id: int) -> HttpResponse:
    contract = _buyer_contract(organisation, contract_pk)
    item = _item(contract, kind, item_id)
    try:
        execution.act_notify(acting_user=request.user, item=item, request=request)
    except DomainError as problem:
        return _act_page(
            request,
            organisation,
            contract,
            kind,
            _item(contract, kind, item_id),
            error=_message(problem),
            status=_status(problem),
        )
    messages.success(request, _("L'acte est notifié au titulaire : la preuve d'envoi est conservée."))
    return redirect("contracts_execution:act", organisation.slug, contract.pk, kind, item.pk)


@organisation_view("contracts.manage")
@require_POST
def modification_new_holder(request: HttpRequest, organisation: Any, contract_pk: int, item_id: int) -> HttpResponse:
    """The new holder of a draft modification on the ground R2194-6 (cession, merger...): recorded and printed
    on its PDF; a refusal shows the page again with the form and its errors."""
    contract = _buyer_contract(organisation, contract_pk)
    item = _item(contract, "avenant", item_id)
    form = forms.NewHolderForm(request.POST, auto_id="new_holder_%s")
    status = 400
    if form.is_valid():
        try:
            result = execution.modification_new_holder(
                acting_user=request.user, modification=item, request=request, **form.cleaned_data
            )
        except InvalidData as error:
            forms.add_service_errors(form, error)
            status = _status(error)
        except DomainError as error:  # signed, notified, not found: the page without the form, and why
            return _act_page(
                request,
                organisation,
                contract,
                "avenant",
                _item(contract, "avenant", item_id),
                error=_message(error),
                status=_status(error),
            )
        else:
            messages.success(
                request,
                _("Le nouveau titulaire est enregistré et figure sur le document de la modification.")
                if result.new_holder_siret
                else _("La modification n'indique plus de nouveau titulaire."),
            )
            return redirect("contracts_execution:act", organisation.slug, contract.pk, "avenant", item.pk)
    return _act_page(
        request,
        organisation,
        contract,
        "avenant",
        _item(contract, "avenant", item_id),
        new_holder_form=form,
        status=status,
    )


def _subcontract_form(
    request: HttpRequest,
    organisation: Any,
    contract_pk: int,
    item_id: int,
    key: str,
    service: Any,
    *,
    success: str,
    then: str,
) -> HttpResponse:
    """A form of a subcontracting act's page (`key`: "decision" or "change") sent to `service` with the
    act: on success, to the page of the act it returns (of kind `then`); otherwise the act's page with
    the form, its errors and the refusal's status."""
    contract = _buyer_contract(organisation, contract_pk)
    item = _item(contract, "sous-traitance", item_id)
    form = SUBCONTRACT_FORMS[key](request.POST, auto_id=f"{key}_%s")
    status = 400
    if form.is_valid():
        try:
            result = service(acting_user=request.user, subcontract=item, request=request, **form.cleaned_data)
        except DomainError as error:
            forms.add_service_errors(form, error)
            status = _status(error)
        else:
            messages.success(request, success)
            return redirect("contracts_execution:act", organisation.slug, contract.pk, then, result.pk)
    return _act_page(
        request,
        organisation,
        contract,
        "sous-traitance",
        _item(contract, "sous-traitance", item_id),
        status=status,
        **{f"{key}_form": form},
    )


@organisation_view("contracts.manage")
@require_POST
def subcontract_decide(request: HttpRequest, organisation: Any, contract_pk: int, item_id: int) -> HttpResponse:
    return _subcontract_form(
        request,
        organisation,
        contract_pk,
        item_id,
        "decision",
        execution.subcontract_decide,
        success=_("La décision sur le sous-traitant est enregistrée."),
        then="sous-traitance",
    )


@organisation_view("contracts.manage")
@require_POST
def subcontract_change(request: HttpRequest, organisation: Any, contract_pk: int, item_id: int) -> HttpResponse:
    return _subcontract_form(
        request,
        organisation,
        contract_pk,
        item_id,
        "change",
        execution.subcontract_change,
        success=_("L'acte modificatif est préparé : il doit être signé par les deux parties."),
        then="modification-sous-traitance",
    )


# --- Documents ------------------------------------------------------------------------------------


def _document(contract: Any, document_id: int) -> HttpResponse:
    document = selectors.document_of(contract, document_id)
    if document is None:
        raise Http404
    try:
        data = documents.content(document)
    except DomainError as error:
        return HttpResponse(str(error.message), status=409, content_type="text/plain; charset=utf-8")
    return _pdf(data, document.filename or f"piece-{document.pk}.pdf")


@organisation_view("contracts.view")
@require_GET
def document(request: HttpRequest, organisation: Any, contract_pk: int, document_id: int) -> HttpResponse:
    return _document(_buyer_contract(organisation, contract_pk), document_id)


@organisation_view("contracts.holder")
@require_GET
def holder_document(request: HttpRequest, organisation: Any, contract_pk: int, document_id: int) -> HttpResponse:
    return _document(_holder_contract(organisation, contract_pk), document_id)
