"""Demo directory for ``manage.py seed_demo``: a realistic French city org chart.

Two halves:

* :func:`build_directory` is pure: from ``(agents, seed)`` it returns plain data
  (:class:`DemoDirectory`: units and agents as frozen dataclasses), the same every time
  for the same arguments. Names, units, corps and grades are built-in lists, so the result
  does not change with a Faker upgrade either.
* :func:`write_directory` and :func:`ensure_demo_logins` write it: bulk inserts in
  batches, keyed by unit code, username and employee number, so that a second run with
  the same arguments creates nothing. Generated agents share one unusable password
  (computed once); only the seven demo logins get a real hash.

The org chart is ``DGS`` (Direction générale des services, the root) → directions →
services → bureaux. Every bureau has a head; agents report to their bureau head, bureau
heads to their service head, service heads to their director, directors to the DGS.
Demo data (unit names, job titles, corps) is French content, like an imported directory:
it is not run through gettext.
"""

import hashlib
import random
import secrets
import sys
import unicodedata
from dataclasses import dataclass, replace
from math import ceil, floor

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cms import roles
from cms.choices import Category, EmploymentStatus, OrgUnitKind
from cms.models import Agent, OrgUnit

DEFAULT_AGENTS = 300
DEFAULT_SEED = 2026
MIN_AGENTS = 20
MAX_AGENTS = 999_999  # employee numbers are "D" + 6 digits
AVERAGE_BUREAU_SIZE = 27  # head included; bureaux end up with ~20-35 agents
BUREAUX_PER_SERVICE = 6
TERRITORIAL_WEIGHT = 5  # a territorial service (crèches, ateliers…) weighs five ordinary ones
CONTRACTUEL_SHARE = 0.15
FEMALE_SHARE = 0.56
SPECIFIC_JOB_SHARE = 0.65  # share of agents holding their direction's own trades
EMAIL_DOMAIN = "demo.parcours.localhost"
ROOT_CODE = "DGS"
BATCH_SIZE = 2000

# Levels of the management chain, in insertion order (a manager is always inserted first).
LEVEL_DGS, LEVEL_DIRECTOR, LEVEL_SERVICE_HEAD, LEVEL_BUREAU_HEAD, LEVEL_MEMBER = range(5)


@dataclass(frozen=True)
class DemoLogin:
    login: str
    group: str | None
    label: object  # lazy translation


DEMO_LOGINS = (
    DemoLogin("agent", None, gettext_lazy("Agent d'un bureau")),
    DemoLogin("manager", None, gettext_lazy("N+1 de « agent » (chef de bureau)")),
    DemoLogin("reviewer", None, gettext_lazy("N+2 de « agent » (chef de service)")),
    DemoLogin("hr", roles.HR, gettext_lazy("Ressources humaines (DRH)")),
    DemoLogin("editor", roles.TRAINING_EDITORS, gettext_lazy("Éditeur de formation")),
    DemoLogin("recruiter", roles.RECRUITERS, gettext_lazy("Recruteur")),
    DemoLogin("interviewer", roles.INTERVIEWERS, gettext_lazy("Membre de jury")),
)
LOGINS = tuple(item.login for item in DEMO_LOGINS)
# Jobs of the DRH demo accounts: (titles m/f, corps key, grade index).
LOGIN_JOBS = {
    "hr": (("Chargé des ressources humaines", "Chargée des ressources humaines"), "attache", 1),
    "editor": (("Responsable de formation", "Responsable de formation"), "attache", 0),
    "recruiter": (("Chargé de recrutement", "Chargée de recrutement"), "attache", 0),
}

# --------------------------------------------------------------------------- reference data

# fmt: off
FEMALE_FIRST_NAMES = (
    "Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Sandrine", "Christine", "Valérie",
    "Véronique", "Céline", "Stéphanie", "Sophie", "Aurélie", "Julie", "Émilie", "Camille",
    "Laure", "Caroline", "Anne", "Claire", "Hélène", "Élodie", "Audrey", "Virginie", "Karine",
    "Nadia", "Fatima", "Samira", "Amina", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Laura",
    "Pauline", "Mathilde", "Charlotte", "Juliette", "Alice", "Lucie", "Margaux", "Clara", "Emma",
    "Louise", "Jeanne", "Agathe", "Anaïs", "Aïcha", "Amandine", "Brigitte", "Cécile", "Chantal",
    "Corinne", "Delphine", "Dominique", "Élise", "Estelle", "Fabienne", "Florence", "Françoise",
    "Gaëlle", "Géraldine", "Hawa", "Jacqueline", "Jessica", "Joëlle", "Josiane", "Justine",
    "Laetitia", "Linda", "Lydie", "Malika", "Marion", "Martine", "Mélanie", "Monique", "Morgane",
    "Myriam", "Nadine", "Noémie", "Océane", "Patricia", "Pascale", "Rachida", "Sabrina", "Salimata",
    "Séverine", "Sonia", "Sylviane", "Vanessa", "Yasmina", "Zoé", "Agnès", "Béatrice", "Coralie",
    "Danielle", "Eva", "Hanane", "Khadija", "Mariam", "Ophélie",
)
MALE_FIRST_NAMES = (
    "Jean", "Pierre", "Michel", "Philippe", "Alain", "Nicolas", "Christophe", "Patrick",
    "Stéphane", "Laurent", "Frédéric", "Olivier", "Éric", "Sébastien", "David", "Julien",
    "Thierry", "Pascal", "Vincent", "François", "Jérôme", "Didier", "Franck", "Bruno", "Thomas",
    "Mathieu", "Guillaume", "Antoine", "Alexandre", "Romain", "Maxime", "Kevin", "Yannick",
    "Karim", "Mohamed", "Rachid", "Youssef", "Mehdi", "Samir", "Hugo", "Lucas", "Louis", "Arthur",
    "Paul", "Jules", "Gabriel", "Raphaël", "Adrien", "Benoît", "Cédric", "Damien", "Emmanuel",
    "Fabrice", "Gilles", "Hervé", "Jacques", "Joël", "Lionel", "Marc", "Mickaël", "Serge", "Xavier",
    "Yves", "Bernard", "Claude", "Daniel", "Denis", "Gérard", "Henri", "Luc", "René", "Robert",
    "Sylvain", "Aurélien", "Baptiste", "Bastien", "Clément", "Dylan", "Florian", "Jonathan",
    "Jordan", "Loïc", "Ludovic", "Quentin", "Rémi", "Simon", "Théo", "Tristan", "Valentin",
    "Victor", "Amadou", "Mamadou", "Moussa", "Ibrahim", "Nordine", "Farid", "Malik", "Kamel",
    "Arnaud", "Fabien", "Grégory", "Jean-Pierre", "Jean-Luc", "Jean-Marc",
)
LAST_NAMES = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Lefèvre", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier",
    "Chevalier", "François", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clément", "Morin",
    "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson", "Marchand", "Duval", "Denis",
    "Dumont", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier", "Brun", "Blanchard", "Giraud",
    "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud", "Martinez", "Gérard",
    "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal", "Caron", "Picard", "Roger",
    "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix", "Olivier", "Philippe", "Bourgeois",
    "Pierre", "Benoît", "Rey", "Leclerc", "Payet", "Rolland", "Leclercq", "Guillaume", "Lecomte",
    "Lopez", "Dupuy", "Guillot", "Hubert", "Berger", "Carpentier", "Sanchez", "Dupuis", "Moulin",
    "Deschamps", "Huet", "Vasseur", "Perez", "Boucher", "Fleury", "Royer", "Klein", "Jacquet",
    "Adam", "Poirier", "Marty", "Aubry", "Guyot", "Carré", "Charles", "Renault", "Charpentier",
    "Ménard", "Maillard", "Baron", "Bertin", "Bailly", "Hervé", "Schneider", "Fernandez", "Le Gall",
    "Collet", "Léger", "Bouvier", "Prévost", "Millet", "Perrot", "Le Roux", "Cousin", "Germain",
    "Breton", "Besson", "Langlois", "Rémy", "Le Goff", "Pelletier", "Lévêque", "Perrier", "Leblanc",
    "Barré", "Lebrun", "Marchal", "Weber", "Mallet", "Hamon", "Boulanger", "Jacob", "Monnier",
    "Michaud", "Rodriguez", "Guichard", "Gillet", "Étienne", "Grondin", "Poulain", "Tessier",
    "Chauvin", "Da Silva", "Bouchet", "Lemaître", "Maréchal", "Humbert", "Reynaud", "Hoarau",
    "Barthélemy", "Cordier", "Pichon", "Lejeune", "Gilbert", "Lamy", "Delaunay", "Pasquier",
    "Diallo", "Traoré", "Koné", "Diop", "Benali", "Haddad", "Mansouri", "Nguyen", "Tran",
    "Ferreira", "Pereira", "Dos Santos", "Cohen", "Lévy", "Bensaïd", "Camara", "Cissé", "Ouédraogo",
)

