"""The letters of a decision and the analysis report, as PDF (core.pdf).

What each letter says, and why (Code de la commande publique):

- Rejection of a candidature (R2181-1) or of an offer (R2181-3): the reasons of the rejection. To a bidder
  whose offer was ranked (neither irregular, unacceptable, inappropriate nor abnormally low) also the
  winner's name, the characteristics and relative advantages of the retained offer (its total and its
  marks criterion by criterion, side by side with the bidder's own, and its price), and, when a
  standstill applies, the date from which the contract may be signed (R2181-3 2°, R2182-1).
- Award letter to the winner: its offer is retained, its total, the standstill, and the supporting
  documents asked (R2144-4) with their deadline.
- Unsuccessful (infructueux) or abandoned (sans suite) procedure: the decision and its reasons, to every
  bidder (R2185-1, R2185-2).
- A late bid is informed that it was received after the deadline and not opened (R2151-5).

Letters are written in French (administrative letters of a French buyer) whatever the reader's language.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import formats, translation
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.awards import rules, selectors
from ebourgogne.awards.models import AdmissionDecision, Award, CriterionKind, DocumentRequest, LetterKind, Outcome
from ebourgogne.consultations.services import local_display
from ebourgogne.core.clock import PARIS
from ebourgogne.core.pdf import Document


@dataclass
class Draft:
    bid: Any
    kind: str
    subject: str
    summary: str  # the reasons, plain text (also shown on the company's page)
    consultation: Any
    award: Award
    now: dt.datetime
    paragraphs: list[str] = field(default_factory=list)
    comparison: list[list[str]] = field(default_factory=list)  # criterion, weight, winner, yours
    items: list[str] = field(default_factory=list)


def money(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return formats.number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True) + " € HT"


def mark(value: Decimal | None) -> str:
    return "—" if value is None else formats.number_format(rules.two(value), decimal_pos=2, use_l10n=True)


def day(value: dt.date) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def _subject_for(consultation: Any, award: Award) -> str:
    lot = award.evaluation.lot
    if lot is not None:
        return _("%(reference)s — %(title)s — lot %(number)s « %(lot)s »") % {
            "reference": consultation.reference,
            "title": consultation.title,
            "number": lot.number,
            "lot": lot.title,
        }
    return f"{consultation.reference} — {consultation.title}"


def _recipients(consultation: Any, evaluation: Any) -> list[tuple[Any, bool]]:
    """(bid, is_late): one per company, its opened bid when it has one, else its late one."""
    seen: dict[int, tuple[Any, bool]] = {}
    for bid in selectors.opened_bids(consultation):
        if selectors.bid_in_evaluation(bid, evaluation) and bid.company_id not in seen:
            seen[bid.company_id] = (bid, False)
    for bid in selectors.late_bids(consultation):
        if selectors.bid_in_evaluation(bid, evaluation) and bid.company_id not in seen:
            seen[bid.company_id] = (bid, True)
    return sorted(seen.values(), key=lambda entry: (entry[0].company.name, entry[0].pk))


def compose(*, consultation: Any, award: Award, now: dt.datetime, days: int | None, signing_from: Any) -> list[Draft]:
    with translation.override("fr"):
        return _compose(consultation=consultation, award=award, now=now, days=days, signing_from=signing_from)


def _compose(*, consultation: Any, award: Award, now: dt.datetime, days: int | None, signing_from: Any) -> list[Draft]:
    evaluation = award.evaluation
    subject = _subject_for(consultation, award)
    view = selectors.evaluation_view(evaluation)
    admissions = selectors.admissions_of(consultation)
    drafts: list[Draft] = []
    standstill = ""
    if signing_from is not None:
        last_day = rules.standstill_last_day(now, days)
        standstill = _(
            "Conformément à l'article R2182-1 du code de la commande publique, le marché ne sera pas signé avant "
            "le %(date)s : un délai de suspension de %(days)s jours court à compter de l'envoi du présent courrier "
            "(jusqu'au %(last)s inclus). Pendant ce délai, un référé précontractuel peut être introduit devant le "
            "tribunal administratif."
        ) % {"date": day(signing_from.astimezone(PARIS).date()), "days": days, "last": day(last_day)}
    winner_row = view.row_for_offer(award.winner_id) if award.winner_id else None
    for bid, late in _recipients(consultation, evaluation):
        draft = Draft(bid=bid, kind="", subject="", summary="", consultation=consultation, award=award, now=now)
        if award.outcome != Outcome.AWARDED:
            draft.kind = LetterKind.UNSUCCESSFUL if award.outcome == Outcome.UNSUCCESSFUL else LetterKind.ABANDONED
            if award.outcome == Outcome.UNSUCCESSFUL:
                draft.subject = _("Procédure déclarée infructueuse : %(subject)s") % {"subject": subject}
                decision = _(
                    "La procédure est déclarée infructueuse (article R2185-1 du code de la commande publique)."
                )
            else:
                draft.subject = _("Procédure déclarée sans suite : %(subject)s") % {"subject": subject}
                decision = _(
                    "L'acheteur a décidé de ne pas donner suite à la procédure (déclaration sans suite, articles "
                    "R2185-1 et R2185-2 du code de la commande publique)."
                )
            draft.summary = _("Motif : %(reason)s") % {"reason": award.reason}
            draft.paragraphs = [decision, draft.summary]
            drafts.append(draft)
            continue
        if winner_row is not None and bid.pk == winner_row.offer.bid_id:
            draft.kind = LetterKind.AWARD
            draft.subject = _("Votre offre est retenue : %(subject)s") % {"subject": subject}
            draft.summary = (
                _("Votre offre est classée première avec %(total)s points sur 100.") % {"total": mark(winner_row.total)}
                if winner_row.rank == 1
                else _("Votre offre est retenue avec %(total)s points sur 100.") % {"total": mark(winner_row.total)}
            )
            draft.paragraphs = [
                _("Nous avons le plaisir de vous informer que votre offre est retenue."),
                draft.summary,
            ]
            if standstill:
                draft.paragraphs.append(standstill)
            with scopes_disabled():
                request = DocumentRequest.objects.filter(award=award).order_by("-requested_at").first()
            if request is not None:
                draft.paragraphs.append(
                    _("Avant la signature, transmettez les pièces suivantes au plus tard le %(deadline)s :")
                    % {"deadline": local_display(request.deadline)}
                )
                draft.items = list(request.items)
            draft.paragraphs.append(_("Le marché vous sera notifié après sa signature par les deux parties."))
            drafts.append(draft)
            continue
        draft.kind = LetterKind.REJECTION
        draft.subject = _("Votre offre n'est pas retenue : %(subject)s") % {"subject": subject}
        admission = admissions.get(bid.pk)
        row = view.row_for_bid(bid.pk)
        ranked = False
        if late:
            draft.summary = _(
                "Votre pli a été reçu le %(when)s, après la date limite de remise des plis : il n'a pas été ouvert "
                "et ne peut pas être retenu (article R2151-5 du code de la commande publique)."
            ) % {"when": local_display(bid.deposited_at)}
        elif admission is not None and admission.decision == AdmissionDecision.REJECTED:
            draft.summary = _("Votre candidature n'a pas été admise. Motif : %(reason)s") % {"reason": admission.reason}
        elif row is not None and row.excluded:
            draft.summary = _(
                "Votre offre a été rejetée comme anormalement basse après examen de vos justifications "
                "(articles R2152-3 et R2152-4 du code de la commande publique). Motif : %(reason)s"
            ) % {"reason": row.offer.low_note}
        elif row is not None and row.rank is not None:
            ranked = True
            draft.summary = _(
                "Votre offre est classée n° %(rank)s sur %(count)s avec %(total)s points sur 100 ; l'offre retenue, "
                "celle de %(winner)s, a obtenu %(winner_total)s points sur 100."
            ) % {
                "rank": row.rank,
                "count": len(view.ranked),
                "total": mark(row.total),
                "winner": winner_row.company_name if winner_row else "",
                "winner_total": mark(winner_row.total) if winner_row else "—",
            }
        else:
            draft.summary = _("Votre offre n'a pas été retenue.")
        draft.paragraphs = [
            _("Nous avons le regret de vous informer que votre offre n'est pas retenue."),
            draft.summary,
        ]
        if ranked and winner_row is not None:
            draft.paragraphs.append(
                _(
                    "Attributaire : %(winner)s, pour un montant de %(price)s. Caractéristiques et avantages relatifs "
                    "de l'offre retenue, critère par critère (notes sur %(scale)s, pondérations en points sur 100) :"
                )
                % {
                    "winner": winner_row.company_name,
                    "price": money(winner_row.offer.price),
                    "scale": evaluation.scale_max,
                }
            )
            for leaf in view.leaves:
                draft.comparison.append(
                    [
                        leaf.name
                        if leaf.kind == CriterionKind.QUALITY
                        else _("%(name)s (formule proportionnelle)") % {"name": leaf.name},
                        mark(leaf.weight),
                        mark(winner_row.marks.get(leaf.pk)),
                        mark(row.marks.get(leaf.pk)),
                    ]
                )
            draft.comparison.append([_("Total sur 100"), "100", mark(winner_row.total), mark(row.total)])
        if standstill:
            draft.paragraphs.append(standstill)
        drafts.append(draft)
    return drafts


def render_pdf(draft: Draft) -> bytes:
    with translation.override("fr"):
        consultation = draft.consultation
        buyer = consultation.organisation
        doc = Document(
            title=str(draft.subject), subject=consultation.reference, footer=str(LetterKind(draft.kind).label)
        )
        doc.paragraph(buyer.name, bold=True)
        doc.paragraph(
            _("À %(company)s — le %(date)s")
            % {"company": draft.bid.company.name, "date": day(draft.now.astimezone(PARIS).date())},
            grey=True,
        )
        doc.heading(str(LetterKind(draft.kind).label))
        doc.key_values(
            [
                (_("Consultation"), f"{consultation.reference} — {consultation.title}"),
                (_("Procédure"), str(consultation.get_procedure_display())),
                (
                    _("Lot"),
                    f"{draft.award.evaluation.lot.number}. {draft.award.evaluation.lot.title}"
                    if draft.award.evaluation.lot
                    else _("marché sans lots"),
                ),
                (
                    _("Votre pli"),
                    _("n° %(number)s, déposé le %(when)s")
                    % {"number": draft.bid.number, "when": local_display(draft.bid.deposited_at)},
                ),
            ]
        )
        for paragraph in draft.paragraphs:
            doc.paragraph(str(paragraph))
        if draft.comparison:
            doc.table(
                [_("Critère"), _("Pondération"), _("Offre retenue"), _("Votre offre")],
                draft.comparison,
                col_widths=(80, 30, 32, 32),
            )
        if draft.items:
            doc.table([_("Pièce à fournir")], [[item] for item in draft.items])
        doc.rule()
        doc.paragraph(
            _(
                "Courrier émis par %(buyer)s sur la plateforme e-bourgogne ; son empreinte SHA-256 et la preuve horodatée de son envoi sont conservées."
            )
            % {"buyer": buyer.name},
            size=8.5,
            grey=True,
        )
        return doc.output()


def analysis_report_pdf(consultation: Any, evaluation: Any) -> bytes:
    """The analysis report (rapport d'analyse des offres) for the commission: admissions, criteria, marks
    (per evaluator and consolidated), totals, ranking, abnormally-low flags and their follow-up."""
    view = selectors.evaluation_view(evaluation)
    admissions = selectors.admissions_of(consultation)
    with translation.override("fr"):
        title = _("Rapport d'analyse des offres")
        doc = Document(title=title, subject=consultation.reference)
        doc.heading(title)
        doc.key_values(
            [
                (_("Acheteur"), consultation.organisation.name),
                (_("Consultation"), f"{consultation.reference} — {consultation.title}"),
                (_("Procédure"), str(consultation.get_procedure_display())),
                (
                    _("Lot"),
                    f"{evaluation.lot.number}. {evaluation.lot.title}" if evaluation.lot else _("marché sans lots"),
                ),
                (_("Échelle de notation"), _("de 0 à %(max)s") % {"max": evaluation.scale_max}),
                (
                    _("Seuil d'offre anormalement basse"),
                    _("prix inférieur à %(ratio)s × la moyenne des autres offres")
                    % {"ratio": mark(evaluation.low_ratio)},
                ),
            ]
        )
        doc.heading(_("Candidatures"), level=2)
        rows = []
        for bid in selectors.opened_bids(consultation):
            if not selectors.bid_in_evaluation(bid, evaluation):
                continue
            admission = admissions.get(bid.pk)
            rows.append(
                [
                    str(bid.number),
                    bid.company.name,
                    str(admission.get_decision_display()) if admission else _("en attente"),
                    admission.reason if admission else "",
                ]
            )
        for bid in selectors.late_bids(consultation):
            if selectors.bid_in_evaluation(bid, evaluation):
                rows.append([str(bid.number), bid.company.name, _("hors délai (non ouvert)"), ""])
        doc.table([_("Pli"), _("Entreprise"), _("Admission"), _("Motif")], rows, col_widths=(14, 60, 35, 65))
        doc.heading(_("Critères et pondérations"), level=2)
        criteria_rows = []
        for parent, children in view.tree:
            criteria_rows.append([parent.name, str(parent.get_kind_display()), mark(parent.weight)])
            for child in children:
                criteria_rows.append([f"    {child.name}", _("sous-critère"), mark(child.weight)])
        doc.table([_("Critère"), _("Nature"), _("Points")], criteria_rows, col_widths=(100, 45, 29))
        doc.paragraph(
            _(
                "Note du prix : prix le plus bas ÷ prix de l'offre × %(max)s. Note des autres critères : moyenne des "
                "notes des évaluateurs. Total sur 100 : somme des notes ÷ %(max)s × pondération."
            )
            % {"max": evaluation.scale_max},
            size=9,
            grey=True,
        )
        doc.heading(_("Notes et classement"), level=2)
        headings = [_("Rang"), _("Entreprise"), _("Prix")] + [leaf.name for leaf in view.leaves] + [_("Total")]
        table = []
        for row in view.rows:
            table.append(
                [
                    str(row.rank) if row.rank else ("—" if not row.excluded else _("écartée")),
                    row.company_name,
                    money(row.offer.price),
                    *[mark(row.marks.get(leaf.pk)) for leaf in view.leaves],
                    mark(row.total),
                ]
            )
        doc.table(headings, table)
        if view.evaluators:
            doc.heading(_("Notes par évaluateur"), level=2)
            detail = []
            for row in view.rows:
                for leaf in view.leaves:
                    marks = row.by_evaluator.get(leaf.pk, {})
                    for user in view.evaluators:
                        if user.pk in marks:
                            detail.append(
                                [row.company_name, leaf.name, user.full_name or user.email, mark(marks[user.pk])]
                            )
            doc.table([_("Entreprise"), _("Critère"), _("Évaluateur"), _("Note")], detail, col_widths=(50, 60, 44, 20))
        flagged = [row for row in view.rows if row.low_flag is not None or row.offer.low_outcome]
        doc.heading(_("Offres anormalement basses"), level=2)
        if flagged:
            doc.table(
                [_("Entreprise"), _("Prix"), _("Moyenne des autres offres"), _("Suite donnée")],
                [
                    [
                        row.company_name,
                        money(row.offer.price),
                        money(row.low_flag),
                        (
                            str(row.offer.get_low_outcome_display())
                            if row.offer.low_outcome
                            else _("justification à demander")
                        )
                        + (f" — {row.offer.low_note}" if row.offer.low_note else ""),
                    ]
                    for row in flagged
                ],
            )
        else:
            doc.paragraph(_("Aucune offre n'est signalée."))
        if view.award is not None:
            doc.heading(_("Décision"), level=2)
            award = view.award
            doc.paragraph(
                str(award.get_outcome_display())
                + (f" — {award.winner.bid.company.name}" if award.winner else "")
                + (f" — {award.reason}" if award.reason else "")
            )
        return doc.output()
