"""Generated data at scale: public buyers (with services) and companies of Bourgogne.

`seed(buyers=, companies=, seed=)` writes them with bulk inserts and returns how many rows it added.
The same seed on the same database gives the same data; run again on a database that already holds
organisations, it adds new ones and never reuses a SIREN, a SIRET, a slug or a buyer name (numbers and
names already taken are skipped). Later issues extend it (consultations, bids, alerts) by adding
their own generators after these.

Identifiers are valid: every SIREN and SIRET carries its Luhn check digit (python-stdnum). Communes'
SIREN follow the real pattern (21 + department + 0 + commune number), so "Commune de Dijon" gets the
real 212 102 313.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.text import slugify
from django_scopes import scopes_disabled

from ebourgogne.audit.services import log_event
from ebourgogne.organisations.identifiers import siren_with_check_digit, siret_with_check_digit
from ebourgogne.organisations.models import BuyerKind, BuyerService, Organisation
from ebourgogne.organisations.roles import OrganisationKind
from ebourgogne.organisations.seed_data import (
    ACTIVITIES,
    COMMUNES,
    COMMUNES_BY_INSEE,
    DEPARTMENTAL_SYNDICATES,
    DEPARTMENTS,
    EPCIS,
    HOSPITAL_TOWNS,
    LEGAL_FORM_WEIGHTS,
    NAME_PATTERNS,
    OTHER_PATTERNS,
    OTHER_PUBLIC_BODIES,
    PREFECTURES,
    REGIONAL_WORDS,
    SCHOOL_KINDS,
    SCHOOL_PATRONS,
    SERVICES,
    STREETS,
    SURNAMES,
    SYNDICATE_PATTERNS,
    Commune,
)
from ebourgogne.organisations.services import RESERVED_SLUGS

BATCH_SIZE = 1000
REGION_NAME = "Région Bourgogne-Franche-Comté"

# Share of each kind among generated buyers (after the Région and the four Départements).
BUYER_KIND_WEIGHTS: tuple[tuple[str, int], ...] = (
    (BuyerKind.COMMUNE, 45),
    (BuyerKind.SCHOOL, 20),
    (BuyerKind.SYNDICAT, 12),
    (BuyerKind.EPCI, 8),
    (BuyerKind.OTHER, 10),
    (BuyerKind.HOSPITAL, 5),
)
# First two digits of public bodies' SIREN, by kind (communes: see `_commune_siren`).
SIREN_PREFIX = {
    BuyerKind.REGION: "23",
    BuyerKind.DEPARTEMENT: "22",
    BuyerKind.EPCI: "24",
    BuyerKind.SYNDICAT: "25",
    BuyerKind.HOSPITAL: "26",
    BuyerKind.SCHOOL: "19",
    BuyerKind.OTHER: "27",
}


@dataclass
class Taken:
    """Identifiers and names already in the database (or generated in this run)."""

    sirens: set[str] = field(default_factory=set)
    buyer_sirets: set[str] = field(default_factory=set)
    slugs: set[str] = field(default_factory=set)
    buyer_names: set[str] = field(default_factory=set)

    @classmethod
    def from_database(cls) -> Taken:
        taken = cls()
        for kind, siren, siret, slug, name in Organisation.objects.values_list(
            "kind", "siren", "siret", "slug", "name"
        ):
            if siren:
                taken.sirens.add(siren)
            taken.slugs.add(slug)
            if kind == OrganisationKind.BUYER:
                taken.buyer_sirets.add(siret)
                taken.buyer_names.add(name)
        taken.slugs.update(RESERVED_SLUGS)
        return taken

    def slug_for(self, name: str, suffix: str) -> str:
        base = slugify(name)[:60].strip("-") or "organisation"
        slug = base if base not in self.slugs else f"{base}-{suffix}"
        counter = 2
        while slug in self.slugs:
            slug = f"{base}-{suffix}-{counter}"
            counter += 1
        self.slugs.add(slug)
        return slug


def _of(name: str) -> str:
    """French "de" before a place name: d'Auxerre, du Creusot, des Riceys, de Beaune."""
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    if name[:1] in "AEÉÈIOUYÂÊÎÔ":
        return "d'" + name
    return "de " + name


def _random_siren(rng: random.Random, prefix: str, taken: Taken) -> str:
    while True:
        stem = prefix + "".join(rng.choice("0123456789") for _ in range(8 - len(prefix)))
        siren = siren_with_check_digit(stem)
        if siren not in taken.sirens:
            taken.sirens.add(siren)
            return siren


def _commune_siren(commune: Commune) -> str:
    return siren_with_check_digit(f"21{commune.department}0{commune.insee[2:]}")