# The 80 quartiers administratifs of Paris: territorial units (crèches, ateliers) are named after them.
QUARTIERS = (
    "Saint-Germain-l'Auxerrois", "Halles", "Palais-Royal", "Place-Vendôme", "Gaillon", "Vivienne",
    "Mail", "Bonne-Nouvelle", "Arts-et-Métiers", "Enfants-Rouges", "Archives", "Sainte-Avoye",
    "Saint-Merri", "Saint-Gervais", "Arsenal", "Notre-Dame", "Saint-Victor", "Jardin-des-Plantes",
    "Val-de-Grâce", "Sorbonne", "Monnaie", "Odéon", "Notre-Dame-des-Champs", "Saint-Germain-des-Prés",
    "Saint-Thomas-d'Aquin", "Invalides", "École-Militaire", "Gros-Caillou", "Champs-Élysées",
    "Faubourg-du-Roule", "Madeleine", "Europe", "Saint-Georges", "Chaussée-d'Antin",
    "Faubourg-Montmartre", "Rochechouart", "Saint-Vincent-de-Paul", "Porte-Saint-Denis",
    "Porte-Saint-Martin", "Hôpital-Saint-Louis", "Folie-Méricourt", "Saint-Ambroise", "Roquette",
    "Sainte-Marguerite", "Bel-Air", "Picpus", "Bercy", "Quinze-Vingts", "Salpêtrière", "Gare",
    "Maison-Blanche", "Croulebarbe", "Montparnasse", "Parc-de-Montsouris", "Petit-Montrouge",
    "Plaisance", "Saint-Lambert", "Necker", "Grenelle", "Javel", "Auteuil", "Muette",
    "Porte-Dauphine", "Chaillot", "Ternes", "Plaine-de-Monceaux", "Batignolles", "Épinettes",
    "Grandes-Carrières", "Clignancourt", "Goutte-d'Or", "Chapelle", "Villette", "Pont-de-Flandre",
    "Amérique", "Combat", "Belleville", "Saint-Fargeau", "Père-Lachaise", "Charonne",
)

# fmt: on

GENERIC_BUREAUX = (
    "Bureau des affaires générales",
    "Bureau du budget et de la commande publique",
    "Bureau des ressources humaines de proximité",
    "Bureau de la programmation",
    "Bureau de l'accueil et des usagers",
    "Bureau des études et des projets",
    "Bureau de la coordination territoriale",
    "Bureau du contrôle de gestion",
    "Bureau des moyens généraux",
    "Bureau de la qualité et des méthodes",
)

# Corps (Paris has its own corps; elsewhere they are "cadres d'emplois") and their grades,
# lowest first. Key -> (category, corps, grades).
CORPS = {
    "administrateur": (
        "A",
        "Administrateurs de la Ville de Paris",
        ("Administrateur", "Administrateur hors classe", "Administrateur général"),
    ),
    "attache": ("A", "Attachés d'administrations parisiennes", ("Attaché", "Attaché principal", "Attaché hors classe")),
    "ingenieur": (
        "A",
        "Ingénieurs et architectes d'administrations parisiennes",
        ("Ingénieur et architecte", "Ingénieur et architecte divisionnaire", "Ingénieur et architecte en chef"),
    ),
    "bibliothecaire": ("A", "Bibliothécaires", ("Bibliothécaire", "Bibliothécaire hors classe")),
    "eje": (
        "A",
        "Éducateurs de jeunes enfants",
        ("Éducateur de jeunes enfants", "Éducateur de jeunes enfants de classe exceptionnelle"),
    ),
    "infirmier": (
        "A",
        "Infirmiers en soins généraux",
        (
            "Infirmier en soins généraux de classe normale",
            "Infirmier en soins généraux de classe supérieure",
            "Infirmier en soins généraux hors classe",
        ),
    ),
    "ase": (
        "A",
        "Assistants socio-éducatifs",
        ("Assistant socio-éducatif", "Assistant socio-éducatif de classe exceptionnelle"),
    ),
    "secretaire": (
        "B",
        "Secrétaires administratifs",
        (
            "Secrétaire administratif de classe normale",
            "Secrétaire administratif de classe supérieure",
            "Secrétaire administratif de classe exceptionnelle",
        ),
    ),
    "redacteur": (
        "B",
        "Rédacteurs",
        ("Rédacteur", "Rédacteur principal de 2e classe", "Rédacteur principal de 1re classe"),
    ),
    "technicien": (
        "B",
        "Techniciens supérieurs d'administrations parisiennes",
        ("Technicien supérieur", "Technicien supérieur principal", "Technicien supérieur en chef"),
    ),
    "auxpuer": (
        "B",
        "Auxiliaires de puériculture",
        ("Auxiliaire de puériculture de classe normale", "Auxiliaire de puériculture de classe supérieure"),
    ),
    "assbib": (
        "B",
        "Assistants spécialisés des bibliothèques et des musées",
        (
            "Assistant spécialisé de classe normale",
            "Assistant spécialisé de classe supérieure",
            "Assistant spécialisé de classe exceptionnelle",
        ),
    ),
    "animateur": (
        "B",
        "Animateurs d'administrations parisiennes",
        ("Animateur", "Animateur principal de 2e classe", "Animateur principal de 1re classe"),
    ),
    "educsport": (
        "B",
        "Éducateurs des activités physiques et sportives",
        ("Éducateur des APS", "Éducateur des APS principal de 2e classe", "Éducateur des APS principal de 1re classe"),
    ),
    "chefpm": (
        "B",
        "Chefs de service de police municipale",
        (
            "Chef de service de police municipale",
            "Chef de service de police municipale principal de 2e classe",
            "Chef de service de police municipale principal de 1re classe",
        ),
    ),
    "adjadm": (
        "C",
        "Adjoints administratifs",
        (
            "Adjoint administratif",
            "Adjoint administratif principal de 2e classe",
            "Adjoint administratif principal de 1re classe",
        ),
    ),
    "adjtech": (
        "C",
        "Adjoints techniques",
        ("Adjoint technique", "Adjoint technique principal de 2e classe", "Adjoint technique principal de 1re classe"),
    ),
    "atpe": (
        "C",
        "Agents techniques de la petite enfance",
        (
            "Agent technique de la petite enfance",
            "Agent technique de la petite enfance principal de 2e classe",
            "Agent technique de la petite enfance principal de 1re classe",
        ),
    ),
    "adjanim": (
        "C",
        "Adjoints d'animation",
        (
            "Adjoint d'animation",
            "Adjoint d'animation principal de 2e classe",
            "Adjoint d'animation principal de 1re classe",
        ),
    ),
    "adjpatr": (
        "C",
        "Adjoints d'accueil, de surveillance et de magasinage",
        (
            "Adjoint d'accueil, de surveillance et de magasinage",
            "Adjoint d'accueil, de surveillance et de magasinage principal de 2e classe",
            "Adjoint d'accueil, de surveillance et de magasinage principal de 1re classe",
        ),
    ),
    "pm": ("C", "Agents de police municipale", ("Gardien-brigadier", "Brigadier-chef principal")),
}
GRADE_WEIGHTS = (50, 33, 17)

