"""Generated consultations at scale, for demos and benchmarks: `seed_consultations(count=, seed=)`.

Titles, objects and lots come from templates by CPV division (roadworks, school catering, IT
maintenance...), with real CPV 2008 codes, real communes of Bourgogne (organisations.seed_data) and the
buyers already in the database. States and dates agree with each other and with the clock: most
consultations are published with a deadline ahead, some are closed, opened, awarded, unsuccessful,
abandoned or cancelled (deadlines behind), some are drafts. Deadlines fall at noon or 17:00, Paris time.

The same seed on the same database and day gives the same consultations. Rows are written with
COPY (PostgreSQL) or executemany (SQLite) in batches, without the ORM, then the search index is
filled in bulk (search.indexing.index_from): a million consultations take minutes.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django_scopes import scopes_disabled

from ebourgogne.consultations.models import (
    DEFAULT_BID_SIZE_LIMIT,
    DEFAULT_DCE_SIZE_LIMIT,
    Consultation,
    ConsultationCpv,
    ContractType,
    CpvCode,
    Lot,
    Procedure,
    State,
)
from ebourgogne.core import clock
from ebourgogne.core.clock import PARIS
from ebourgogne.organisations.models import Organisation
from ebourgogne.organisations.roles import OrganisationKind
from ebourgogne.organisations.seed_data import COMMUNES, SCHOOL_PATRONS, STREETS, SURNAMES

BATCH = 5000

W, S, F = ContractType.WORKS, ContractType.SERVICES, ContractType.SUPPLIES


@dataclass(frozen=True)
class Template:
    contract_type: str
    codes: tuple[str, ...]  # CPV codes (8 digits), the first is the most usual main code
    titles: tuple[str, ...]  # placeholders: {town}, {street}, {patron}, {year}, {building}
    objects: tuple[str, ...]
    lots: tuple[str, ...] = ()  # lot titles, when the consultation is split


TEMPLATES: tuple[Template, ...] = (
    Template(
        W,
        ("45233140", "45233141", "45233142", "45233250", "45233220"),
        (
            "Travaux de voirie — {street} à {town}",
            "Programme {year} d'entretien de la voirie communale",
            "Réfection de chaussée et aménagement de trottoirs, {street}",
            "Travaux de voirie et de réseaux divers du lotissement des Vignes à {town}",
        ),
        (
            "Travaux de voirie : rabotage, reprofilage et mise en œuvre d'enrobés, bordures et caniveaux, "
            "signalisation horizontale.",
            "Entretien et réparation des voies communales : emplois partiels, enduits superficiels, curage des fossés.",
        ),
        ("Terrassements et chaussées", "Bordures et trottoirs", "Signalisation", "Éclairage public"),
    ),
    Template(
        W,
        ("45214200", "45214210", "45214220", "45453000", "45454000"),
        (
            "Rénovation de l'école {patron} de {town}",
            "Construction d'un groupe scolaire à {town}",
            "Extension et restructuration du collège {patron}",
            "Mise en accessibilité de l'école élémentaire de {town}",
        ),
        (
            "Travaux de réhabilitation d'un bâtiment scolaire en site occupé, avec mise en accessibilité et "
            "amélioration des performances énergétiques.",
            "Construction neuve d'un bâtiment d'enseignement : salles de classe, restaurant scolaire, préau.",
        ),
        (
            "Gros œuvre",
            "Charpente — couverture",
            "Menuiseries extérieures",
            "Plâtrerie — peinture",
            "Électricité — courants faibles",
            "Plomberie — chauffage — ventilation",
        ),
    ),
    Template(
        W,
        ("45321000", "45331000", "45331100", "45261000"),
        (
            "Rénovation énergétique de la mairie de {town}",
            "Isolation thermique des bâtiments communaux de {town}",
            "Remplacement de la chaufferie du gymnase de {town}",
            "Réfection de la toiture de {building}",
        ),
        (
            "Travaux d'isolation, de remplacement des menuiseries et du système de chauffage afin de réduire "
            "les consommations d'énergie.",
        ),
        ("Isolation", "Menuiseries", "Chauffage — ventilation"),
    ),
    Template(
        W,
        ("45232410", "45232411", "45231300", "45232150"),
        (
            "Travaux d'assainissement — réseau d'eaux usées de {town}",
            "Renouvellement des conduites d'eau potable, {street}",
            "Mise en séparatif des réseaux d'assainissement de {town}",
        ),
        ("Pose de canalisations, branchements, regards et réfection des tranchées ; essais et inspections.",),
        ("Eaux usées", "Eaux pluviales", "Eau potable"),
    ),
    Template(
        S,
        ("55524000", "55523100", "55520000", "55321000"),
        (
            "Restauration scolaire de {town} : fourniture et livraison de repas",
            "Fourniture de repas en liaison froide pour la restauration scolaire et l'accueil de loisirs",
            "Restauration collective du collège {patron}",
            "Portage de repas à domicile pour les personnes âgées de {town}",
        ),
        (
            "Préparation et livraison de repas pour les écoles maternelles et élémentaires, avec une part de "
            "produits biologiques et locaux conforme à la loi EGalim.",
            "Restauration scolaire : confection des repas, livraison en liaison froide, animation nutritionnelle.",
        ),
        ("Repas scolaires", "Repas de l'accueil de loisirs", "Goûters"),
    ),
    Template(
        F,
        ("15000000", "15800000", "15500000", "03221000"),
        (
            "Fourniture de denrées alimentaires pour la cuisine centrale de {town}",
            "Achat de produits laitiers et de fruits et légumes pour les cantines",
        ),
        ("Fourniture de denrées alimentaires, livraison hebdomadaire à la cuisine centrale.",),
        ("Fruits et légumes", "Produits laitiers", "Viandes et volailles", "Épicerie"),
    ),
    Template(
        S,
        ("72250000", "50312000", "72611000", "72253000"),
        (
            "Maintenance informatique des écoles de {town}",
            "Infogérance et assistance aux utilisateurs",
            "Maintenance du parc informatique et des serveurs",
            "Maintenance informatique et hébergement des applications métier",
        ),
        (
            "Maintenance préventive et corrective des postes de travail, serveurs et réseaux ; assistance "
            "téléphonique aux utilisateurs.",
        ),
    ),
    Template(
        F,
        ("30213100", "30213000", "30232110", "48000000"),
        (
            "Acquisition d'ordinateurs portables pour les collèges",
            "Fourniture de matériel informatique et de logiciels",
            "Achat de tablettes numériques pour les écoles de {town}",
        ),
        ("Fourniture, livraison et configuration de matériel informatique, garantie de trois ans.",),
        ("Ordinateurs portables", "Écrans et périphériques", "Logiciels"),
    ),
    Template(
        F,
        ("34144900", "34110000", "34136000", "34142000"),
        (
            "Acquisition de véhicules électriques pour les services municipaux",
            "Achat d'un véhicule utilitaire pour les services techniques de {town}",
            "Fourniture d'une balayeuse de voirie",
        ),
        ("Fourniture de véhicules neufs, reprise de l'ancien matériel, formation des conducteurs.",),
    ),
    Template(
        S,
        ("90911200", "90919200", "90910000"),
        (
            "Nettoyage des locaux communaux de {town}",
            "Prestations de nettoyage des bâtiments administratifs",
            "Nettoyage des vitres et des bâtiments scolaires",
        ),
        ("Entretien courant et périodique des locaux, fourniture des produits, vitrerie.",),
        ("Bâtiments administratifs", "Écoles", "Équipements sportifs"),
    ),
    Template(
        S,
        ("77310000", "77311000", "77314000", "77211400"),
        (
            "Entretien des espaces verts de {town}",
            "Tonte et fauchage des accotements des routes départementales",
            "Élagage et abattage d'arbres, {street}",
        ),
        ("Tonte, taille des haies, désherbage sans produits phytosanitaires, ramassage des feuilles.",),
    ),
    Template(
        S,
        ("90511000", "90512000", "90513000", "90500000"),
        (
            "Collecte et traitement des ordures ménagères",
            "Collecte des déchets recyclables en points d'apport volontaire",
            "Gestion de la déchetterie de {town}",
        ),
        ("Collecte en porte-à-porte, transport et traitement des déchets ménagers et assimilés.",),
    ),
    Template(
        S,
        ("60112000", "60130000", "60140000"),
        (
            "Transport scolaire — circuits du secteur de {town}",
            "Transport des élèves vers la piscine et les sorties pédagogiques",
            "Service de transport à la demande",
        ),
        ("Transport des élèves entre leur domicile et leur établissement, en car ou minibus.",),
    ),
    Template(
        F,
        ("09310000", "09123000", "09135000", "09134200"),
        (
            "Fourniture d'électricité pour les bâtiments et l'éclairage public",
            "Fourniture et acheminement de gaz naturel",
            "Fourniture de fioul domestique et de carburants",
        ),
        ("Fourniture d'énergie pour l'ensemble des points de livraison de la collectivité.",),
    ),
    Template(
        S,
        ("71000000", "71221000", "71520000", "71317210"),
        (
            "Maîtrise d'œuvre pour la réhabilitation de {building}",
            "Mission de coordination sécurité et protection de la santé (SPS)",
            "Assistance à maîtrise d'ouvrage pour la construction d'une médiathèque",
        ),
        ("Mission de maîtrise d'œuvre complète : études, assistance aux contrats de travaux, direction.",),
    ),
    Template(
        S,
        ("79341000", "79342000", "79810000", "79822500"),
        (
            "Conception et impression du magazine municipal de {town}",
            "Impression des supports de communication",
            "Campagne de communication sur le tri des déchets",
        ),
        ("Conception graphique, impression et distribution des supports de communication.",),
    ),
    Template(
        F,
        ("39160000", "39161000", "37535200", "39113000"),
        (
            "Fourniture de mobilier scolaire pour l'école {patron}",
            "Équipement des aires de jeux de {town}",
            "Mobilier de bureau pour les services administratifs",
        ),
        ("Fourniture, livraison et installation de mobilier, reprise de l'ancien.",),
    ),
    Template(
        S,
        ("66510000", "66516000", "66515200"),
        (
            "Assurances de la collectivité",
            "Assurance de la flotte automobile et des dommages aux biens",
        ),
        ("Contrats d'assurance : responsabilité civile, dommages aux biens, flotte automobile, protection juridique.",),
        ("Responsabilité civile", "Dommages aux biens", "Flotte automobile", "Protection juridique"),
    ),
    Template(
        F,
        ("33600000", "33140000", "33190000"),
        (
            "Fourniture de produits pharmaceutiques",
            "Achat de dispositifs médicaux stériles",
        ),
        ("Fourniture de médicaments et de dispositifs médicaux pour la pharmacie à usage intérieur.",),
    ),
    Template(
        S,
        ("50750000", "50700000", "50720000"),
        (
            "Maintenance des ascenseurs des bâtiments de {town}",
            "Entretien des installations de chauffage et de climatisation",
        ),
        ("Maintenance préventive et dépannage des installations, astreinte 24 heures sur 24.",),
    ),
    Template(
        S,
        ("79713000", "79714000", "79710000"),
        (
            "Gardiennage et surveillance des bâtiments",
            "Surveillance des manifestations estivales de {town}",
        ),
        ("Surveillance humaine, rondes, télésurveillance et intervention sur alarme.",),
    ),
)

BUILDINGS = (
    "l'hôtel de ville",
    "la médiathèque",
    "la salle des fêtes",
    "la piscine municipale",
    "l'ancien couvent",
    "la maison des associations",
    "l'église Saint-Martin",
    "le gymnase",
)

# Share of each state (the rest is published with a deadline ahead).
STATE_WEIGHTS = (
    ("open", 66),
    (State.DRAFT, 6),
    (State.CLOSED, 9),
    (State.OPENED, 3),
    (State.AWARDED, 9),
    (State.UNSUCCESSFUL, 2),
    (State.ABANDONED, 2),
    (State.CANCELLED, 3),
)

CONSULTATION_COLUMNS = (
    "id",
    "organisation_id",
    "service_id",
    "reference",
    "title",
    "object",
    "contract_type",
    "procedure",
    "main_cpv_id",
    "department",
    "commune",
    "insee_code",
    "estimated_value",
    "duration_months",
    "variants_allowed",
    "required_documents",
    "urgency",
    "contact_name",
    "contact_email",
    "contact_phone",
    "published_at",
    "questions_deadline",
    "bids_deadline",
    "planned_opening_at",
    "state",
    "closed_at",
    "opened_at",
    "ended_at",
    "end_reason",
    "dce_size_limit",
    "commission_id",
    "is_practice",
    "bid_size_limit",
    "created_by_id",
    "created_at",
    "updated_at",
)
LOT_COLUMNS = ("id", "consultation_id", "number", "title", "description", "estimated_value")
CPV_COLUMNS = ("consultation_id", "lot_id", "cpv_id", "is_main")

REQUIRED_DOCUMENTS = "\n".join(
    (
        "Lettre de candidature (DC1) ou DUME",
        "Déclaration du candidat (DC2)",
        "Acte d'engagement",
        "Mémoire technique",
        "Bordereau des prix unitaires",
    )
)


@dataclass
class Buyer:
    id: int
    name: str
    department: str
    city: str
    insee: str


class _Writer:
    """Batched inserts without the ORM: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, cursor):
        self.cursor = cursor
        self.postgres = connection.vendor == "postgresql"

    @staticmethod
    def _sqlite_value(value):
        # As Django stores them in SQLite: naive UTC "YYYY-MM-DD HH:MM:SS[.ffffff]", decimals as text.
        if isinstance(value, dt.datetime):
            return str(value.astimezone(dt.UTC).replace(tzinfo=None))
        if isinstance(value, Decimal):
            return str(value)
        return value

    def insert(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        if self.postgres:
            with self.cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        # Convert only the columns that hold datetimes or decimals (found on the batch's rows).
        convert = sorted(
            {index for row in rows for index, value in enumerate(row) if isinstance(value, (dt.datetime, Decimal))}
        )
        adapt = self._sqlite_value
        if convert:
            prepared = []
            for row in rows:
                row = list(row)
                for index in convert:
                    row[index] = adapt(row[index])
                prepared.append(row)
        else:
            prepared = rows
        placeholders = ", ".join(["%s"] * len(columns))
        self.cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",  # noqa: S608
            prepared,
        )


