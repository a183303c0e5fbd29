"""The PDF of the execution's acts: a modification (avenant), an order form (bon de commande), a
subcontracting act (acte spécial de sous-traitance) and its changes. Written in French (administrative
acts of a French buyer) whatever the reader's language, in the style of the award letters
(`awards.letters.render_pdf`, `core.pdf.Document`). The generated file is stored by
`contracts.documents.add`, then signed (PAdES) and notified."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import formats, translation
from django.utils.translation import gettext as _

from ebourgogne.awards.letters import money  # the amounts of the acts are written as in the award letters
from ebourgogne.core.clock import PARIS
from ebourgogne.core.pdf import Document


def signed_money(value: Decimal) -> str:
    return ("+ " if value > 0 else "") + money(value)


def day(value: dt.date | None) -> str:
    return formats.date_format(value, "DATE_FORMAT") if value else "—"


def _months(value: int) -> str:
    return _("%(count)s mois") % {"count": value}


def _parties(doc: Document, contract: Any, now: dt.datetime) -> None:
    doc.paragraph(contract.organisation.name, bold=True)
    doc.paragraph(
        _("Titulaire : %(holder)s — établi le %(date)s")
        % {"holder": contract.holder.name, "date": day(now.astimezone(PARIS).date())},
        grey=True,
    )


def _contract_rows(contract: Any) -> list[tuple[str, str]]:
    return [
        (_("Marché"), f"{contract.number} — {contract.title}"),
        (_("Acheteur"), contract.organisation.name),
        (
            _("Titulaire"),
            f"{contract.holder.name}"
            + (f" (SIRET {contract.holder.siret})" if getattr(contract.holder, "siret", "") else ""),
        ),
        (_("Notifié le"), day(contract.notified_at.astimezone(PARIS).date()) if contract.notified_at else "—"),
    ]


def _footer(doc: Document, contract: Any, signers: str) -> None:
    doc.rule()
    doc.paragraph(signers, size=9)
    doc.paragraph(
        _(
            "Acte établi par %(buyer)s sur la plateforme e-bourgogne ; il est signé électroniquement (PAdES) puis notifié au titulaire avec une preuve horodatée d'envoi et de lecture."
        )
        % {"buyer": contract.organisation.name},
        size=8.5,
        grey=True,
    )


def modification_pdf(modification: Any, *, before: Any, after: Any, now: dt.datetime) -> bytes:
    """`before` and `after`: the contract's terms (amount, duration_months) before and after it."""
    contract = modification.contract
    with translation.override("fr"):
        title = _("Modification n° %(number)s du marché %(contract)s") % {
            "number": modification.number,
            "contract": contract.number,
        }
        doc = Document(title=title, subject=contract.number, footer=_("Modification du marché (avenant)"))
        _parties(doc, contract, now)
        doc.heading(title)
        doc.key_values(_contract_rows(contract))
        doc.heading(_("Objet et fondement"), level=2)
        doc.paragraph(modification.object)
        doc.key_values(
            [
                (_("Fondement juridique"), str(modification.get_legal_ground_display())),
                (_("Prend effet le"), day(modification.effective_on)),
            ]
        )
        if modification.new_holder_siret:
            doc.heading(_("Nouveau titulaire"), level=2)
            doc.key_values(
                [
                    (_("Raison sociale"), modification.new_holder_name),
                    (_("SIRET"), modification.new_holder_siret),
                ]
            )
            doc.paragraph(
                _("À compter de la prise d'effet de la présente modification, le marché est exécuté par ce titulaire.")
            )
        doc.heading(_("Incidence financière et sur la durée"), level=2)
        doc.table(
            [_("Élément"), _("Avant"), _("Variation"), _("Après")],
            [
                [
                    _("Montant (€ HT)"),
                    money(before.amount),
                    signed_money(modification.amount_change),
                    money(after.amount),
                ],
                [
                    _("Durée"),
                    _months(before.duration_months),
                    ("+" if modification.duration_change_months > 0 else "") + str(modification.duration_change_months),
                    _months(after.duration_months),
                ],
            ],
            col_widths=(50, 40, 40, 44),
        )
        doc.paragraph(
            _("Montant initial du marché : %(amount)s. Toutes les autres clauses du marché demeurent inchangées.")
            % {"amount": money(contract.amount)}
        )
        _footer(doc, contract, _("Signée par l'acheteur et par le titulaire."))
        return doc.output()


