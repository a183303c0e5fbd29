"""Reference data for generated organisations: real communes of Bourgogne (INSEE code, postal code),
real names of intercommunalities and public bodies, plausible company names and activities.

INSEE codes are those of the Code officiel géographique; postal codes are La Poste's for the main
delivery office of each commune.
"""

from __future__ import annotations

from typing import NamedTuple


class Commune(NamedTuple):
    insee: str
    postal_code: str
    name: str

    @property
    def department(self) -> str:
        return self.insee[:2]


DEPARTMENTS: dict[str, str] = {
    "21": "Côte-d'Or",
    "58": "Nièvre",
    "71": "Saône-et-Loire",
    "89": "Yonne",
}

# Prefecture of each department (seat of the Département council).
PREFECTURES: dict[str, str] = {"21": "21231", "58": "58194", "71": "71270", "89": "89024"}

COMMUNES: tuple[Commune, ...] = (
    # Côte-d'Or (21)
    Commune("21231", "21000", "Dijon"),
    Commune("21054", "21200", "Beaune"),
    Commune("21166", "21300", "Chenôve"),
    Commune("21617", "21240", "Talant"),
    Commune("21171", "21800", "Chevigny-Saint-Sauveur"),
    Commune("21278", "21121", "Fontaine-lès-Dijon"),
    Commune("21515", "21800", "Quetigny"),
    Commune("21355", "21600", "Longvic"),
    Commune("21540", "21850", "Saint-Apollinaire"),
    Commune("21390", "21160", "Marsannay-la-Côte"),
    Commune("21038", "21130", "Auxonne"),
    Commune("21464", "21700", "Nuits-Saint-Georges"),
    Commune("21154", "21400", "Châtillon-sur-Seine"),
    Commune("21425", "21500", "Montbard"),
    Commune("21603", "21140", "Semur-en-Auxois"),
    Commune("21317", "21120", "Is-sur-Tille"),
    Commune("21292", "21110", "Genlis"),
    Commune("21452", "21800", "Neuilly-Crimolois"),
    Commune("21663", "21150", "Venarey-les-Laumes"),
    Commune("21485", "21370", "Plombières-lès-Dijon"),
    Commune("21481", "21160", "Perrigny-lès-Dijon"),
    Commune("21605", "21800", "Sennecey-lès-Dijon"),
    Commune("21295", "21220", "Gevrey-Chambertin"),
    Commune("21021", "21560", "Arc-sur-Tille"),
    Commune("21103", "21470", "Brazey-en-Plaine"),
    Commune("21599", "21260", "Selongey"),
    Commune("21607", "21250", "Seurre"),
    Commune("21584", "21210", "Saulieu"),
    Commune("21023", "21230", "Arnay-le-Duc"),
    Commune("21416", "21310", "Mirebeau-sur-Bèze"),
    Commune("21501", "21320", "Pouilly-en-Auxois"),
    Commune("21412", "21190", "Meursault"),
    Commune("21461", "21340", "Nolay"),
    Commune("21710", "21350", "Vitteaux"),
    Commune("21554", "21170", "Saint-Jean-de-Losne"),
    Commune("21496", "21270", "Pontailler-sur-Saône"),
    Commune("21611", "21540", "Sombernon"),
    Commune("21277", "21610", "Fontaine-Française"),
    Commune("21003", "21121", "Ahuy"),
    Commune("21223", "21121", "Daix"),
    Commune("21263", "21600", "Fénay"),
    Commune("21661", "21370", "Velars-sur-Ouche"),
    Commune("21590", "21420", "Savigny-lès-Beaune"),
    Commune("21606", "21550", "Ladoix-Serrigny"),
    Commune("21492", "21630", "Pommard"),
    Commune("21582", "21590", "Santenay"),
    Commune("21087", "21360", "Bligny-sur-Ouche"),
    Commune("21247", "21460", "Époisses"),
    Commune("21336", "21330", "Laignes"),
    Commune("21657", "21490", "Varois-et-Chaignot"),
    Commune("21408", "21380", "Messigny-et-Vantoux"),
    Commune("21532", "21110", "Rouvres-en-Plaine"),
    Commune("21638", "21120", "Til-Châtel"),
    Commune("21545", "21400", "Sainte-Colombe-sur-Seine"),
    # Nièvre (58)
    Commune("58194", "58000", "Nevers"),
    Commune("58303", "58640", "Varennes-Vauzelles"),
    Commune("58086", "58200", "Cosne-Cours-sur-Loire"),
    Commune("58095", "58300", "Decize"),
    Commune("58079", "58500", "Clamecy"),
    Commune("58059", "58400", "La Charité-sur-Loire"),
    Commune("58117", "58600", "Fourchambault"),
    Commune("58121", "58600", "Garchizy"),
    Commune("58134", "58160", "Imphy"),
    Commune("58151", "58260", "La Machine"),
    Commune("58152", "58470", "Magny-Cours"),
    Commune("58062", "58120", "Château-Chinon (Ville)"),
    Commune("58131", "58130", "Guérigny"),
    Commune("58215", "58150", "Pouilly-sur-Loire"),
    Commune("58218", "58700", "Prémery"),
    Commune("58238", "58000", "Saint-Éloi"),
    Commune("58250", "58300", "Saint-Léger-des-Vignes"),
    Commune("58260", "58490", "Saint-Parize-le-Châtel"),
    Commune("58273", "58160", "Sauvigny-les-Bois"),
    Commune("58300", "58130", "Urzy"),
    Commune("58304", "58210", "Varzy"),
    Commune("58072", "58160", "Chevenon"),
    Commune("58295", "58150", "Tracy-sur-Loire"),
    Commune("58124", "58320", "Germigny-sur-Loire"),
    # Saône-et-Loire (71)
    Commune("71270", "71000", "Mâcon"),
    Commune("71076", "71100", "Chalon-sur-Saône"),
    Commune("71014", "71400", "Autun"),
    Commune("71153", "71200", "Le Creusot"),
    Commune("71306", "71300", "Montceau-les-Mines"),
    Commune("71176", "71160", "Digoin"),
    Commune("71230", "71130", "Gueugnon"),
    Commune("71040", "71450", "Blanzy"),
    Commune("71118", "71880", "Châtenoy-le-Royal"),
    Commune("71081", "71530", "Champforgeuil"),
    Commune("71154", "71530", "Crissey"),
    Commune("71310", "71210", "Montchanin"),
    Commune("71540", "71210", "Torcy"),
    Commune("71499", "71410", "Sanvignes-les-Mines"),
    Commune("71445", "71380", "Saint-Marcel"),
    Commune("71444", "71240", "Saint-Loup-de-Varennes"),
    Commune("71555", "71240", "Varennes-le-Grand"),
    Commune("71269", "71100", "Lux"),
    Commune("71194", "71150", "Farges-lès-Chalon"),
    Commune("71292", "71640", "Mellecey"),
    Commune("71346", "71420", "Perrecy-les-Forges"),
    Commune("71187", "71210", "Écuisses"),
    Commune("71520", "71100", "Sevrey"),
    Commune("71585", "71530", "Virey-le-Grand"),
    Commune("71282", "71710", "Marmagne"),
    # Yonne (89)
    Commune("89024", "89000", "Auxerre"),
    Commune("89387", "89100", "Sens"),
    Commune("89025", "89200", "Avallon"),
    Commune("89206", "89300", "Joigny"),
    Commune("89257", "89400", "Migennes"),
    Commune("89345", "89600", "Saint-Florentin"),
    Commune("89418", "89700", "Tonnerre"),
    Commune("89055", "89210", "Brienon-sur-Armançon"),
    Commune("89446", "89450", "Vézelay"),
    Commune("89364", "89450", "Saint-Père"),
    Commune("89279", "89310", "Noyers"),
    Commune("89204", "89440", "L'Isle-sur-Serein"),
    Commune("89169", "89360", "Flogny-la-Chapelle"),
    Commune("89223", "89160", "Lézinnes"),
    Commune("89439", "89600", "Vergigny"),
    Commune("89156", "89210", "Esnon"),
    Commune("89010", "89310", "Annay-sur-Serein"),
    Commune("89277", "89310", "Nitry"),
)