# Jobs: (masculine title, feminine title, corps key). Generic jobs exist everywhere.
GENERIC_JOBS = {
    ("A", "admin"): (
        ("Chargé de mission", "Chargée de mission", "attache"),
        ("Chef de projet", "Cheffe de projet", "attache"),
        ("Juriste", "Juriste", "attache"),
        ("Contrôleur de gestion", "Contrôleuse de gestion", "attache"),
    ),
    ("A", "tech"): (
        ("Ingénieur d'études", "Ingénieure d'études", "ingenieur"),
        ("Chef de projet technique", "Cheffe de projet technique", "ingenieur"),
    ),
    ("B", "admin"): (
        ("Gestionnaire administratif", "Gestionnaire administrative", "secretaire"),
        ("Assistant de direction", "Assistante de direction", "secretaire"),
        ("Gestionnaire budgétaire et comptable", "Gestionnaire budgétaire et comptable", "redacteur"),
        ("Gestionnaire des ressources humaines", "Gestionnaire des ressources humaines", "redacteur"),
    ),
    ("B", "tech"): (
        ("Technicien", "Technicienne", "technicien"),
        ("Dessinateur-projeteur", "Dessinatrice-projeteuse", "technicien"),
    ),
    ("C", "admin"): (
        ("Agent d'accueil", "Agente d'accueil", "adjadm"),
        ("Assistant administratif", "Assistante administrative", "adjadm"),
        ("Agent de gestion administrative", "Agente de gestion administrative", "adjadm"),
        ("Secrétaire", "Secrétaire", "adjadm"),
    ),
    ("C", "tech"): (
        ("Agent d'entretien", "Agente d'entretien", "adjtech"),
        ("Agent de maintenance des bâtiments", "Agente de maintenance des bâtiments", "adjtech"),
        ("Magasinier", "Magasinière", "adjtech"),
    ),
}


@dataclass(frozen=True)
class ServiceDef:
    code: str
    name: str
    bureaux: tuple = ()
    # Territorial units instead of bureaux: (name prefix, head title m, head title f).
    territorial: tuple | None = None


@dataclass(frozen=True)
class DirectionDef:
    code: str
    name: str
    weight: int  # relative headcount
    categories: tuple  # weights of A, B, C
    technical: bool
    services: tuple
    jobs: dict  # category -> ((m, f, corps key), ...)


