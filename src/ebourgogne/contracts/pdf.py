"""The acte d'engagement of a contract, as PDF (core.pdf, fpdf2), written in French whatever the reader's
language: the buyer, the holder, the object, the price, the duration and the terms chosen while the
contract is prepared, then the two parties' engagement. The signatures are PAdES signatures added to
this file (`contracts.documents.sign`): the document names the parties, the PDF carries the proof."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from ebourgogne.awards.letters import day, money
from ebourgogne.core.clock import PARIS
from ebourgogne.core.pdf import Document


def _identity(organisation: Any) -> str:
    parts = [organisation.name]
    if organisation.siret:
        parts.append(_("SIRET %(siret)s") % {"siret": organisation.siret})
    elif organisation.siren:
        parts.append(_("SIREN %(siren)s") % {"siren": organisation.siren})
    address = " ".join(part for part in [organisation.street, organisation.postal_code, organisation.city] if part)
    if address:
        parts.append(address)
    return " — ".join(parts)


def _listed(values: list[str]) -> str:
    return ", ".join(values) if values else _("sans objet")


def acte_engagement(contract: Any, *, now: Any) -> bytes:
    with translation.override("fr"):
        consultation = contract.consultation
        title = _("Acte d'engagement")
        doc = Document(
            title=f"{title} — {contract.number}",
            subject=f"{consultation.reference} — {contract.title}",
            footer=_("Acte d'engagement du marché %(number)s") % {"number": contract.number},
        )
        doc.heading(title)
        doc.paragraph(
            _("Marché n° %(number)s — préparé le %(date)s")
            % {"number": contract.number, "date": day(now.astimezone(PARIS).date())},
            grey=True,
        )
        doc.heading(_("Les parties"), level=2)
        doc.key_values(
            [
                (_("Acheteur"), _identity(contract.organisation)),
                (_("Titulaire"), _identity(contract.holder)),
            ]
        )
        doc.heading(_("Le marché"), level=2)
        doc.key_values(
            [
                (_("Consultation"), f"{consultation.reference} — {consultation.title}"),
                (_("Lot"), f"{contract.lot.number}. {contract.lot.title}" if contract.lot else _("marché sans lots")),
                (_("Objet"), contract.object or contract.title),
                (_("Type de marché"), str(consultation.get_contract_type_display())),
                (_("Procédure"), str(consultation.get_procedure_display())),
                (_("Code CPV principal"), contract.cpv_code),
                (
                    _("Lieu d'exécution"),
                    f"{contract.place_code} ({contract.place_code_type})" if contract.place_code else _("non précisé"),
                ),
                (
                    _("Montant"),
                    (
                        _("%(amount)s (montant maximum de l'accord-cadre)")
                        if contract.is_framework
                        else _("%(amount)s (montant forfaitaire ou estimé)")
                    )
                    % {"amount": money(contract.amount)},
                ),
                (_("Durée"), _("%(months)s mois à compter de la notification") % {"months": contract.duration_months}),
                (_("Forme du prix"), str(contract.get_price_form_display())),
                (_("Types de prix"), _listed(list(contract.price_types))),
                (_("CCAG de référence"), str(contract.get_ccag_display())),
                (_("Techniques d'achat"), _listed(list(contract.techniques))),
                (_("Modalités d'exécution"), _listed(list(contract.execution_modes))),
                (_("Groupement d'opérateurs"), str(contract.get_grouping_display())),
                (
                    _("Avance"),
                    _("oui, au taux de %(rate)s %%") % {"rate": f"{contract.advance_rate * 100:.2f}".replace(".", ",")}
                    if contract.has_advance
                    else _("non"),
                ),
                (_("Sous-traitance déclarée"), _("oui") if contract.subcontracting_declared else _("non")),
            ]
        )
        doc.heading(_("Engagement des parties"), level=2)
        doc.paragraph(
            _(
                "Le titulaire s'engage, sur la base de son offre et conformément aux pièces du marché, à exécuter les "
                "prestations demandées au prix indiqué ci-dessus. L'acheteur accepte l'offre du titulaire. Le marché "
                "prend effet à sa notification au titulaire."
            )
        )
        doc.paragraph(
            _(
                "Chaque partie signe le présent acte électroniquement (signature PAdES) sur la plateforme e-bourgogne ; "
                "les signatures et leur horodatage sont contenus dans ce fichier PDF et se vérifient avec tout lecteur "
                "de PDF ou sur la page de vérification de la plateforme."
            )
        )
        doc.rule()
        doc.paragraph(
            _("Document établi par %(buyer)s sur la plateforme e-bourgogne.") % {"buyer": contract.organisation.name},
            size=8.5,
            grey=True,
        )
        return doc.output()