COMMUNES_BY_INSEE: dict[str, Commune] = {commune.insee: commune for commune in COMMUNES}

# Towns with a public hospital (centre hospitalier).
HOSPITAL_TOWNS: tuple[str, ...] = (
    "21054", "21603", "21425", "21154", "21038", "58194", "58095", "58079", "58086", "71076",
    "71270", "71014", "71306", "89024", "89387", "89206", "89025", "89418",
)  # fmt: skip

# Real intercommunalities (EPCI) and where they sit.
EPCIS: tuple[tuple[str, str], ...] = (
    ("Dijon Métropole", "21231"),
    ("Communauté d'agglomération Beaune Côte et Sud", "21054"),
    ("Communauté de communes de Gevrey-Chambertin et de Nuits-Saint-Georges", "21464"),
    ("Communauté de communes du Montbardois", "21425"),
    ("Communauté de communes Auxonne Pontailler Val de Saône", "21038"),
    ("Communauté de communes du Pays Châtillonnais", "21154"),
    ("Communauté de communes des Terres d'Auxois", "21603"),
    ("Communauté de communes Rives de Saône", "21554"),
    ("Communauté d'agglomération de Nevers", "58194"),
    ("Communauté de communes Cœur de Loire", "58086"),
    ("Communauté de communes Haut-Nivernais-Val d'Yonne", "58079"),
    ("Communauté d'agglomération Le Grand Chalon", "71076"),
    ("Communauté urbaine Creusot Montceau", "71153"),
    ("Mâconnais-Beaujolais Agglomération", "71270"),
    ("Communauté de communes du Grand Autunois Morvan", "71014"),
    ("Communauté d'agglomération de l'Auxerrois", "89024"),
    ("Communauté d'agglomération du Grand Sénonais", "89387"),
    ("Communauté de communes Avallon-Vézelay-Morvan", "89025"),
    ("Communauté de communes du Jovinien", "89206"),
    ("Communauté de communes Le Tonnerrois en Bourgogne", "89418"),
)