S = ServiceDef
DIRECTIONS = (
    DirectionDef(
        "DRH",
        "Direction des ressources humaines",
        1000,
        (30, 35, 35),
        False,
        (
            S(
                "SF",
                "Service de la formation",
                (
                    "Bureau des parcours de formation",
                    "Bureau de l'ingénierie pédagogique",
                    "Bureau des préparations aux concours",
                ),
            ),
            S(
                "SRC",
                "Service du recrutement et des concours",
                ("Bureau du recrutement", "Bureau des concours", "Bureau de la mobilité interne"),
            ),
            S(
                "SGC",
                "Service de la gestion des carrières",
                (
                    "Bureau des carrières administratives",
                    "Bureau des carrières techniques",
                    "Bureau des carrières de la petite enfance",
                ),
            ),
            S("SPR", "Service de la paie et des rémunérations", ("Bureau de la paie", "Bureau du régime indemnitaire")),
            S(
                "SQVT",
                "Service de la qualité de vie au travail",
                ("Bureau de la prévention des risques professionnels", "Bureau de la médecine préventive"),
            ),
            S(
                "SPRH",
                "Service du pilotage et des systèmes d'information RH",
                ("Bureau du SIRH", "Bureau des études statistiques"),
            ),
            S(
                "SAS",
                "Service de l'action sociale",
                ("Bureau des prestations sociales", "Bureau du logement des agents"),
            ),
        ),
        {
            "A": (
                ("Conseiller en évolution professionnelle", "Conseillère en évolution professionnelle", "attache"),
                ("Chargé de recrutement", "Chargée de recrutement", "attache"),
                ("Responsable de formation", "Responsable de formation", "attache"),
            ),
            "B": (
                ("Gestionnaire carrière et paie", "Gestionnaire carrière et paie", "secretaire"),
                ("Gestionnaire formation", "Gestionnaire formation", "secretaire"),
                ("Gestionnaire concours", "Gestionnaire concours", "redacteur"),
            ),
            "C": (("Assistant ressources humaines", "Assistante ressources humaines", "adjadm"),),
        },
    ),
    DirectionDef(
        "DASCO",
        "Direction des affaires scolaires",
        9000,
        (5, 17, 78),
        False,
        (
            S(
                "SEE",
                "Service de l'entretien des écoles",
                territorial=("Équipe d'entretien des écoles", "Responsable d'équipe", "Responsable d'équipe"),
            ),
            S(
                "SRS",
                "Service de la restauration scolaire",
                ("Bureau de la restauration scolaire", "Bureau de la qualité nutritionnelle"),
            ),
            S(
                "SAP",
                "Service des activités périscolaires",
                territorial=("Centre de loisirs", "Directeur de centre de loisirs", "Directrice de centre de loisirs"),
            ),
            S(
                "SCA",
                "Service des circonscriptions des affaires scolaires",
                territorial=(
                    "Circonscription des affaires scolaires",
                    "Chef de circonscription",
                    "Cheffe de circonscription",
                ),
            ),
            S(
                "SPE",
                "Service des projets éducatifs",
                ("Bureau des projets éducatifs territoriaux", "Bureau des séjours et classes découvertes"),
            ),
            S("SBP", "Service du budget et de la programmation", ("Bureau du budget", "Bureau de la carte scolaire")),
        ),
        {
            "A": (("Chargé de mission éducation", "Chargée de mission éducation", "attache"),),
            "B": (
                ("Animateur périscolaire", "Animatrice périscolaire", "animateur"),
                ("Responsable éducatif ville", "Responsable éducatif ville", "animateur"),
            ),
            "C": (
                ("Agent technique des écoles", "Agente technique des écoles", "adjtech"),
                ("Agent de restauration scolaire", "Agente de restauration scolaire", "adjtech"),
                ("Adjoint d'animation", "Adjointe d'animation", "adjanim"),
            ),
        },
    ),
    DirectionDef(
        "DVD",
        "Direction de la voirie et des déplacements",
        1400,
        (15, 25, 60),
        True,
        (
            S(
                "SAV",
                "Service de l'aménagement de la voirie",
                ("Bureau des projets d'espace public", "Bureau des études de circulation"),
            ),
            S(
                "SEV",
                "Service de l'entretien de la voirie",
                territorial=("Section territoriale de voirie", "Chef de section", "Cheffe de section"),
            ),
            S("SDP", "Service des déplacements et du plan vélo", ("Bureau du plan vélo", "Bureau des transports")),
            S(
                "SSR",
                "Service de la signalisation et de la régulation",
                ("Bureau des feux tricolores", "Bureau de la signalisation"),
            ),
            S(
                "SCS",
                "Service du stationnement",
                ("Bureau des concessions de stationnement", "Bureau du stationnement de surface"),
            ),
            S("SPO", "Service des ponts et ouvrages d'art", ("Bureau des ouvrages d'art", "Bureau des tunnels")),
        ),
        {
            "A": (
                ("Ingénieur voirie", "Ingénieure voirie", "ingenieur"),
                ("Chef de projet mobilités", "Cheffe de projet mobilités", "ingenieur"),
            ),
            "B": (
                ("Technicien de la voirie", "Technicienne de la voirie", "technicien"),
                ("Surveillant de travaux", "Surveillante de travaux", "technicien"),
            ),
            "C": (
                ("Agent de la voirie", "Agente de la voirie", "adjtech"),
                ("Conducteur d'engins", "Conductrice d'engins", "adjtech"),
            ),
        },
    ),
    DirectionDef(
        "DEVE",
        "Direction des espaces verts et de l'environnement",
        3500,
        (8, 17, 75),
        True,
        (
            S(
                "SPJ",
                "Service des parcs et jardins",
                territorial=("Division des jardins", "Chef de division", "Cheffe de division"),
            ),
            S(
                "SAB",
                "Service de l'arbre et des bois",
                ("Bureau de l'arbre", "Bureau des bois de Boulogne et de Vincennes"),
            ),
            S("SCI", "Service des cimetières", ("Bureau des concessions funéraires", "Bureau des conservations")),
            S("SPC", "Service du plan climat", ("Bureau de l'énergie et du climat", "Bureau de l'adaptation")),
            S(
                "SBE",
                "Service de la biodiversité et de l'éducation à l'environnement",
                ("Bureau de la biodiversité", "Bureau de l'éducation à l'environnement"),
            ),
            S("SAU", "Service de l'agriculture urbaine", ("Bureau des fermes urbaines", "Bureau des jardins partagés")),
        ),
        {
            "A": (
                ("Ingénieur paysagiste", "Ingénieure paysagiste", "ingenieur"),
                ("Chargé de mission biodiversité", "Chargée de mission biodiversité", "ingenieur"),
            ),
            "B": (("Technicien paysagiste", "Technicienne paysagiste", "technicien"),),
            "C": (
                ("Jardinier", "Jardinière", "adjtech"),
                ("Bûcheron-élagueur", "Bûcheronne-élagueuse", "adjtech"),
                ("Agent d'accueil des parcs", "Agente d'accueil des parcs", "adjtech"),
            ),
        },
    ),
    DirectionDef(
        "DFA",
        "Direction des finances et des achats",
        700,
        (35, 40, 25),
        False,
        (
            S("SBU", "Service du budget", ("Bureau de la synthèse budgétaire", "Bureau des budgets sectoriels")),
            S("SCO", "Service de la comptabilité", ("Bureau de la qualité comptable", "Bureau des mandatements")),
            S("SAC", "Service des achats", ("Bureau des achats de fournitures", "Bureau des achats de travaux")),
            S("SMP", "Service des marchés publics", ("Bureau des procédures", "Bureau du conseil aux acheteurs")),
            S("SDT", "Service de la dette et de la trésorerie", ("Bureau de la dette", "Bureau de la trésorerie")),
            S("SCG", "Service du contrôle de gestion", ("Bureau des tableaux de bord", "Bureau de l'audit interne")),
        ),
        {
            "A": (("Analyste financier", "Analyste financière", "attache"), ("Acheteur", "Acheteuse", "attache")),
            "B": (
                ("Comptable", "Comptable", "secretaire"),
                ("Gestionnaire des marchés publics", "Gestionnaire des marchés publics", "redacteur"),
            ),
            "C": (("Agent de liquidation", "Agente de liquidation", "adjadm"),),
        },
    ),
    DirectionDef(
        "DSIN",
        "Direction du numérique",
        800,
        (50, 35, 15),
        True,
        (
            S("SIN", "Service des infrastructures", ("Bureau des réseaux", "Bureau des centres de données")),
            S(
                "SAM",
                "Service des applications métier",
                ("Bureau des applications RH et finances", "Bureau des applications aux usagers"),
            ),
            S(
                "SSU",
                "Service du support aux utilisateurs",
                ("Bureau du centre d'appels", "Bureau du poste de travail"),
            ),
            S("SSSI", "Service de la sécurité des systèmes d'information", ("Bureau de la cybersécurité",)),
            S("SDO", "Service de la donnée", ("Bureau de la donnée ouverte", "Bureau de l'analyse de données")),
            S("SPN", "Service des projets numériques", ("Bureau des méthodes agiles", "Bureau du design de services")),
        ),
        {
            "A": (
                ("Chef de projet informatique", "Cheffe de projet informatique", "ingenieur"),
                ("Architecte des systèmes d'information", "Architecte des systèmes d'information", "ingenieur"),
                ("Développeur", "Développeuse", "ingenieur"),
                ("Administrateur de bases de données", "Administratrice de bases de données", "ingenieur"),
            ),
            "B": (
                ("Technicien support", "Technicienne support", "technicien"),
                ("Administrateur systèmes et réseaux", "Administratrice systèmes et réseaux", "technicien"),
            ),
            "C": (("Agent de support informatique", "Agente de support informatique", "adjtech"),),
        },
    ),
    DirectionDef(
        "DAC",
        "Direction de la culture",
        3000,
        (20, 30, 50),
        False,
        (
            S(
                "SBI",
                "Service des bibliothèques",
                territorial=("Bibliothèque", "Responsable de bibliothèque", "Responsable de bibliothèque"),
            ),
            S(
                "SCO",
                "Service des conservatoires",
                territorial=("Conservatoire", "Directeur de conservatoire", "Directrice de conservatoire"),
            ),
            S(
                "SPH",
                "Service du patrimoine et de l'histoire",
                ("Bureau des monuments historiques", "Bureau des archives"),
            ),
            S(
                "SEA",
                "Service de l'éducation artistique",
                ("Bureau des pratiques amateurs", "Bureau de l'éducation artistique"),
            ),
            S("SAC", "Service de l'action culturelle", ("Bureau du spectacle vivant", "Bureau des arts visuels")),
        ),
        {
            "A": (
                ("Bibliothécaire", "Bibliothécaire", "bibliothecaire"),
                ("Chargé de production culturelle", "Chargée de production culturelle", "attache"),
            ),
            "B": (("Assistant de conservation", "Assistante de conservation", "assbib"),),
            "C": (
                ("Agent d'accueil et de surveillance", "Agente d'accueil et de surveillance", "adjpatr"),
                ("Magasinier des bibliothèques", "Magasinière des bibliothèques", "adjpatr"),
            ),
        },
    ),
    DirectionDef(
        "DPE",
        "Direction de la propreté et de l'eau",
        7500,
        (4, 11, 85),
        True,
        (
            S(
                "STP",
                "Service technique de la propreté",
                territorial=("Atelier de propreté", "Chef d'atelier", "Cheffe d'atelier"),
            ),
            S(
                "SCL",
                "Service de la collecte",
                territorial=("Garage de collecte", "Chef de garage", "Cheffe de garage"),
            ),
            S(
                "SAE",
                "Service de l'assainissement",
                territorial=("Section de l'assainissement", "Chef de section", "Cheffe de section"),
            ),
            S("SCA", "Service des canaux", ("Bureau de l'exploitation des canaux", "Bureau des ports")),
            S(
                "SPP",
                "Service de la prévention et de la propreté",
                ("Bureau de la prévention des déchets", "Bureau de la communication propreté"),
            ),
        ),
        {
            "A": (("Ingénieur de l'eau", "Ingénieure de l'eau", "ingenieur"),),
            "B": (
                ("Chef d'équipe propreté", "Cheffe d'équipe propreté", "technicien"),
                ("Technicien de l'assainissement", "Technicienne de l'assainissement", "technicien"),
            ),
            "C": (
                ("Éboueur", "Éboueuse", "adjtech"),
                ("Égoutier", "Égoutière", "adjtech"),
                ("Conducteur de benne", "Conductrice de benne", "adjtech"),
                ("Agent de propreté", "Agente de propreté", "adjtech"),
            ),
        },
    ),
    DirectionDef(
        "DFPE",
        "Direction des familles et de la petite enfance",
        10000,
        (10, 35, 55),
        False,
        (
            S(
                "SCM",
                "Service des crèches municipales",
                territorial=("Crèche collective", "Directeur de crèche", "Directrice de crèche"),
            ),
            S(
                "SMA",
                "Service des modes d'accueil",
                territorial=("Relais petite enfance", "Responsable de relais", "Responsable de relais"),
            ),
            S(
                "SPMI",
                "Service de la protection maternelle et infantile",
                territorial=("Centre de PMI", "Responsable de centre", "Responsable de centre"),
            ),
            S("SSP", "Service du soutien à la parentalité", ("Bureau de la parentalité", "Bureau des ludothèques")),
            S(
                "SRM",
                "Service des ressources et des moyens",
                ("Bureau des ressources humaines des crèches", "Bureau des travaux en crèche"),
            ),
        ),
        {
            "A": (
                ("Éducateur de jeunes enfants", "Éducatrice de jeunes enfants", "eje"),
                ("Infirmier puériculteur", "Infirmière puéricultrice", "infirmier"),
            ),
            "B": (("Auxiliaire de puériculture", "Auxiliaire de puériculture", "auxpuer"),),
            "C": (("Agent technique de la petite enfance", "Agente technique de la petite enfance", "atpe"),),
        },
    ),
    DirectionDef(
        "DSP",
        "Direction de la santé publique",
        1500,
        (35, 35, 30),
        False,
        (
            S("SPD", "Service de la prévention et du dépistage", ("Bureau du dépistage", "Bureau de la prévention")),
            S("SSE", "Service santé environnement", ("Bureau de l'hygiène de l'habitat", "Bureau du bruit")),
            S(
                "SVA",
                "Service des vaccinations",
                territorial=("Centre de vaccination", "Responsable de centre", "Responsable de centre"),
            ),
            S(
                "SCS",
                "Service des centres de santé",
                territorial=("Centre de santé", "Directeur de centre de santé", "Directrice de centre de santé"),
            ),
        ),
        {
            "A": (
                ("Infirmier", "Infirmière", "infirmier"),
                ("Épidémiologiste", "Épidémiologiste", "ingenieur"),
                ("Chargé de prévention santé", "Chargée de prévention santé", "attache"),
            ),
            "B": (("Technicien sanitaire", "Technicienne sanitaire", "technicien"),),
            "C": (("Agent d'accueil en centre de santé", "Agente d'accueil en centre de santé", "adjadm"),),
        },
    ),
    DirectionDef(
        "DSOL",
        "Direction des solidarités",
        4500,
        (30, 25, 45),
        False,
        (
            S(
                "SASE",
                "Service de l'aide sociale à l'enfance",
                territorial=(
                    "Secteur de l'aide sociale à l'enfance",
                    "Responsable de secteur",
                    "Responsable de secteur",
                ),
            ),
            S(
                "SSP",
                "Service social de proximité",
                territorial=("Espace parisien des solidarités", "Responsable d'espace", "Responsable d'espace"),
            ),
            S("SIN", "Service de l'insertion", ("Bureau du RSA", "Bureau de l'accompagnement vers l'emploi")),
            S(
                "SPA",
                "Service des personnes âgées",
                ("Bureau de l'allocation personnalisée d'autonomie", "Bureau des établissements"),
            ),
            S(
                "SPH",
                "Service des personnes en situation de handicap",
                ("Bureau de la prestation de compensation", "Bureau de l'accessibilité"),
            ),
        ),
        {
            "A": (
                ("Assistant de service social", "Assistante de service social", "ase"),
                ("Éducateur spécialisé", "Éducatrice spécialisée", "ase"),
            ),
            "B": (("Conseiller en insertion", "Conseillère en insertion", "secretaire"),),
            "C": (("Agent social", "Agente sociale", "adjadm"),),
        },
    ),
    DirectionDef(
        "DLH",
        "Direction du logement et de l'habitat",
        600,
        (35, 35, 30),
        False,
        (
            S(
                "SLS",
                "Service du logement social",
                ("Bureau du financement du logement social", "Bureau des bailleurs"),
            ),
            S(
                "SAH",
                "Service de l'amélioration de l'habitat",
                ("Bureau de l'habitat privé", "Bureau de l'insalubrité"),
            ),
            S("SAD", "Service des attributions", ("Bureau des demandes de logement", "Bureau des désignations")),
        ),
        {
            "A": (("Chargé d'opérations de logement", "Chargée d'opérations de logement", "attache"),),
            "B": (("Instructeur des demandes de logement", "Instructrice des demandes de logement", "secretaire"),),
        },
    ),
    DirectionDef(
        "DAE",
        "Direction de l'attractivité et de l'emploi",
        400,
        (40, 35, 25),
        False,
        (
            S("SEM", "Service de l'emploi", ("Bureau de l'emploi et de la formation", "Bureau des missions locales")),
            S(
                "SCA",
                "Service du commerce et de l'artisanat",
                ("Bureau du commerce", "Bureau des marchés alimentaires"),
            ),
            S("STO", "Service du tourisme", ("Bureau du tourisme", "Bureau des grands événements")),
        ),
        {
            "A": (("Chargé de développement économique", "Chargée de développement économique", "attache"),),
            "B": (("Conseiller emploi", "Conseillère emploi", "secretaire"),),
        },
    ),
    DirectionDef(
        "DPMP",
        "Direction de la police municipale et de la prévention",
        3200,
        (5, 15, 80),
        False,
        (
            S(
                "SPM",
                "Service de la police municipale",
                territorial=("Division de police municipale", "Chef de division", "Cheffe de division"),
            ),
            S(
                "SPR",
                "Service de la prévention",
                ("Bureau de la prévention de la délinquance", "Bureau de la médiation"),
            ),
            S(
                "SSS",
                "Service de la sécurité des sites",
                ("Bureau de la surveillance des bâtiments", "Bureau de la sécurité incendie"),
            ),
        ),
        {
            "B": (("Chef de service de police municipale", "Cheffe de service de police municipale", "chefpm"),),
            "C": (
                ("Agent de police municipale", "Agente de police municipale", "pm"),
                ("Agent de surveillance de la voie publique", "Agente de surveillance de la voie publique", "adjtech"),
            ),
        },
    ),
    DirectionDef(
        "DCPA",
        "Direction des constructions publiques et de l'architecture",
        900,
        (30, 35, 35),
        True,
        (
            S(
                "SAM",
                "Service d'architecture et de maîtrise d'ouvrage",
                ("Bureau des équipements scolaires", "Bureau des équipements sportifs"),
            ),
            S(
                "SEB",
                "Service de l'exploitation des bâtiments",
                territorial=("Section locale d'architecture", "Chef de section", "Cheffe de section"),
            ),
            S("STE", "Service technique de l'énergie", ("Bureau de la performance énergétique", "Bureau des fluides")),
        ),
        {
            "A": (("Architecte", "Architecte", "ingenieur"), ("Ingénieur travaux", "Ingénieure travaux", "ingenieur")),
            "B": (("Technicien bâtiment", "Technicienne bâtiment", "technicien"),),
            "C": (("Électricien", "Électricienne", "adjtech"), ("Plombier", "Plombière", "adjtech")),
        },
    ),
    DirectionDef(
        "DJS",
        "Direction de la jeunesse et des sports",
        2500,
        (8, 32, 60),
        False,
        (
            S(
                "SES",
                "Service des équipements sportifs",
                territorial=("Centre sportif", "Chef d'établissement", "Cheffe d'établissement"),
            ),
            S("SPI", "Service des piscines", territorial=("Piscine", "Chef de bassin", "Cheffe de bassin")),
            S("SJE", "Service de la jeunesse", ("Bureau des centres Paris Anim'", "Bureau de l'engagement des jeunes")),
            S(
                "SAS",
                "Service des activités sportives",
                ("Bureau du sport de proximité", "Bureau des grands événements"),
            ),
        ),
        {
            "A": (("Conseiller sportif", "Conseillère sportive", "attache"),),
            "B": (
                ("Éducateur sportif", "Éducatrice sportive", "educsport"),
                ("Maître-nageur sauveteur", "Maître-nageuse sauveteuse", "educsport"),
            ),
            "C": (
                ("Agent d'accueil des équipements sportifs", "Agente d'accueil des équipements sportifs", "adjtech"),
                ("Adjoint d'animation", "Adjointe d'animation", "adjanim"),
            ),
        },
    ),
    DirectionDef(
        "DU",
        "Direction de l'urbanisme",
        500,
        (45, 35, 20),
        True,
        (
            S("SPU", "Service de la planification urbaine", ("Bureau du plan local d'urbanisme", "Bureau des études")),
            S("SPC", "Service du permis de construire", ("Bureau de l'instruction", "Bureau du contrôle des travaux")),
            S("SAF", "Service de l'action foncière", ("Bureau des acquisitions", "Bureau des cessions")),
        ),
        {
            "A": (
                ("Instructeur du droit des sols", "Instructrice du droit des sols", "attache"),
                ("Urbaniste", "Urbaniste", "ingenieur"),
            ),
            "B": (("Technicien de l'urbanisme", "Technicienne de l'urbanisme", "technicien"),),
        },
    ),
    DirectionDef(
        "DILT",
        "Direction de l'immobilier, de la logistique et des transports",
        1200,
        (10, 25, 65),
        True,
        (
            S("SIM", "Service de l'immobilier", ("Bureau de la gestion locative", "Bureau des projets immobiliers")),
            S("SLO", "Service de la logistique", ("Bureau des déménagements", "Bureau des approvisionnements")),
            S(
                "STA",
                "Service des transports automobiles",
                territorial=("Garage municipal", "Chef de garage", "Cheffe de garage"),
            ),
        ),
        {
            "B": (("Technicien logistique", "Technicienne logistique", "technicien"),),
            "C": (
                ("Chauffeur", "Chauffeuse", "adjtech"),
                ("Mécanicien", "Mécanicienne", "adjtech"),
                ("Agent logistique", "Agente logistique", "adjtech"),
            ),
        },
    ),
    DirectionDef(
        "DAJ",
        "Direction des affaires juridiques",
        150,
        (55, 30, 15),
        False,
        (
            S("SCJ", "Service du conseil juridique", ("Bureau du droit public", "Bureau du droit privé")),
            S(
                "SCX",
                "Service du contentieux",
                ("Bureau du contentieux administratif", "Bureau du contentieux judiciaire"),
            ),
            S("SAS", "Service des assurances", ("Bureau des sinistres",)),
        ),
        {
            "A": (("Juriste", "Juriste", "attache"), ("Chargé des contentieux", "Chargée des contentieux", "attache")),
            "B": (("Assistant juridique", "Assistante juridique", "secretaire"),),
        },
    ),
    DirectionDef(
        "DDCT",
        "Direction de la démocratie, des citoyens et des territoires",
        2000,
        (10, 25, 65),
        False,
        (
            S(
                "SMA",
                "Service des mairies d'arrondissement",
                territorial=(
                    "Mairie d'arrondissement — services à la population",
                    "Directeur général des services de mairie",
                    "Directrice générale des services de mairie",
                ),
            ),
            S("SEC", "Service de l'état civil", ("Bureau de l'état civil", "Bureau des titres d'identité")),
            S(
                "SEL",
                "Service des élections",
                ("Bureau des listes électorales", "Bureau de l'organisation des scrutins"),
            ),
            S(
                "SPC",
                "Service de la participation citoyenne",
                ("Bureau du budget participatif", "Bureau des conseils de quartier"),
            ),
        ),
        {
            "A": (("Chargé de la participation citoyenne", "Chargée de la participation citoyenne", "attache"),),
            "B": (("Officier d'état civil", "Officière d'état civil", "secretaire"),),
            "C": (
                ("Agent d'état civil", "Agente d'état civil", "adjadm"),
                ("Agent d'accueil en mairie", "Agente d'accueil en mairie", "adjadm"),
            ),
        },
    ),
)
del S