@dataclass
class BuyerDraft:
    name: str
    kind: str
    commune: Commune
    siren: str = ""
    street: str = ""


def _buyer_pools(rng: random.Random) -> dict[str, list[BuyerDraft]]:
    """Every name each kind of buyer can take, shuffled; drawn from the end."""
    towns = list(COMMUNES)
    pools: dict[str, list[BuyerDraft]] = {
        BuyerKind.COMMUNE: [BuyerDraft(f"Commune {_of(c.name)}", BuyerKind.COMMUNE, c) for c in towns],
        BuyerKind.EPCI: [BuyerDraft(name, BuyerKind.EPCI, COMMUNES_BY_INSEE[insee]) for name, insee in EPCIS],
        BuyerKind.HOSPITAL: [
            BuyerDraft(
                f"Centre hospitalier {_of(COMMUNES_BY_INSEE[insee].name)}", BuyerKind.HOSPITAL, COMMUNES_BY_INSEE[insee]
            )
            for insee in HOSPITAL_TOWNS
        ],
        BuyerKind.SCHOOL: [
            BuyerDraft(f"{kind} {patron} — {c.name}", BuyerKind.SCHOOL, c)
            for c in towns
            for kind in SCHOOL_KINDS
            for patron in SCHOOL_PATRONS
        ],
        BuyerKind.SYNDICAT: [
            *(
                BuyerDraft(name, BuyerKind.SYNDICAT, COMMUNES_BY_INSEE[insee])
                for name, insee in DEPARTMENTAL_SYNDICATES
            ),
            *(
                BuyerDraft(p.format(of_town=_of(c.name)), BuyerKind.SYNDICAT, c)
                for c in towns
                for p in SYNDICATE_PATTERNS
            ),
        ],
        BuyerKind.OTHER: [
            *(BuyerDraft(name, BuyerKind.OTHER, COMMUNES_BY_INSEE[insee]) for name, insee in OTHER_PUBLIC_BODIES),
            *(BuyerDraft(p.format(of_town=_of(c.name)), BuyerKind.OTHER, c) for c in towns for p in OTHER_PATTERNS),
        ],
    }
    for kind in sorted(pools):
        rng.shuffle(pools[kind])
    return pools


def _buyer_drafts(rng: random.Random, count: int, taken: Taken) -> Iterator[BuyerDraft]:
    """`count` buyers: the Région and the four Départements first (unless already there), then a mix."""
    singletons = [BuyerDraft(REGION_NAME, BuyerKind.REGION, COMMUNES_BY_INSEE["21231"])] + [
        BuyerDraft(f"Département {_department_name(code)}", BuyerKind.DEPARTEMENT, COMMUNES_BY_INSEE[PREFECTURES[code]])
        for code in DEPARTMENTS
    ]
    produced = 0
    for draft in singletons:
        if produced == count:
            return
        if draft.name not in taken.buyer_names:
            taken.buyer_names.add(draft.name)
            produced += 1
            yield draft
    pools = _buyer_pools(rng)
    fallback = 0
    while produced < count:
        kinds = [(kind, weight) for kind, weight in BUYER_KIND_WEIGHTS if pools[kind]]
        if kinds:
            kind = rng.choices([k for k, _ in kinds], weights=[w for _, w in kinds])[0]
            draft = pools[kind].pop()
        else:
            fallback += 1
            commune = rng.choice(COMMUNES)
            draft = BuyerDraft(
                f"Établissement public intercommunal n° {fallback} {_of(commune.name)}", BuyerKind.OTHER, commune
            )
        if draft.name in taken.buyer_names:
            continue
        taken.buyer_names.add(draft.name)
        produced += 1
        yield draft


def _department_name(code: str) -> str:
    articles = {"21": "de la Côte-d'Or", "58": "de la Nièvre", "71": "de Saône-et-Loire", "89": "de l'Yonne"}
    return articles.get(code) or _of(DEPARTMENTS[code])


def _buyer_siren(rng: random.Random, draft: BuyerDraft, taken: Taken) -> str | None:
    if draft.kind == BuyerKind.COMMUNE:
        siren = _commune_siren(draft.commune)
        if siren in taken.sirens:
            return None
        taken.sirens.add(siren)
        return siren
    return _random_siren(rng, SIREN_PREFIX[draft.kind] + draft.commune.department, taken)