# Departmental bodies: energy syndicates, fire and rescue services, social housing offices.
DEPARTMENTAL_SYNDICATES: tuple[tuple[str, str], ...] = (
    ("SICECO — Territoire d'énergie Côte-d'Or", "21231"),
    ("Syndicat intercommunal d'énergies, d'équipement et d'environnement de la Nièvre", "58194"),
    ("Syndicat départemental d'énergie de Saône-et-Loire", "71270"),
    ("Syndicat départemental d'énergies de l'Yonne", "89024"),
)
OTHER_PUBLIC_BODIES: tuple[tuple[str, str], ...] = (
    ("Service départemental d'incendie et de secours de la Côte-d'Or", "21231"),
    ("Service départemental d'incendie et de secours de la Nièvre", "58194"),
    ("Service départemental d'incendie et de secours de Saône-et-Loire", "71270"),
    ("Service départemental d'incendie et de secours de l'Yonne", "89024"),
    ("Grand Dijon Habitat", "21231"),
    ("Nièvre Habitat", "58194"),
    ("OPAC Saône-et-Loire", "71270"),
    ("Domanys", "89024"),
)
# {of_town} is "de Beaune", "d'Auxerre", "du Creusot"...
SYNDICATE_PATTERNS: tuple[str, ...] = (
    "Syndicat intercommunal des eaux de la région {of_town}",
    "Syndicat intercommunal à vocation scolaire {of_town}",
    "Syndicat mixte d'assainissement {of_town}",
    "Syndicat intercommunal de ramassage scolaire {of_town}",
)
OTHER_PATTERNS: tuple[str, ...] = (
    "Centre communal d'action sociale {of_town}",
    "Office de tourisme intercommunal {of_town}",
    "Caisse des écoles {of_town}",
)

SCHOOL_PATRONS: tuple[str, ...] = (
    "Gaston Bachelard", "Jean Moulin", "Marie Curie", "Victor Hugo", "Jules Ferry", "Lamartine",
    "Pierre Larousse", "Colette", "Romain Rolland", "Henri Vincenot", "Gustave Eiffel", "Paul Bert",
    "Émiland Gauthey", "Hilaire de Chardonnet", "Nicéphore Niépce", "Simone Veil", "Jean Jaurès",
    "Albert Camus", "Louis Pasteur", "Gabriel Fauré",
)  # fmt: skip
SCHOOL_KINDS: tuple[str, ...] = ("Collège", "Lycée", "Lycée professionnel")

SERVICES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Direction de la commande publique", ("Bureau des marchés", "Bureau des achats")),
    ("Services techniques", ("Régie voirie", "Espaces verts", "Bâtiments communaux")),
    ("Direction des systèmes d'information", ("Infrastructures", "Applications métier")),
    ("Direction de l'éducation", ("Restauration scolaire", "Accueils périscolaires")),
    ("Direction de la culture et des sports", ("Équipements sportifs", "Médiathèques")),
    ("Direction des finances", ()),
    ("Direction des ressources humaines", ("Formation",)),
    ("Direction de l'eau et de l'assainissement", ("Réseaux", "Stations d'épuration")),
    ("Direction des routes", ("Centre d'exploitation nord", "Centre d'exploitation sud")),
    ("Direction de l'action sociale", ()),
)