# --------------------------------------------------------------------------- plain data


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    kind: str
    parent_code: str | None


@dataclass(frozen=True)
class AgentSpec:
    employee_number: str
    username: str
    first_name: str
    last_name: str
    email: str
    unit_code: str
    manager_number: str | None
    job_title: str
    category: str
    corps: str
    grade: str
    employment_status: str
    level: int


@dataclass(frozen=True)
class DemoDirectory:
    agent_count: int
    seed: int
    units: tuple  # of UnitSpec, parents before children
    agents: tuple  # of AgentSpec, managers before their reports
    logins: dict  # demo login -> employee number

    def digest(self):
        """A SHA-256 of every generated value (to compare two generations)."""
        h = hashlib.sha256()
        for item in (*self.units, *self.agents, sorted(self.logins.items())):
            h.update(repr(item).encode())
        return h.hexdigest()


def _apportion(total, weights, minimum=0):
    """Split ``total`` into integers proportional to ``weights`` (largest remainder), each ≥ minimum."""
    rest = total - minimum * len(weights)
    if rest < 0:
        raise ValueError("total too small")
    weight_sum = sum(weights)
    quotas = [rest * w / weight_sum for w in weights]
    counts = [floor(q) for q in quotas]
    order = sorted(range(len(weights)), key=lambda i: (counts[i] - quotas[i], i))
    for i in order[: rest - sum(counts)]:
        counts[i] += 1
    return [minimum + c for c in counts]