def _buyers(rng: random.Random, count: int, taken: Taken) -> list[Organisation]:
    organisations = []
    for draft in _buyer_drafts(rng, count * 2 + 10, taken):
        if len(organisations) == count:
            break
        siren = _buyer_siren(rng, draft, taken)
        if siren is None:
            continue
        siret = siret_with_check_digit(siren, "0001")
        if siret in taken.buyer_sirets:
            continue
        taken.buyer_sirets.add(siret)
        commune = draft.commune
        street = "Hôtel de ville" if draft.kind == BuyerKind.COMMUNE else f"{rng.randint(1, 60)} {rng.choice(STREETS)}"
        organisations.append(
            Organisation(
                kind=OrganisationKind.BUYER,
                name=draft.name,
                slug=taken.slug_for(draft.name, siren),
                siret=siret,
                siren=siren,
                buyer_kind=draft.kind,
                street=street,
                postal_code=commune.postal_code,
                city=commune.name,
                insee_code=commune.insee,
                department=commune.department,
            )
        )
    return organisations


def _company_name(rng: random.Random, activity: str) -> str:
    pattern = rng.choice(NAME_PATTERNS)
    region, of_region = rng.choice(REGIONAL_WORDS)
    return pattern.format(
        activity=activity,
        surname=rng.choice(SURNAMES),
        surname2=rng.choice(SURNAMES),
        region=region,
        of_region=of_region,
    )


def _companies(rng: random.Random, count: int, taken: Taken) -> list[Organisation]:
    forms = [form for form, _weight in LEGAL_FORM_WEIGHTS]
    weights = [weight for _form, weight in LEGAL_FORM_WEIGHTS]
    organisations = []
    for _ in range(count):
        activity, naf_code = rng.choice(ACTIVITIES)
        name = _company_name(rng, activity)
        legal_form = rng.choices(forms, weights=weights)[0]
        siren = _random_siren(rng, rng.choice("3456789"), taken)
        siret = siret_with_check_digit(siren, f"000{rng.randint(1, 9)}")
        commune = rng.choice(COMMUNES)
        organisations.append(
            Organisation(
                kind=OrganisationKind.COMPANY,
                name=f"{name} {legal_form}" if legal_form in {"SAS", "SARL", "SA"} and rng.random() < 0.3 else name,
                slug=taken.slug_for(name, siren),
                siren=siren,
                siret=siret,
                legal_form=legal_form,
                naf_code=naf_code,
                is_sme=rng.random() < (0.5 if legal_form == "SA" else 0.93),
                street=f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                postal_code=commune.postal_code,
                city=commune.name,
                insee_code=commune.insee,
                department=commune.department,
            )
        )
    return organisations


def _services(rng: random.Random, buyers: list[Organisation]) -> tuple[list[BuyerService], list[tuple[int, str]]]:
    """Top-level services to insert, and (index of parent in that list, name) of their sub-services."""
    parents: list[BuyerService] = []
    children: list[tuple[int, str]] = []
    for buyer in buyers:
        if buyer.buyer_kind in {BuyerKind.SCHOOL, BuyerKind.OTHER}:
            continue
        for name, subs in rng.sample(SERVICES, rng.randint(1, 4)):
            parents.append(BuyerService(organisation_id=buyer.pk, name=name))
            for sub in rng.sample(subs, rng.randint(0, len(subs))):
                children.append((len(parents) - 1, sub))
    return parents, children


def seed(*, buyers: int = 0, companies: int = 0, seed: int = 0, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Add `buyers` public buyers (with services) and `companies` companies; returns the counts added."""
    if buyers < 0 or companies < 0:
        raise ValueError("buyers and companies must be zero or more")
    # Reproducible pseudo-random data, not secrets: one stream per kind, so that asking for more
    # companies does not change the buyers generated with the same seed.
    buyer_rng = random.Random(f"ebourgogne-buyers-{seed}")  # noqa: S311
    company_rng = random.Random(f"ebourgogne-companies-{seed}")  # noqa: S311
    service_rng = random.Random(f"ebourgogne-services-{seed}")  # noqa: S311
    with transaction.atomic(), scopes_disabled():
        taken = Taken.from_database()
        new_buyers = _buyers(buyer_rng, buyers, taken)
        Organisation.objects.bulk_create(new_buyers, batch_size=batch_size)
        parents, children = _services(service_rng, new_buyers)
        BuyerService.objects.bulk_create(parents, batch_size=batch_size)
        sub_services = [
            BuyerService(organisation_id=parents[index].organisation_id, parent_id=parents[index].pk, name=name)
            for index, name in children
        ]
        BuyerService.objects.bulk_create(sub_services, batch_size=batch_size)
        new_companies = _companies(company_rng, companies, taken)
        Organisation.objects.bulk_create(new_companies, batch_size=batch_size)
        counts = {
            "buyers": len(new_buyers),
            "companies": len(new_companies),
            "services": len(parents) + len(sub_services),
        }
        log_event(action="org.seeded", data={**counts, "seed": seed})
    return counts