# (activity in a company name, NAF rév. 2 code); several codes per trade give variety.
ACTIVITIES: tuple[tuple[str, str], ...] = (
    ("Électricité", "43.21A"),
    ("Plomberie Chauffage", "43.22A"),
    ("Génie climatique", "43.22B"),
    ("Menuiserie", "43.32A"),
    ("Peinture et Décoration", "43.34Z"),
    ("Couverture Zinguerie", "43.91B"),
    ("Maçonnerie", "43.99C"),
    ("Travaux publics", "42.11Z"),
    ("Terrassement", "43.12A"),
    ("Charpente", "16.23Z"),
    ("Bureau d'études", "71.12B"),
    ("Architecture", "71.11Z"),
    ("Informatique", "62.02A"),
    ("Logiciels", "62.01Z"),
    ("Propreté", "81.21Z"),
    ("Paysages", "81.30Z"),
    ("Restauration collective", "56.29A"),
    ("Transports", "49.41A"),
    ("Autocars", "49.39A"),
    ("Sécurité", "80.10Z"),
    ("Imprimerie", "18.12Z"),
    ("Bureautique", "46.66Z"),
    ("Maintenance industrielle", "33.12Z"),
    ("Environnement", "38.11Z"),
    ("Conseil", "70.22Z"),
    ("Communication", "73.11Z"),
    ("Formation", "85.59A"),
    ("Mobilier urbain", "31.01Z"),
    ("Signalisation", "43.99D"),
    ("Fournitures scolaires", "46.49Z"),
)

SURNAMES: tuple[str, ...] = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
    "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
    "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Lefèvre", "Faure", "André",
    "Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Garcia",
    "Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson",
    "Marchand", "Duval", "Denis", "Dumont", "Marie", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier",
    "Brun", "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud",
    "Martinez", "Gérard", "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal", "Caron",
    "Picard", "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix", "Olivier", "Philippe",
    "Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc", "Payet", "Rolland", "Leclercq", "Guillaume", "Lecomte",
    "Bouchard", "Collet", "Jacquot", "Bourgogne", "Chapuis", "Jobard", "Bouhier", "Gros", "Poinsot", "Drouhin",
)  # fmt: skip

# Regions of Bourgogne that make company brand names ("Auxois Paysages", "Menuiserie du Morvan"...),
# with the way French says "of" each one.
REGIONAL_WORDS: tuple[tuple[str, str], ...] = (
    ("Bourgogne", "de Bourgogne"), ("Morvan", "du Morvan"), ("Auxois", "de l'Auxois"), ("Bresse", "de la Bresse"),
    ("Mâconnais", "du Mâconnais"), ("Chalonnais", "du Chalonnais"), ("Nivernais", "du Nivernais"),
    ("Puisaye", "de Puisaye"), ("Val de Saône", "du Val de Saône"), ("Tonnerrois", "du Tonnerrois"),
    ("Sénonais", "du Sénonais"), ("Charolais", "du Charolais"), ("Autunois", "de l'Autunois"),
    ("Dijonnais", "du Dijonnais"), ("Avallonnais", "de l'Avallonnais"), ("Clunisois", "du Clunisois"),
)  # fmt: skip

NAME_PATTERNS: tuple[str, ...] = (
    "{activity} {surname}",
    "{surname} {activity}",
    "{surname} et Fils",
    "{activity} {of_region}",
    "{region} {activity}",
    "Établissements {surname}",
    "{surname} {surname2}",
    "Ateliers {surname}",
)

# (legal form, weight); SA and SNC are rarer among the small firms that answer local tenders.
LEGAL_FORM_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("SAS", 30),
    ("SARL", 30),
    ("SASU", 10),
    ("EURL", 10),
    ("SA", 5),
    ("SCOP", 4),
    ("EI", 5),
    ("SNC", 2),
    ("SELARL", 2),
    ("SCIC", 1),
    ("GIE", 1),
)

STREETS: tuple[str, ...] = (
    "rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard de la Marne", "rue des Vignes",
    "rue du Moulin", "impasse des Tilleuls", "chemin des Combes", "rue de l'Industrie", "rue des Artisans",
    "avenue de la Gare", "rue du Général de Gaulle", "place de la Libération", "rue Pasteur", "route de Beaune",
    "rue des Écoles", "allée des Acacias", "rue du Château", "zone artisanale des Grandes Varennes",
    "rue de la Liberté", "quai de la Saône", "rue du Faubourg", "rue des Forges", "avenue du Drapeau",
)  # fmt: skip