def _ascii_slug(text):
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def _lower_first(text):
    return text[:1].lower() + text[1:]


class _Generator:
    def __init__(self, agent_count, seed):
        self.rng = random.Random(seed)
        self.agent_count = agent_count
        self.seed = seed
        self.units = []
        self.agents = []
        self.next_number = 1
        # For choosing the demo logins: direction code -> [(service def code, service code, [bureau codes])]
        self.layout = {}
        self.heads = {}  # unit code -> employee number of its head
        self.members = {}  # bureau code -> [employee numbers]
        self.female = {}  # employee number -> bool (for gendered job titles)

    # -- people
    def _person(self):
        female = self.rng.random() < FEMALE_SHARE
        first = self.rng.choice(FEMALE_FIRST_NAMES if female else MALE_FIRST_NAMES)
        return female, first, self.rng.choice(LAST_NAMES)

    def _grade(self, corps_key, low=0, high=None):
        grades = CORPS[corps_key][2]
        high = len(grades) - 1 if high is None else min(high, len(grades) - 1)
        low = min(low, high)
        choices = range(low, high + 1)
        return grades[self.rng.choices(choices, weights=GRADE_WEIGHTS[: len(choices)])[0]]

    def _add_agent(self, *, unit_code, manager, level, title, corps_key, grade, contractuel=False):
        female, first, last = self._person()
        number = f"D{self.next_number:06d}"
        self.next_number += 1
        self.female[number] = female
        category, corps, _grades = CORPS[corps_key]
        if contractuel:
            corps, grade = "", f"Contractuel de catégorie {category}"
        self.agents.append(
            AgentSpec(
                employee_number=number,
                username=number.lower(),
                first_name=first,
                last_name=last,
                email=f"{_ascii_slug(first)}.{_ascii_slug(last)}.{number[1:]}@{EMAIL_DOMAIN}",
                unit_code=unit_code,
                manager_number=manager,
                job_title=title[1] if female else title[0],
                category=Category(category).value,
                corps=corps,
                grade=grade,
                employment_status=(EmploymentStatus.CONTRACTUEL if contractuel else EmploymentStatus.TITULAIRE).value,
                level=level,
            )
        )
        return number

    def _member(self, direction, unit_code, manager):
        rng = self.rng
        category = rng.choices("ABC", weights=direction.categories)[0]
        specific = direction.jobs.get(category)
        if specific and rng.random() < SPECIFIC_JOB_SHARE:
            m, f, corps_key = rng.choice(specific)
        else:
            track = "tech" if rng.random() < (0.5 if direction.technical else 0.15) else "admin"
            m, f, corps_key = rng.choice(GENERIC_JOBS[(category, track)])
        contractuel = rng.random() < CONTRACTUEL_SHARE
        return self._add_agent(
            unit_code=unit_code,
            manager=manager,
            level=LEVEL_MEMBER,
            title=(m, f),
            corps_key=corps_key,
            grade=self._grade(corps_key),
            contractuel=contractuel,
        )

    # -- structure
    def build(self):
        rng = self.rng
        n_bureaux = max(1, round(self.agent_count / AVERAGE_BUREAU_SIZE))
        n_directions = min(len(DIRECTIONS), n_bureaux, max(2, ceil(n_bureaux / 3)))
        directions = DIRECTIONS[:n_directions]
        per_direction = _apportion(n_bureaux, [d.weight for d in directions], minimum=1)

        # Units first (their number fixes the number of heads, hence of plain members).
        plan = []  # (direction, [(service unit, def code, [(bureau unit, head titles)])])
        self.units.append(UnitSpec(ROOT_CODE, "Direction générale des services", OrgUnitKind.OTHER.value, None))
        for direction, bureau_count in zip(directions, per_direction, strict=True):
            self.units.append(UnitSpec(direction.code, direction.name, OrgUnitKind.DIRECTION.value, ROOT_CODE))
            # Territorial services (crèches, ateliers, sections…) absorb most of the headcount;
            # a service holds at most BUREAUX_PER_SERVICE units, beyond which it is split
            # into sectors ("Service … — secteur 2").
            defs = direction.services[:bureau_count]
            weights = [TERRITORIAL_WEIGHT if sdef.territorial else 1 for sdef in defs]
            services = []
            for sdef, def_count in zip(defs, _apportion(bureau_count, weights, minimum=1), strict=True):
                sectors = ceil(def_count / BUREAUX_PER_SERVICE)
                quartiers = list(QUARTIERS)
                rng.shuffle(quartiers)
                names = tuple(dict.fromkeys(sdef.bureaux + GENERIC_BUREAUX))
                territorial_index = 0
                for sector in range(1, sectors + 1):
                    code, name = f"{direction.code}-{sdef.code}", sdef.name
                    if sectors > 1:
                        code, name = f"{code}{sector}", f"{name} — secteur {sector}"
                    self.units.append(UnitSpec(code, name, OrgUnitKind.SERVICE.value, direction.code))
                    count = def_count // sectors + (1 if sector <= def_count % sectors else 0)
                    bureaux = []
                    for b in range(count):
                        if sdef.territorial:
                            prefix, head_m, head_f = sdef.territorial
                            lap, index = divmod(territorial_index, len(quartiers))
                            territorial_index += 1
                            bureau_name = f"{prefix} {quartiers[index]}" + (f" {lap + 1}" if lap else "")
                            titles = (head_m, head_f)
                        else:
                            bureau_name = names[b] if b < len(names) else f"Bureau de secteur {b + 1}"
                            titles = ("Chef de bureau", "Cheffe de bureau")
                        bureau_code = f"{code}-B{b + 1}"
                        self.units.append(UnitSpec(bureau_code, bureau_name, OrgUnitKind.BUREAU.value, code))
                        bureaux.append((bureau_code, titles))
                    services.append((code, name, sdef.code, bureaux))
            plan.append((direction, services))

        n_services_total = sum(len(services) for _direction, services in plan)
        n_members = self.agent_count - 1 - n_directions - n_services_total - n_bureaux
        member_counts = iter(_apportion(n_members, [rng.uniform(0.8, 1.2) for _ in range(n_bureaux)]))

        # People, depth first: managers are generated (and numbered) before their reports.
        dgs = self._add_agent(
            unit_code=ROOT_CODE,
            manager=None,
            level=LEVEL_DGS,
            title=("Directeur général des services", "Directrice générale des services"),
            corps_key="administrateur",
            grade=CORPS["administrateur"][2][2],
        )
        for direction, services in plan:
            director = self._add_agent(
                unit_code=direction.code,
                manager=dgs,
                level=LEVEL_DIRECTOR,
                title=(
                    "Directeur " + direction.name.removeprefix("Direction "),
                    "Directrice " + direction.name.removeprefix("Direction "),
                ),
                corps_key="administrateur",
                grade=self._grade("administrateur", low=1),
            )
            self.heads[direction.code] = director
            layout = self.layout[direction.code] = []
            head_corps = "ingenieur" if direction.technical else "attache"
            for service_code, service_name, def_code, bureaux in services:
                service_head = self._add_agent(
                    unit_code=service_code,
                    manager=director,
                    level=LEVEL_SERVICE_HEAD,
                    title=("Chef du " + _lower_first(service_name), "Cheffe du " + _lower_first(service_name)),
                    corps_key=head_corps,
                    grade=self._grade(head_corps, low=1),
                )
                self.heads[service_code] = service_head
                layout.append((def_code, service_code, [code for code, _titles in bureaux]))
                for bureau_code, titles in bureaux:
                    if rng.random() < 0.65:
                        corps_key, low = head_corps, 0
                    else:
                        corps_key, low = ("technicien" if direction.technical else "secretaire"), 1
                    bureau_head = self._add_agent(
                        unit_code=bureau_code,
                        manager=service_head,
                        level=LEVEL_BUREAU_HEAD,
                        title=titles,
                        corps_key=corps_key,
                        grade=self._grade(corps_key, low=low),
                    )
                    self.heads[bureau_code] = bureau_head
                    self.members[bureau_code] = [
                        self._member(direction, bureau_code, bureau_head) for _ in range(next(member_counts))
                    ]
        return self._with_logins()

    # -- demo logins
    def _with_logins(self):
        used = set()

        def member_of(direction_code, prefer=()):
            """First unused member of the first bureau of the preferred service (else the first one)."""
            services = self.layout[direction_code]
            ordered = [s for s in services if s[0] in prefer] + [s for s in services if s[0] not in prefer]
            for _def_code, _service_code, bureaux in ordered:
                for bureau in bureaux:
                    for number in self.members[bureau]:
                        if number not in used:
                            used.add(number)
                            return number
            raise ValueError(f"no free member in {direction_code}")

        codes = [d.code for d in DIRECTIONS if d.code in self.layout]
        agent_direction = codes[1] if len(codes) > 1 else codes[0]
        agent_bureau = self.layout[agent_direction][0][2][0]
        agent_service = self.layout[agent_direction][0][1]
        logins = {"agent": member_of(agent_direction)}  # the first member of agent_bureau
        logins["manager"] = self.heads[agent_bureau]
        logins["reviewer"] = self.heads[agent_service]
        logins["hr"] = member_of("DRH", prefer=("SGC",))
        logins["editor"] = member_of("DRH", prefer=("SF",))
        logins["recruiter"] = member_of("DRH", prefer=("SRC",))
        logins["interviewer"] = member_of(codes[min(2, len(codes) - 1)])

        by_number = {number: login for login, number in logins.items()}
        agents = tuple(
            self._as_login(a, by_number[a.employee_number]) if a.employee_number in by_number else a
            for a in self.agents
        )
        return DemoDirectory(
            agent_count=self.agent_count, seed=self.seed, units=tuple(self.units), agents=agents, logins=logins
        )

    def _as_login(self, spec, login):
        """The demo account: its login as username, and a job that matches its role."""
        spec = replace(spec, username=login, email=f"{login}@{EMAIL_DOMAIN}")
        if login in LOGIN_JOBS:
            (m, f), corps_key, grade_index = LOGIN_JOBS[login]
            category, corps, grades = CORPS[corps_key]
            spec = replace(
                spec,
                job_title=f if self.female[spec.employee_number] else m,
                category=category,
                corps=corps,
                grade=grades[grade_index],
                employment_status=EmploymentStatus.TITULAIRE.value,
            )
        return spec