def _paris(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=PARIS).astimezone(dt.UTC)


def _value(rng: random.Random, contract_type: str) -> Decimal | None:
    if rng.random() < 0.08:
        return None
    high = 8_000_000 if contract_type == W else 1_500_000
    amount = math.exp(rng.uniform(math.log(4_000), math.log(high)))
    return Decimal(int(amount / 100) * 100)


def _procedure(rng: random.Random, contract_type: str, value: Decimal | None) -> str:
    threshold = 5_538_000 if contract_type == W else 221_000
    roll = rng.random()
    if value is not None and value >= threshold:
        if roll < 0.7:
            return Procedure.OPEN
        if roll < 0.85:
            return Procedure.RESTRICTED
        if roll < 0.95:
            return Procedure.NEGOTIATED
        return Procedure.COMPETITIVE_DIALOGUE
    if roll < 0.9:
        return Procedure.MAPA
    if roll < 0.96:
        return Procedure.OPEN
    if roll < 0.99:
        return Procedure.NEGOTIATED_WITHOUT_NOTICE
    return Procedure.DESIGN_CONTEST


def _buyers() -> list[Buyer]:
    rows = Organisation.objects.filter(kind=OrganisationKind.BUYER, is_active=True).order_by("pk")
    return [
        Buyer(pk, name, department or "21", city, insee)
        for pk, name, department, city, insee in rows.values_list("pk", "name", "department", "city", "insee_code")
    ]