def order_pdf(order: Any, *, maximum: Decimal, ordered_before: Decimal, now: dt.datetime) -> bytes:
    contract = order.contract
    with translation.override("fr"):
        title = _("Bon de commande n° %(number)s — marché %(contract)s") % {
            "number": order.number,
            "contract": contract.number,
        }
        doc = Document(title=title, subject=contract.number, footer=_("Bon de commande"))
        _parties(doc, contract, now)
        doc.heading(title)
        doc.key_values(_contract_rows(contract))
        doc.heading(_("Commande"), level=2)
        doc.paragraph(order.object)
        doc.key_values(
            [
                (_("Montant de la commande"), money(order.amount)),
                (_("Émis le"), day(order.issued_on)),
                (_("Livraison ou exécution attendue le"), day(order.delivery_on)),
                (_("Montant maximum de l'accord-cadre"), money(maximum)),
                (_("Déjà commandé avant ce bon"), money(ordered_before)),
                (_("Reste disponible après ce bon"), money(maximum - ordered_before - order.amount)),
            ]
        )
        _footer(doc, contract, _("Signé par l'acheteur."))
        return doc.output()


def subcontract_pdf(subcontract: Any, *, now: dt.datetime) -> bytes:
    contract = subcontract.contract
    with translation.override("fr"):
        title = _("Acte spécial de sous-traitance n° %(number)s — marché %(contract)s") % {
            "number": subcontract.number,
            "contract": contract.number,
        }
        doc = Document(title=title, subject=contract.number, footer=_("Acte spécial de sous-traitance"))
        _parties(doc, contract, now)
        doc.heading(title)
        doc.key_values(_contract_rows(contract))
        doc.heading(_("Sous-traitant accepté et conditions de paiement agréées"), level=2)
        doc.key_values(
            [
                (_("Sous-traitant"), subcontract.subcontractor_name),
                (_("SIRET"), subcontract.subcontractor_siret),
                (_("Prestations sous-traitées"), subcontract.object),
                (_("Montant maximum"), money(subcontract.amount)),
                (_("Durée"), _months(subcontract.duration_months)),
                (_("Paiement direct"), _("oui") if subcontract.direct_payment else _("non")),
                (_("Variation des prix"), str(subcontract.get_price_variation_display())),
            ]
        )
        doc.paragraph(
            _(
                "L'acheteur accepte le sous-traitant et agrée ses conditions de paiement (articles L2193-4 et R2193-1 du code de la commande publique)."
            )
        )
        _footer(doc, contract, _("Signé par le titulaire et par l'acheteur."))
        return doc.output()


def subcontract_change_pdf(change: Any, *, now: dt.datetime, previous_amount: Decimal, previous_duration: int) -> bytes:
    subcontract = change.subcontract
    contract = subcontract.contract
    with translation.override("fr"):
        title = _("Acte modificatif n° %(number)s de l'acte spécial de sous-traitance n° %(act)s") % {
            "number": change.number,
            "act": subcontract.number,
        }
        doc = Document(title=title, subject=contract.number, footer=_("Acte modificatif de sous-traitance"))
        _parties(doc, contract, now)
        doc.heading(title)
        doc.key_values(_contract_rows(contract))
        doc.key_values(
            [
                (_("Sous-traitant"), f"{subcontract.subcontractor_name} (SIRET {subcontract.subcontractor_siret})"),
                (_("Objet de la modification"), change.object or "—"),
                (_("Prend effet le"), day(change.effective_on)),
            ]
        )
        doc.table(
            [_("Élément"), _("Avant"), _("Après")],
            [
                [_("Montant maximum"), money(previous_amount), money(change.new_amount)],
                [_("Durée"), _months(previous_duration), _months(change.new_duration_months)],
            ],
            col_widths=(60, 57, 57),
        )
        _footer(doc, contract, _("Signé par le titulaire et par l'acheteur."))
        return doc.output()