def build_directory(agents=DEFAULT_AGENTS, seed=DEFAULT_SEED):
    """The demo org chart and its agents as plain data; the same for the same arguments."""
    if not MIN_AGENTS <= agents <= MAX_AGENTS:
        raise ValueError(f"agents must be between {MIN_AGENTS} and {MAX_AGENTS}")
    return _Generator(agents, seed).build()


# --------------------------------------------------------------------------- database


class DirectoryConflict(Exception):
    """The database already holds a different directory under the same codes or numbers."""


class MissingGroup(Exception):
    """A role group is missing: the migrations have not run."""


@dataclass
class WriteResult:
    units_created: int = 0
    users_created: int = 0
    agents_created: int = 0


def _chunks(items, size=BATCH_SIZE):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _progress(total, desc, enabled):
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit=" agents",
        file=sys.stderr,
        disable=not enabled or not total,
        dynamic_ncols=True,
        leave=True,
    )


def find_conflicts(directory, limit=5):
    """Why ``directory`` cannot be written on top of the current data (empty list: it can).

    Existing rows are kept as they are, so they must be the ones this directory describes:
    same parent for a unit code, same person for an employee number, same employee number
    for a username. Otherwise (another ``--seed`` or ``--agents``, or a real directory) the
    org chart would mix two worlds.
    """
    problems = []
    units = {u.code: u for u in directory.units}
    by_path, existing_units = {}, {}
    for code, path in OrgUnit.objects.values_list("code", "path"):
        by_path[path] = code
        existing_units[code] = path
    for code, path in existing_units.items():
        spec = units.get(code)
        if spec is None:
            continue
        parent = by_path.get(path[: -OrgUnit.steplen]) if len(path) > OrgUnit.steplen else None
        if parent != spec.parent_code:
            problems.append(
                _("l'unité %(code)s existe déjà sous %(actual)s au lieu de %(expected)s")
                % {"code": code, "actual": parent or _("la racine"), "expected": spec.parent_code or _("la racine")}
            )
    planned = {a.employee_number: a for a in directory.agents}
    planned_by_username = {a.username: a.employee_number for a in directory.agents}
    rows = Agent.objects.values_list("employee_number", "user__username", "user__first_name", "user__last_name")
    for number, username, first, last in rows.iterator(chunk_size=BATCH_SIZE):
        spec = planned.get(number)
        if spec is not None and (spec.username, spec.first_name, spec.last_name) != (username, first, last):
            problems.append(
                _("le matricule %(number)s appartient déjà à %(actual)s (%(username)s), pas à %(expected)s")
                % {
                    "number": number,
                    "actual": f"{first} {last}",
                    "username": username,
                    "expected": f"{spec.first_name} {spec.last_name}",
                }
            )
        elif spec is None and username in planned_by_username:
            problems.append(
                _("le compte %(username)s a déjà le matricule %(actual)s au lieu de %(expected)s")
                % {"username": username, "actual": number, "expected": planned_by_username[username]}
            )
    return problems[:limit] + (
        [_("… et %(count)d autres") % {"count": len(problems) - limit}] if len(problems) > limit else []
    )