def _rows(
    rng: random.Random, buyers: list[Buyer], first_id: int, first_lot_id: int, count: int, now: dt.datetime, codes: set
) -> Iterator[tuple[tuple, list[tuple], list[tuple]]]:
    """(consultation row, lot rows, CPV rows) for each new consultation."""
    communes_by_department: dict[str, list] = {}
    for commune in COMMUNES:
        communes_by_department.setdefault(commune.department, []).append(commune)
    templates = [
        (template, [code for code in template.codes if code in codes] or [template.codes[0][:2] + "000000"])
        for template in TEMPLATES
    ]
    states = [state for state, _ in STATE_WEIGHTS]
    weights = [weight for _, weight in STATE_WEIGHTS]
    today = now.astimezone(PARIS).date()
    lot_id = first_lot_id
    for offset in range(count):
        pk = first_id + offset
        buyer = buyers[rng.randrange(len(buyers))]
        template, template_codes = templates[rng.randrange(len(templates))]
        local = communes_by_department.get(buyer.department) or list(COMMUNES)
        if buyer.city and rng.random() < 0.7:
            town, insee = buyer.city, buyer.insee
        else:
            commune = local[rng.randrange(len(local))]
            town, insee = commune.name, commune.insee
        title = rng.choice(template.titles).format(
            town=town,
            street=rng.choice(STREETS),
            patron=rng.choice(SCHOOL_PATRONS),
            year=today.year + (1 if today.month >= 10 else 0),
            building=rng.choice(BUILDINGS),
        )
        obj = rng.choice(template.objects)
        value = _value(rng, template.contract_type)
        procedure = _procedure(rng, template.contract_type, value)
        state = rng.choices(states, weights)[0]
        published_at = closed_at = opened_at = ended_at = None
        end_reason = ""
        if state == "open":
            state = State.PUBLISHED
            deadline_day = today + dt.timedelta(days=rng.randint(1, 60))
            published_at = now - dt.timedelta(days=rng.randint(0, 30), minutes=rng.randint(0, 1440))
        elif state == State.DRAFT:
            deadline_day = today + dt.timedelta(days=rng.randint(20, 90))
        else:
            age = rng.randint(1, 40) if state in (State.CLOSED, State.CANCELLED) else rng.randint(20, 900)
            deadline_day = today - dt.timedelta(days=age)
        hour = 12 if rng.random() < 0.6 else 17
        deadline = _paris(deadline_day, hour)
        if state not in (State.DRAFT, State.PUBLISHED):
            published_at = deadline - dt.timedelta(days=rng.randint(21, 52), hours=rng.randint(0, 8))
            if state != State.CANCELLED:
                closed_at = deadline
            if state in (State.OPENED, State.AWARDED, State.UNSUCCESSFUL, State.ABANDONED):
                opened_at = min(deadline + dt.timedelta(hours=2), now)
            if state in (State.AWARDED, State.UNSUCCESSFUL, State.ABANDONED):
                ended_at = min(deadline + dt.timedelta(days=rng.randint(10, 60)), now)
                end_reason = {
                    State.AWARDED: "",
                    State.UNSUCCESSFUL: "Aucune offre acceptable n'a été reçue.",
                    State.ABANDONED: "Le besoin a été redéfini ; une nouvelle consultation sera lancée.",
                }[state]
            if state == State.CANCELLED:
                ended_at = min(published_at + dt.timedelta(days=rng.randint(2, 15)), now)
                end_reason = "Erreur dans le dossier de consultation ; la consultation sera relancée."
        if published_at is not None and published_at > now:
            published_at = now
        main = template_codes[0] if rng.random() < 0.6 else rng.choice(template_codes)
        created = (published_at or now) - dt.timedelta(days=rng.randint(1, 10))
        consultation = (
            pk,
            buyer.id,
            None,
            f"{deadline_day.year}-{pk:07d}",
            title,
            obj,
            template.contract_type,
            procedure,
            main,
            insee[:2] if insee else buyer.department,
            town,
            insee or "",
            value,
            rng.choice((6, 12, 12, 24, 36, 48)),
            rng.random() < 0.2,
            REQUIRED_DOCUMENTS,
            False,
            f"{rng.choice(('Claire', 'Julien', 'Sophie', 'Nicolas', 'Isabelle', 'Thomas'))} {rng.choice(SURNAMES)}",
            "commande.publique@exemple.fr",
            "03 80 00 00 00",
            published_at,
            deadline - dt.timedelta(days=10),
            deadline,
            deadline + dt.timedelta(hours=2),
            state,
            closed_at,
            opened_at,
            ended_at,
            end_reason,
            DEFAULT_DCE_SIZE_LIMIT,
            None,
            False,
            DEFAULT_BID_SIZE_LIMIT,
            None,
            created,
            ended_at or published_at or created,
        )
        cpv_rows = [(pk, None, main, True)]
        for extra in rng.sample(template_codes, k=min(len(template_codes), rng.randint(0, 2))):
            if extra != main:
                cpv_rows.append((pk, None, extra, False))
        lot_rows = []
        if template.lots and rng.random() < 0.3:
            lot_count = rng.randint(2, len(template.lots))
            for number, lot_title in enumerate(template.lots[:lot_count], start=1):
                lot_value = None if value is None else Decimal(int(value / lot_count / 100) * 100)
                lot_rows.append((lot_id, pk, number, lot_title, f"Lot {number} : {lot_title.lower()}.", lot_value))
                cpv_rows.append((pk, lot_id, rng.choice(template_codes), True))
                lot_id += 1
        yield consultation, lot_rows, cpv_rows