def _write_units(directory):
    """Create the missing units; returns (code -> pk, number created)."""
    codes = [u.code for u in directory.units]
    existing = dict(OrgUnit.objects.filter(code__in=codes).values_list("code", "pk"))
    if len(existing) == len(codes):
        return existing, 0
    if ROOT_CODE not in existing:
        # Fresh org chart: one treebeard call for the root (it finds its place among other
        # roots), then materialised paths computed here and bulk inserted. Siblings are
        # numbered in code order, as treebeard's node_order_by = ["code"] would.
        root_spec = directory.units[0]
        root = OrgUnit.add_root(code=root_spec.code, name=root_spec.name, kind=root_spec.kind)
        children = {}
        for spec in directory.units[1:]:
            children.setdefault(spec.parent_code, []).append(spec)
        objects, stack = [], [(root_spec.code, root.path, root.depth)]
        while stack:
            parent_code, parent_path, parent_depth = stack.pop()
            for step, spec in enumerate(sorted(children.get(parent_code, ()), key=lambda s: s.code), start=1):
                depth = parent_depth + 1
                path = OrgUnit._get_path(parent_path, depth, step)
                objects.append(
                    OrgUnit(
                        code=spec.code,
                        name=spec.name,
                        kind=spec.kind,
                        path=path,
                        depth=depth,
                        numchild=len(children.get(spec.code, ())),
                    )
                )
                stack.append((spec.code, path, depth))
        for chunk in _chunks(objects):
            OrgUnit.objects.bulk_create(chunk)
        OrgUnit.objects.filter(pk=root.pk).update(numchild=len(children.get(root_spec.code, ())))
        created = len(objects) + 1
    else:
        # The org chart exists but misses units: let treebeard insert them one by one.
        created = 0
        for spec in directory.units:
            if spec.code in existing:
                continue
            parent = OrgUnit.objects.get(code=spec.parent_code)
            existing[spec.code] = parent.add_child(code=spec.code, name=spec.name, kind=spec.kind).pk
            created += 1
    return dict(OrgUnit.objects.filter(code__in=codes).values_list("code", "pk")), created


def _pk_map(queryset, field, values, created):
    """field value -> pk for ``values``: from the created objects when the backend returned
    their primary keys (PostgreSQL, SQLite ≥ 3.35), else with chunked queries."""
    if all(obj.pk is not None for obj in created):
        return {getattr(obj, field): obj.pk for obj in created}
    result = {}
    for chunk in _chunks(list(values), 500):
        result.update(queryset.filter(**{f"{field}__in": chunk}).values_list(field, "pk"))
    return result


def write_directory(directory, *, progress=False):
    """Insert what is missing of ``directory`` (units, accounts, agent profiles).

    Keyed by unit code, username and employee number: existing rows are left untouched,
    so a second run with the same arguments writes nothing. Raises
    :class:`DirectoryConflict` (before writing anything) when the data does not match.
    Call it inside a transaction.
    """
    problems = find_conflicts(directory)
    if problems:
        raise DirectoryConflict("; ".join(problems))
    result = WriteResult()
    unit_pks, result.units_created = _write_units(directory)

    User = get_user_model()
    user_pks = dict(User.objects.values_list("username", "pk"))
    new_specs = [a for a in directory.agents if a.username not in user_pks]
    unusable = make_password(None)  # one unusable hash for every generated account
    with _progress(len(new_specs), _("Comptes"), progress) as bar:
        for chunk in _chunks(new_specs):
            users = [
                User(
                    username=a.username,
                    first_name=a.first_name,
                    last_name=a.last_name,
                    email=a.email,
                    password=unusable,
                    is_active=True,
                )
                for a in chunk
            ]
            created = User.objects.bulk_create(users)
            user_pks.update(_pk_map(User.objects, "username", (a.username for a in chunk), created))
            result.users_created += len(created)
            bar.update(len(chunk))

    agent_pks = dict(Agent.objects.values_list("employee_number", "pk"))
    new_agents = [a for a in directory.agents if a.employee_number not in agent_pks]
    with _progress(len(new_agents), _("Agents"), progress) as bar:
        # Level by level, so that every manager has a primary key before its reports.
        for level in range(LEVEL_DGS, LEVEL_MEMBER + 1):
            specs = [a for a in new_agents if a.level == level]
            for chunk in _chunks(specs):
                agents = [
                    Agent(
                        user_id=user_pks[a.username],
                        employee_number=a.employee_number,
                        org_unit_id=unit_pks[a.unit_code],
                        manager_id=agent_pks[a.manager_number] if a.manager_number else None,
                        job_title=a.job_title,
                        category=a.category,
                        corps=a.corps,
                        grade=a.grade,
                        employment_status=a.employment_status,
                        active=True,
                    )
                    for a in chunk
                ]
                created = Agent.objects.bulk_create(agents)
                agent_pks.update(_pk_map(Agent.objects, "employee_number", (a.employee_number for a in chunk), created))
                result.agents_created += len(created)
                bar.update(len(chunk))
    return result


@dataclass
class LoginRow:
    login: str
    label: str
    full_name: str
    unit: str
    password: str | None  # None: the existing password was kept
    user: object
    agent: object


def ensure_demo_logins(directory, *, password=None):
    """Give the seven demo accounts their groups, names and password.

    ``password`` (from ``DEMO_PASSWORD``) is set on every demo account. Without it, an
    account that already has a usable password keeps it, and the others get one password
    generated here (``secrets.token_urlsafe``), the same for all of them.
    """
    User = get_user_model()
    specs = {a.employee_number: a for a in directory.agents if a.employee_number in directory.logins.values()}
    groups = {g.name: g for g in Group.objects.filter(name__in=[item.group for item in DEMO_LOGINS if item.group])}
    generated = None
    rows = []
    for item in DEMO_LOGINS:
        spec = specs[directory.logins[item.login]]
        user = User.objects.get(username=item.login)
        user.first_name, user.last_name, user.email, user.is_active = spec.first_name, spec.last_name, spec.email, True
        if password:
            shown = password
        elif user.has_usable_password():
            shown = None
        else:
            generated = generated or secrets.token_urlsafe(12)
            shown = generated
        if shown is not None:
            user.set_password(shown)  # the only real hashes of the demo: seven of them
        user.save(update_fields=["first_name", "last_name", "email", "is_active", "password"])
        if item.group:
            if item.group not in groups:
                raise MissingGroup(
                    _("Le groupe « %(group)s » n'existe pas : lancez manage.py migrate.") % {"group": item.group}
                )
            user.groups.add(groups[item.group])
        agent = Agent.objects.select_related("user", "org_unit", "manager__user", "manager__manager__user").get(
            user=user
        )
        rows.append(LoginRow(item.login, str(item.label), agent.full_name, agent.org_unit.code, shown, user, agent))
    return rows