def seed_consultations(*, count: int, seed: int = 0, index: bool = True, progress=None) -> dict[str, int]:
    """Add `count` consultations of the buyers already in the database; returns the counts added.

    `progress(done)` is called after each batch. Raises ValueError without any public buyer."""
    if count < 0:
        raise ValueError("count must be zero or more")
    if count == 0:
        return {"consultations": 0, "lots": 0, "cpv_codes": 0, "indexed": 0}
    rng = random.Random(f"ebourgogne-consultations-{seed}")  # noqa: S311 (generated data, not secrets)
    now = clock.now()
    with transaction.atomic(), scopes_disabled():
        buyers = _buyers()
        if not buyers:
            raise ValueError("no public buyer to publish consultations: seed buyers first")
        codes = set(CpvCode.objects.values_list("code", flat=True))
        first_id = (Consultation.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        first_lot_id = (Lot.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        totals = {"consultations": 0, "lots": 0, "cpv_codes": 0}
        with connection.cursor() as cursor:
            writer = _Writer(cursor)
            consultations: list[tuple] = []
            lots: list[tuple] = []
            cpvs: list[tuple] = []

            def flush() -> None:
                writer.insert(Consultation._meta.db_table, CONSULTATION_COLUMNS, consultations)
                writer.insert(Lot._meta.db_table, LOT_COLUMNS, lots)
                writer.insert(ConsultationCpv._meta.db_table, CPV_COLUMNS, cpvs)
                totals["consultations"] += len(consultations)
                totals["lots"] += len(lots)
                totals["cpv_codes"] += len(cpvs)
                consultations.clear()
                lots.clear()
                cpvs.clear()
                if progress:
                    progress(totals["consultations"])

            for consultation, lot_rows, cpv_rows in _rows(rng, buyers, first_id, first_lot_id, count, now, codes):
                consultations.append(consultation)
                lots += lot_rows
                cpvs += cpv_rows
                if len(consultations) == BATCH:
                    flush()
            flush()
            if connection.vendor == "postgresql":
                for sql in connection.ops.sequence_reset_sql(no_style(), [Consultation, Lot]):
                    cursor.execute(sql)
        indexed = 0
        if index:
            from ebourgogne.search.indexing import index_from

            indexed = index_from(first_id)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Consultation, Lot, ConsultationCpv):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
            cursor.execute("ANALYZE search_searchentry")
    return {**totals, "indexed": indexed}
