"""Demo content of the recruitment app for ``manage.py seed_demo`` (seeder "recruitment.openings").

:func:`seed_recruitment` creates, under the home page, an "Offres d'emploi" listing with
twelve job notices written like a large city's (varied directions, categories, corps and
grades; two internal-only, one whose deadline has passed, salaries on some, one with
anonymised screening, one with renamed stages), the demo ``recruiter`` among the recruiters
of most of them, and about 150 applications spread over every status. Each application
comes with a coherent history: its candidate (external, or an agent of the directory for
internal mobility, a few possible duplicates), a small generated PDF CV in private storage,
one ``move`` event per stage it went through (with the reasons of refusals and
withdrawals), copies of the messages the candidate received, and for those that reached
the interview an interview with the demo ``interviewer`` (and the recruiter) and their
scorecards: submitted once the process went further, some still pending for the demo
interviewer's "Mes évaluations".

Everything is written with ``bulk_create`` (a handful of statements per model, whatever
the directory's size); the pages go through ``save_revision().publish()``. Idempotent:
pages are keyed by slug, and an opening that already has applications gets no new ones.
Texts are French demo content, like pages an HR officer would write: not run through gettext.
The message templates come from the app's data migration (0002); the seeder only uses them.
"""

import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.utils import formats, timezone
from wagtail.models import GroupPagePermission

from cms import roles
from cms.choices import OrgUnitKind
from cms.models import Agent, OrgUnit
from cms.services import ensure_home_page
from recruitment import messages, services
from recruitment.choices import PIPELINE, TERMINAL, EmploymentType, MessageKind, Recommendation
from recruitment.choices import ApplicationStatus as S
from recruitment.models import (
    Application,
    ApplicationEvent,
    Candidate,
    Interview,
    JobIndexPage,
    JobOpeningPage,
    MessageTemplate,
    Scorecard,
)
from recruitment.pages import unit_facts

INDEX_SLUG = "offres-emploi"
RECRUITER_PAGE_PERMISSIONS = ["add", "change", "publish", "lock", "unlock"]
CANDIDATE_DOMAIN = "example.org"  # reserved domain: no demo e-mail can reach anybody

# --------------------------------------------------------------------------- content


def p(*paragraphs):
    return "".join(f"<p>{text}</p>" for text in paragraphs)


def ul(*items):
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


@dataclass(frozen=True)
class OpeningSpec:
    slug: str
    code: str  # the preferred direction's code (the reference names the direction the opening lands in)
    units: tuple  # preferred org unit codes, first found wins
    title: str
    category: str
    corps: str
    grades: str
    location_name: str
    street_address: str
    postal_code: str
    missions: str
    profile: str
    conditions: str = ""
    salary: tuple | None = None
    rifseep_group: str = ""
    employment_type: str = EmploymentType.FULL_TIME
    open_to_contractuels: bool = True
    internal_only: bool = False
    anonymised_screening: bool = False
    stage_labels: dict | None = None
    deadline_in_days: int = 30  # negative: closed (deadline past)
    phase: str = "mid"  # how far the process has gone: early | mid | late
    applications: int = 12
    recruiter: bool = True


OPENINGS = (
    OpeningSpec(
        slug="gestionnaire-carriere-paie",
        code="DRH",
        units=("DRH-SGC", "DRH"),
        title="Gestionnaire carrière et paie (F/H)",
        category="B",
        corps="Secrétaires administratifs",
        grades="Secrétaire administratif de classe normale ou supérieure",
        location_name="Direction des ressources humaines",
        street_address="2, rue de Lobau",
        postal_code="75004",
        missions=p("Au sein du bureau des carrières administratives, vous gérez un portefeuille d'environ 400 agents.")
        + ul(
            "instruire les actes de carrière (avancements, promotions, positions) ;",
            "préparer et contrôler la paie mensuelle et le régime indemnitaire ;",
            "informer et conseiller les agents et leurs encadrants.",
        ),
        profile=ul(
            "connaissance du statut de la fonction publique territoriale ;",
            "rigueur, discrétion et sens du travail en équipe ;",
            "maîtrise d'un SIRH appréciée.",
        ),
        salary=(Decimal("27500"), Decimal("33000")),
        rifseep_group="B2",
        applications=14,
        phase="mid",
    ),
    OpeningSpec(
        slug="developpeur-full-stack",
        code="DSIN",
        units=("DSIN-SDEV", "DSIN"),
        title="Développeur·se full stack Python (F/H)",
        category="A",
        corps="Ingénieurs et architectes d'administrations parisiennes",
        grades="Ingénieur, ingénieur divisionnaire",
        location_name="Direction du numérique",
        street_address="227, rue de Bercy",
        postal_code="75012",
        missions=p("Vous rejoignez l'équipe produit des démarches en ligne (plus d'un million d'usagers par an).")
        + ul(
            "développer et maintenir des applications Django et leurs API ;",
            "participer aux revues de code et à l'amélioration continue ;",
            "veiller à l'accessibilité (RGAA) et à la sécurité des services.",
        ),
        profile=ul(
            "expérience confirmée en Python et en bases de données relationnelles ;",
            "culture du logiciel libre et des tests automatisés ;",
            "goût pour le service public numérique.",
        ),
        conditions=p(
            "Télétravail possible jusqu'à trois jours par semaine. Poste ouvert aux contractuels (article L. 332-14 du CGFP)."
        ),
        salary=(Decimal("42000"), Decimal("55000")),
        rifseep_group="A3",
        applications=20,
        phase="late",
    ),
    OpeningSpec(
        slug="auxiliaire-puericulture",
        code="DFPE",
        units=("DFPE-SCR", "DFPE"),
        title="Auxiliaire de puériculture en crèche collective (F/H)",
        category="B",
        corps="Auxiliaires de puériculture",
        grades="Auxiliaire de puériculture de classe normale",
        location_name="Crèche collective Belleville",
        street_address="14, rue Ramponeau",
        postal_code="75020",
        missions=ul(
            "accueillir les enfants et leurs familles ;",
            "assurer les soins d'hygiène, les repas et le sommeil ;",
            "proposer des activités d'éveil adaptées à chaque enfant.",
        ),
        profile=ul(
            "diplôme d'État d'auxiliaire de puériculture exigé ;",
            "sens de l'observation et de l'écoute ;",
            "travail en équipe pluridisciplinaire.",
        ),
        conditions=p("Horaires en roulement entre 7 h 30 et 18 h 45."),
        applications=16,
        phase="mid",
        deadline_in_days=45,
    ),
    OpeningSpec(
        slug="jardinier-parcs",
        code="DEVE",
        units=("DEVE-SJ", "DEVE"),
        title="Jardinier·ère des parcs et jardins (F/H)",
        category="C",
        corps="Adjoints techniques",
        grades="Adjoint technique, adjoint technique principal de 2e classe",
        location_name="Atelier horticole du bois de Vincennes",
        street_address="Route de la Pyramide",
        postal_code="75012",
        missions=ul(
            "entretenir les massifs, pelouses et arbustes ;",
            "réaliser les plantations saisonnières ;",
            "appliquer la gestion écologique des espaces verts (zéro phytosanitaire).",
        ),
        profile=ul("CAP ou BEP travaux paysagers ;", "aptitude au travail en extérieur ;", "permis B apprécié."),
        applications=12,
        phase="early",
        deadline_in_days=25,
    ),
    OpeningSpec(
        slug="ingenieur-circulation",
        code="DVD",
        units=("DVD-SDEP", "DVD"),
        title="Ingénieur·e chargé·e d'études circulation et mobilités (F/H)",
        category="A",
        corps="Ingénieurs et architectes d'administrations parisiennes",
        grades="Ingénieur",
        location_name="Direction de la voirie et des déplacements",
        street_address="121, avenue de France",
        postal_code="75013",
        missions=ul(
            "conduire les études de circulation des projets d'aménagement ;",
            "modéliser les flux et évaluer les impacts ;",
            "animer la concertation avec les mairies d'arrondissement.",
        ),
        profile=ul(
            "diplôme d'ingénieur (transport, génie civil ou urbanisme) ;",
            "maîtrise des outils de modélisation ;",
            "aisance rédactionnelle et orale.",
        ),
        salary=(Decimal("40000"), Decimal("52000")),
        rifseep_group="A3",
        applications=10,
        phase="mid",
        stage_labels={"interview": "Jury technique"},
    ),
    OpeningSpec(
        slug="animateur-periscolaire",
        code="DASCO",
        units=("DASCO-SPE", "DASCO"),
        title="Animateur·rice périscolaire (F/H)",
        category="B",
        corps="Animateurs d'administrations parisiennes",
        grades="Animateur",
        employment_type=EmploymentType.PART_TIME,
        location_name="Circonscription des affaires scolaires 11e",
        street_address="5, rue Froment",
        postal_code="75011",
        missions=ul(
            "encadrer les enfants sur les temps périscolaires ;",
            "concevoir et conduire des projets d'animation ;",
            "assurer le lien avec les familles et l'équipe enseignante.",
        ),
        profile=ul("BPJEPS ou BAFA exigé ;", "dynamisme et créativité ;", "sens des responsabilités."),
        applications=18,
        phase="early",
        deadline_in_days=15,
    ),
    OpeningSpec(
        slug="bibliothecaire-jeunesse",
        code="DAC",
        units=("DAC-SBIB", "DAC"),
        title="Bibliothécaire responsable de l'espace jeunesse (F/H)",
        category="A",
        corps="Bibliothécaires",
        grades="Bibliothécaire, bibliothécaire principal",
        location_name="Médiathèque Marguerite Duras",
        street_address="115, rue de Bagnolet",
        postal_code="75020",
        missions=ul(
            "piloter la politique documentaire jeunesse ;",
            "encadrer une équipe de six agents ;",
            "développer les partenariats avec les écoles et les crèches.",
        ),
        profile=ul(
            "connaissance de l'édition jeunesse ;", "expérience d'encadrement ;", "intérêt pour la médiation numérique."
        ),
        salary=(Decimal("34000"), Decimal("41000")),
        applications=9,
        phase="late",
        recruiter=False,
    ),
    OpeningSpec(
        slug="policier-municipal",
        code="DPMP",
        units=("DPMP-SCT", "DPMP"),
        title="Policier·ère municipal·e (F/H)",
        category="C",
        corps="Agents de police municipale",
        grades="Gardien-brigadier",
        open_to_contractuels=False,
        location_name="Circonscription territoriale Centre",
        street_address="12, rue de la Cité",
        postal_code="75004",
        missions=ul(
            "assurer la tranquillité publique et la sécurité des usagers ;",
            "faire respecter les arrêtés municipaux ;",
            "intervenir en patrouille de jour comme de nuit.",
        ),
        profile=ul(
            "lauréat·e du concours ou titulaire du grade ;",
            "sens du contact et maîtrise de soi ;",
            "bonne condition physique.",
        ),
        conditions=p("Travail en cycles, week-ends et jours fériés."),
        stage_labels={"interview": "Épreuves et jury"},
        applications=14,
        phase="mid",
        deadline_in_days=35,
    ),
    OpeningSpec(
        slug="acheteur-public",
        code="DFA",
        units=("DFA-SAC", "DFA"),
        title="Acheteur·se public·que — marchés de travaux (F/H)",
        category="A",
        corps="Attachés d'administrations parisiennes",
        grades="Attaché, attaché principal",
        location_name="Direction des finances et des achats",
        street_address="17, boulevard Morland",
        postal_code="75004",
        missions=ul(
            "définir les stratégies d'achat des marchés de travaux ;",
            "rédiger et passer les consultations ;",
            "négocier et suivre l'exécution des marchés.",
        ),
        profile=ul(
            "maîtrise du code de la commande publique ;", "capacité d'analyse économique ;", "sens de la négociation."
        ),
        internal_only=True,
        open_to_contractuels=False,
        rifseep_group="A4",
        applications=8,
        phase="mid",
    ),
    OpeningSpec(
        slug="assistant-service-social",
        code="DSOL",
        units=("DSOL-SSP", "DSOL"),
        title="Assistant·e de service social polyvalent (F/H)",
        category="A",
        corps="Assistants socio-éducatifs",
        grades="Assistant socio-éducatif",
        location_name="Service social de proximité 18e",
        street_address="115 bis, rue Ordener",
        postal_code="75018",
        missions=ul(
            "accueillir, informer et accompagner les usagers en difficulté ;",
            "instruire les demandes d'aides ;",
            "travailler en réseau avec les partenaires du territoire.",
        ),
        profile=ul(
            "diplôme d'État d'assistant de service social exigé ;",
            "capacité d'écoute et de distanciation ;",
            "connaissance des dispositifs d'aide sociale.",
        ),
        salary=(Decimal("30000"), Decimal("36500")),
        applications=11,
        phase="early",
    ),
    OpeningSpec(
        slug="charge-recrutement-mobilite",
        code="DRH",
        units=("DRH-SRC", "DRH"),
        title="Chargé·e de recrutement et de mobilité interne (F/H)",
        category="A",
        corps="Attachés d'administrations parisiennes",
        grades="Attaché",
        location_name="Direction des ressources humaines",
        street_address="2, rue de Lobau",
        postal_code="75004",
        missions=ul(
            "conduire les recrutements d'un portefeuille de directions ;",
            "accompagner les agents dans leurs projets de mobilité ;",
            "animer le vivier de candidats et les jurys.",
        ),
        profile=ul(
            "expérience des techniques de recrutement ;",
            "connaissance de la fonction publique territoriale ;",
            "qualités d'écoute.",
        ),
        internal_only=True,
        anonymised_screening=True,
        applications=9,
        phase="mid",
    ),
    OpeningSpec(
        slug="eboueur",
        code="DPE",
        units=("DPE-STPP", "DPE"),
        title="Éboueur·se (F/H)",
        category="C",
        corps="Éboueurs",
        grades="Éboueur",
        location_name="Division territoriale de propreté 15e",
        street_address="30, rue de la Procession",
        postal_code="75015",
        missions=ul(
            "collecter les déchets ménagers et le tri sélectif ;",
            "nettoyer la voie publique ;",
            "signaler les dépôts sauvages.",
        ),
        profile=ul("aptitude physique au travail en extérieur ;", "ponctualité et esprit d'équipe."),
        conditions=p("Prise de service à 6 h ; travail un week-end sur deux."),
        deadline_in_days=-12,
        applications=15,
        phase="late",
    ),
)

FIRST_NAMES = (
    "Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Emma", "Julie", "Amina", "Fatoumata", "Claire", "Sophie",
    "Lucas", "Hugo", "Thomas", "Nicolas", "Mehdi", "Karim", "Julien", "Antoine", "Mamadou", "Paul", "Yanis", "Louis",
)  # fmt: skip
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon",
    "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard",
    "Diallo", "Benali", "Nguyen", "Traoré", "Haddad", "Da Silva", "Lambert", "Bonnet",
)  # fmt: skip
MESSAGES = (
    "", "", "Bonjour, je vous adresse ma candidature pour ce poste qui correspond à mon projet professionnel.",
    "Disponible immédiatement.", "Je suis actuellement en poste et disponible après un préavis d'un mois.",
    "Je serais ravie d'échanger avec vous sur ce poste.",
)  # fmt: skip
REJECTION_REASONS = (
    "Profil ne correspondant pas aux attentes du poste",
    "Diplôme requis non détenu",
    "Expérience insuffisante sur les missions principales",
    "D'autres candidatures correspondaient davantage au profil recherché",
)
SCORECARD_COMMENTS = {
    "good": ("Très bonne connaissance des missions, réponses précises et concrètes.",
             "Candidature solide, motivation claire pour le service public."),
    "bad": ("Connaissances techniques à consolider.", "Projet professionnel peu en lien avec le poste."),
}  # fmt: skip

# Final status weights by how far the process of an opening has gone.
PHASES = {
    "early": {S.RECEIVED: 40, S.ADMISSIBILITY: 22, S.SCREENING: 18, S.REJECTED: 15, S.WITHDRAWN: 5},
    "mid": {S.RECEIVED: 12, S.ADMISSIBILITY: 10, S.SCREENING: 14, S.SHORTLISTED: 12, S.INTERVIEW: 16, S.DECISION: 4,
            S.REJECTED: 26, S.WITHDRAWN: 6},
    "late": {S.SCREENING: 4, S.SHORTLISTED: 4, S.INTERVIEW: 8, S.DECISION: 6, S.OFFER: 5, S.OFFER_DECLINED: 4,
             S.REJECTED: 55, S.WITHDRAWN: 8},
}  # fmt: skip
AGE_DAYS = {"early": (1, 18), "mid": (8, 45), "late": (35, 100)}  # days since the application was submitted
STEP_DAYS = (1, 6)
INTERNAL_SHARE = 0.2
POOL_SHARE = 0.3

# --------------------------------------------------------------------------- pages


def _publish(page):
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def ensure_index(home):
    index = JobIndexPage.objects.filter(slug=INDEX_SLUG).first()
    if index is None:
        index = JobIndexPage(
            title="Offres d'emploi",
            slug=INDEX_SLUG,
            intro=p(
                "La Ville recrute des agents titulaires et contractuels dans plus de 300 métiers : petite enfance, "
                "espaces verts, numérique, action sociale, culture, sécurité, propreté… Les offres réservées aux "
                "agents de la collectivité (mobilité interne) sont visibles une fois connecté."
            ),
        )
        home.add_child(instance=index)
        _publish(index)
    return index


def grant_recruiter_permissions(index):
    """Recruiters and HR publish and edit the job notices (page permissions on the listing)."""
    permissions = list(
        Permission.objects.filter(
            content_type__app_label="wagtailcore",
            codename__in=[f"{action}_page" for action in RECRUITER_PAGE_PERMISSIONS],
        )
    )
    for group in Group.objects.filter(name__in=[roles.RECRUITERS, roles.HR]):
        for permission in permissions:
            GroupPagePermission.objects.get_or_create(group=group, page=index, permission=permission)


def _units(context):
    """Org units for the openings: ``{code: unit}`` of every preferred code, and the units to
    fall back on when the demo directory is smaller (its directions, each through its first
    service when it has one; else the root)."""
    wanted = {code for spec in OPENINGS for code in spec.units}
    by_code = {unit.code: unit for unit in OrgUnit.objects.filter(code__in=wanted)}
    root = context.org_root or OrgUnit.get_root_nodes().first()
    directions = list(OrgUnit.objects.filter(kind=OrgUnitKind.DIRECTION).order_by("path"))
    services = OrgUnit.objects.filter(kind=OrgUnitKind.SERVICE).order_by("path")
    first_service = {}
    for service in services:
        parent_path = next((d.path for d in directions if service.path.startswith(d.path)), None)
        if parent_path is not None:
            first_service.setdefault(parent_path, service)
    fallback = [first_service.get(direction.path, direction) for direction in directions]
    return by_code, fallback or ([root] if root is not None else [])


def _unit_for(spec, number, by_code, fallback):
    """The first preferred unit of ``spec`` found in the directory, else one of ``fallback``
    (by number: the openings stay spread over the directions)."""
    for code in spec.units:
        if code in by_code:
            return by_code[code]
    return fallback[number % len(fallback)] if fallback else None


def _location_name(spec, direction):
    """The place of the notice: a direction's premises follow the direction the opening
    landed in (a smaller directory may lack the spec's own)."""
    if spec.location_name.startswith("Direction ") and direction.code != spec.code:
        return direction.name
    return spec.location_name


def _reference(code, year, number, taken):
    reference = f"{year}-{code}-{number:03d}"
    while reference in taken:
        number += 100
        reference = f"{year}-{code}-{number:03d}"
    return reference


def ensure_openings(context, index, today):
    """The openings of OPENINGS under ``index`` (created and published where missing);
    returns ``[(spec, opening)]``."""
    by_code, fallback = _units(context)
    existing = {page.slug: page for page in JobOpeningPage.objects.child_of(index)}
    taken = set(JobOpeningPage.objects.values_list("reference", flat=True))
    recruiter = context.users.get("recruiter")
    result = []
    for number, spec in enumerate(OPENINGS, start=1):
        opening = existing.get(spec.slug)
        if opening is None:
            unit = _unit_for(spec, number, by_code, fallback)
            if unit is None:
                context.log("  aucune unité dans l'annuaire : pas d'offres d'emploi de démonstration")
                return result
            direction = unit_facts(unit)["direction"]  # the reference names the notice's direction
            reference = _reference(direction.code, today.year, number, taken)
            taken.add(reference)
            deadline = today + timedelta(days=spec.deadline_in_days)
            opening = JobOpeningPage(
                title=spec.title, slug=spec.slug, reference=reference, org_unit=unit, category=spec.category,
                corps=spec.corps, grades=spec.grades, open_to_titulaires=True,
                open_to_contractuels=spec.open_to_contractuels, employment_type=spec.employment_type,
                location_name=_location_name(spec, direction), street_address=spec.street_address, postal_code=spec.postal_code,
                locality="Paris", missions=spec.missions, profile=spec.profile, conditions=spec.conditions,
                salary_min=spec.salary[0] if spec.salary else None, salary_max=spec.salary[1] if spec.salary else None,
                rifseep_group=spec.rifseep_group, vacancy_date=max(deadline, today) + timedelta(days=30),
                application_deadline=deadline, internal_only=spec.internal_only,
                anonymised_screening=spec.anonymised_screening, stage_labels=spec.stage_labels or {},
            )  # fmt: skip
            index.add_child(instance=opening)
            if spec.recruiter and recruiter is not None:
                opening.recruiters.add(recruiter)
            opening = _publish(opening)
        result.append((spec, opening))
    return result


# --------------------------------------------------------------------------- applications


def ascii_slug(text):
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in text.lower() if c.isalnum() or c == "-").strip("-") or "x"


def pdf_bytes(text):
    """A tiny valid one-page PDF with a line of (ASCII) text: the demo CVs."""
    safe = ascii_slug(text).replace("-", " ") or "CV"
    stream = f"BT /F1 14 Tf 72 720 Td (Curriculum vitae - {safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def weighted(rng, weights):
    statuses, values = zip(*weights.items(), strict=True)
    return rng.choices(statuses, weights=values)[0]


# Statuses every opening of a phase has at least once (the rest is drawn from PHASES).
GUARANTEED = {
    "early": (S.RECEIVED, S.ADMISSIBILITY, S.SCREENING, S.REJECTED),
    "mid": (S.RECEIVED, S.SHORTLISTED, S.INTERVIEW, S.DECISION, S.REJECTED),
    "late": (S.HIRED, S.OFFER_DECLINED, S.OFFER, S.INTERVIEW, S.WITHDRAWN),
}


def final_statuses(rng, spec):
    """The final status of each application of ``spec``: the phase's guaranteed statuses
    (a hire on every opening whose process is over), the others drawn from its weights."""
    guaranteed = list(GUARANTEED[spec.phase][: spec.applications])
    drawn = [weighted(rng, PHASES[spec.phase]) for _ in range(spec.applications - len(guaranteed))]
    statuses = guaranteed + drawn
    rng.shuffle(statuses)
    return statuses


def path_to(rng, final):
    """The statuses an application went through to reach ``final`` (consecutive pipeline
    stages, then the terminal move if any)."""
    if final in PIPELINE:
        return PIPELINE[: PIPELINE.index(final) + 1]
    if final == S.REJECTED:
        reached = rng.choices(PIPELINE[:5], weights=(30, 25, 25, 10, 10))[0]
    elif final == S.WITHDRAWN:
        reached = rng.choice((S.RECEIVED, S.SCREENING, S.SHORTLISTED, S.INTERVIEW, S.OFFER))
    else:  # offer declined
        reached = S.OFFER
    return PIPELINE[: PIPELINE.index(reached) + 1] + [final]


def timeline(rng, path, phase, now):
    """One date per status of ``path``: submitted ``AGE_DAYS`` ago, then a few days per step,
    never later than an hour ago."""
    submitted = now - timedelta(days=rng.uniform(*AGE_DAYS[phase]), hours=rng.randint(0, 10))
    steps = [timedelta(days=rng.uniform(*STEP_DAYS)) for _ in path[1:]]
    latest = now - timedelta(hours=1)
    total = sum(steps, timedelta())
    if steps and submitted + total > latest:
        scale = (latest - submitted) / total
        steps = [step * scale for step in steps]
    dates = [submitted]
    for step in steps:
        dates.append(dates[-1] + step)
    return dates


@dataclass
class Plan:
    """One application to write, with everything derived from it."""

    opening: object
    candidate: Candidate
    application: Application
    path: list
    dates: list
    interview: dict | None = None


class Writer:
    """Builds the rows of every application, then writes each model in one bulk statement."""

    def __init__(self, context, now):
        self.context, self.rng, self.now = context, context.rng, now
        self.recruiter = context.users.get("recruiter") or context.users.get("hr")
        self.jury = [u for u in (context.users.get("interviewer"), context.users.get("recruiter")) if u is not None]
        # the demo interviewer always has a scorecard to fill for an interview already held
        self.past_interview_pending = False
        self.templates = {t.kind: (t.subject, t.body) for t in MessageTemplate.objects.filter(language="fr")}
        self.storage = Application._meta.get_field("cv").storage
        self.references = set()
        self.emails = {}  # normalised e-mail -> first Candidate (for possible duplicates)
        self.plans = []
        self.agents = self._agent_pool()

    def _agent_pool(self):
        """Agents who may apply internally (the demo ``agent`` first, then a sample)."""
        demo_ids = {a.pk for a in self.context.agents.values()}
        ids = list(
            Agent.objects.filter(active=True)
            .exclude(pk__in=demo_ids)
            .order_by("pk")
            .values_list("pk", flat=True)[:3000]
        )
        chosen = self.rng.sample(ids, min(len(ids), 60))
        pool = list(Agent.objects.filter(pk__in=chosen).select_related("user").order_by("pk"))
        self.rng.shuffle(pool)
        demo_agent = self.context.agents.get("agent")
        return ([demo_agent] if demo_agent is not None else []) + pool

    def _reference(self):
        while True:
            reference = "D-" + "".join(self.rng.choice("0123456789ABCDEF") for _ in range(8))
            if reference not in self.references:
                self.references.add(reference)
                return reference

    def _person(self, internal):
        if internal and self.agents:
            agent = self.agents.pop(0)
            user = agent.user
            return agent, user.first_name or "Agent", user.last_name or agent.employee_number, user.email
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        email = f"{ascii_slug(first)}.{ascii_slug(last)}{self.rng.randint(1, 999)}@{CANDIDATE_DOMAIN}"
        return None, first, last, email

    def plan(self, spec, opening, final, *, duplicate_of=None):
        rng = self.rng
        internal = spec.internal_only or (duplicate_of is None and rng.random() < INTERNAL_SHARE)
        if duplicate_of is not None:
            agent, first, last, email = (
                duplicate_of.agent,
                duplicate_of.first_name,
                duplicate_of.last_name,
                duplicate_of.email,
            )
            phone = duplicate_of.phone
        else:
            agent, first, last, email = self._person(internal)
            phone = f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
        path = path_to(rng, final)
        dates = timeline(rng, path, spec.phase, self.now)
        consent = rng.random() < POOL_SHARE
        email_n = services.normalise_email(email)
        original = duplicate_of or None
        candidate = Candidate(
            first_name=first, last_name=last, email=email, email_normalised=email_n, phone=phone,
            phone_normalised=services.normalise_phone(phone), agent=agent, duplicate_of=original,
            pool_consent=consent, pool_consent_at=dates[0] if consent else None, last_contact_at=dates[-1],
        )  # fmt: skip
        application = Application(
            opening=opening, reference=self._reference(), status=path[-1], message=rng.choice(MESSAGES),
            is_internal=agent is not None, possible_duplicate=original is not None, submitted_at=dates[0],
            status_changed_at=dates[-1], closed_at=dates[-1] if path[-1] in TERMINAL else None,
        )  # fmt: skip
        plan = Plan(opening=opening, candidate=candidate, application=application, path=path, dates=dates)
        if S.INTERVIEW in path and self.jury:
            plan.interview = self._interview(plan)
        self.plans.append(plan)
        self.emails.setdefault(email_n, candidate)
        return plan

    def _interview(self, plan):
        """When the interview takes place and which scorecards are in."""
        rng, path, dates = self.rng, plan.path, plan.dates
        moved = dates[path.index(S.INTERVIEW)]
        if path[-1] == S.INTERVIEW:  # waiting for the interview, or for the scorecards
            guarantee = not self.past_interview_pending  # the first one: held, the interviewer's card pending
            self.past_interview_pending = True
            if not guarantee and rng.random() < 0.5:
                starts = self.now + timedelta(days=rng.randint(2, 12))
                starts = starts.replace(hour=rng.choice((9, 10, 11, 14, 15, 16)), minute=0, second=0, microsecond=0)
                return {"starts_at": starts, "scheduled_at": moved, "submitted": {}}
            starts = moved + (self.now - moved) / 2
            submitted = {}
            for member in self.jury:
                if member is self.jury[0] and (guarantee or rng.random() < 0.6):
                    continue  # the demo interviewer still has this one to fill in
                submitted[member.pk] = starts + timedelta(hours=rng.randint(1, 20))
            return {
                "starts_at": starts,
                "scheduled_at": moved,
                "submitted": {k: min(v, self.now) for k, v in submitted.items()},
            }
        after = dates[path.index(S.INTERVIEW) + 1]  # the process went further: every scorecard is in
        starts = moved + (after - moved) / 3
        return {
            "starts_at": starts,
            "scheduled_at": moved,
            "submitted": {member.pk: starts + (after - starts) * rng.uniform(0.2, 0.8) for member in self.jury},
        }

    # -- writing

    def write(self):
        plans = self.plans
        if not plans:
            return 0
        # Candidates: originals first, so that duplicates can point at them.
        originals = [p.candidate for p in plans if p.candidate.duplicate_of is None]
        Candidate.objects.bulk_create(originals)
        duplicates = [p.candidate for p in plans if p.candidate.duplicate_of is not None]
        for candidate in duplicates:
            candidate.duplicate_of_id = candidate.duplicate_of.pk
        Candidate.objects.bulk_create(duplicates)
        for plan in plans:
            plan.application.candidate = plan.candidate
            reference = plan.application.reference
            name = self.storage.save(f"cv/demo/{reference}.pdf", ContentFile(pdf_bytes(str(plan.candidate))))
            plan.application.cv.name = name
        Application.objects.bulk_create([p.application for p in plans])

        events, interviews, jury_rows, scorecards = [], [], [], []
        for plan in plans:
            events += self._events(plan)
            if plan.interview:
                interviews.append(Interview(
                    application=plan.application, starts_at=plan.interview["starts_at"], duration_minutes=45,
                    location=f"{plan.opening.location_name}, salle de réunion", created_by=self.recruiter,
                ))  # fmt: skip
        Interview.objects.bulk_create(interviews)
        by_application = {i.application_id: i for i in interviews}
        for plan in plans:
            if not plan.interview:
                continue
            interview = by_application[plan.application.pk]
            for member in self.jury:
                jury_rows.append(Interview.interviewers.through(interview_id=interview.pk, user_id=member.pk))
                scorecards.append(self._scorecard(plan, member))
                if member.pk in plan.interview["submitted"]:
                    card = scorecards[-1]
                    events.append(ApplicationEvent(
                        application=plan.application, kind="scorecard", actor=member, at=card.submitted_at,
                        reason=f"Grille d'évaluation soumise (avis : {Recommendation(card.recommendation).label}).",
                    ))  # fmt: skip
        Interview.interviewers.through.objects.bulk_create(jury_rows)
        Scorecard.objects.bulk_create(scorecards)
        events.sort(key=lambda e: e.at)
        ApplicationEvent.objects.bulk_create(events, batch_size=500)
        return len(plans)

    def _events(self, plan):
        application, path, dates, rng = plan.application, plan.path, plan.dates, self.rng
        events = []
        for i, (status, at) in enumerate(zip(path, dates, strict=True)):
            actor, reason = self.recruiter, ""
            if i == 0:
                actor, reason = (
                    None,
                    "Candidature déposée" + (" (doublon possible)" if application.possible_duplicate else ""),
                )
            elif status == S.REJECTED:
                reason = rng.choice(REJECTION_REASONS)
            elif status == S.WITHDRAWN:
                actor, reason = None, "Retrait par le candidat"
            elif status == S.OFFER_DECLINED:
                reason = "Le candidat a décliné la proposition (autre engagement)"
            events.append(ApplicationEvent(
                application=application, kind="move", from_status=path[i - 1] if i else "", to_status=status,
                reason=reason, actor=actor, at=at,
            ))  # fmt: skip
            kind = {
                S.RECEIVED: MessageKind.ACKNOWLEDGEMENT,
                S.REJECTED: MessageKind.REJECTION,
                S.OFFER: MessageKind.OFFER,
            }.get(status)
            if kind is not None:
                events += self._message(plan, kind, at + timedelta(minutes=2), actor)
        if plan.interview:
            starts = timezone.localtime(plan.interview["starts_at"])
            jury = ", ".join(u.get_full_name() or u.get_username() for u in self.jury)
            events.append(ApplicationEvent(
                application=application, kind="interview", actor=self.recruiter, at=plan.interview["scheduled_at"],
                reason=f"Entretien planifié le {formats.date_format(starts, 'DATETIME_FORMAT')} (45 min), "
                       f"{plan.opening.location_name}. Jury : {jury}.",
            ))  # fmt: skip
            events += self._message(
                plan,
                MessageKind.INTERVIEW,
                plan.interview["scheduled_at"] + timedelta(minutes=2),
                self.recruiter,
                interview=SimpleNamespace(starts_at=plan.interview["starts_at"], duration_minutes=45,
                                          location=f"{plan.opening.location_name}, salle de réunion"),
            )
        return events

    def _message(self, plan, kind, at, actor, interview=None):
        """A copy of the message the candidate received, as ``services.send_message`` keeps it
        (placeholders filled, the candidate's personal link masked)."""
        if kind not in self.templates:
            return []
        subject, body = self.templates[kind]
        application = plan.application
        application.candidate, application.opening = plan.candidate, plan.opening
        link = "-" if kind == MessageKind.ACKNOWLEDGEMENT else ""  # the real one is never kept
        values = messages.hide_link(messages.values_for(application, interview=interview, self_service_url=link))
        return [ApplicationEvent(
            application=application, kind="message", actor=actor, at=min(at, self.now),
            message_subject=" ".join(messages.fill(subject, values).split())[:255],
            message_body=messages.fill(body, values), message_to=plan.candidate.email,
            reason=str(MessageKind(kind).label),
        )]  # fmt: skip

    def _scorecard(self, plan, member):
        rng = self.rng
        submitted_at = plan.interview["submitted"].get(member.pk)
        card = Scorecard(application=plan.application, interviewer=member)
        if submitted_at is None:
            return card
        good = plan.path[-1] in (S.DECISION, S.OFFER, S.HIRED, S.OFFER_DECLINED) or (
            plan.path[-1] == S.INTERVIEW and rng.random() < 0.5
        )
        low, high = (3, 5) if good else (1, 3)
        for name in Scorecard.CRITERIA:
            setattr(card, name, rng.randint(low, high))
        card.recommendation = rng.choice(
            (Recommendation.STRONG_YES, Recommendation.YES) if good else (Recommendation.NO, Recommendation.STRONG_NO)
        )
        card.comment = rng.choice(SCORECARD_COMMENTS["good" if good else "bad"])
        card.submitted_at = submitted_at
        return card


# --------------------------------------------------------------------------- seeder


def seed_recruitment(context):
    """The recruitment demo (see the module docstring). Idempotent."""
    now = timezone.now()
    today = timezone.localdate(now)
    index = ensure_index(ensure_home_page())
    grant_recruiter_permissions(index)
    openings = ensure_openings(context, index, today)
    context.log(f"  {len(openings)} offres d'emploi sous « {index.title} »")
    missing = set(MessageKind.values) - set(
        MessageTemplate.objects.filter(language="fr").values_list("kind", flat=True)
    )
    if missing:
        context.log(f"  modèles de message absents (migration recruitment 0002) : {', '.join(sorted(missing))}")

    with_applications = set(
        Application.objects.filter(opening__in=[o for _s, o in openings])
        .values_list("opening_id", flat=True)
        .distinct()
    )
    writer = Writer(context, now)
    fresh = [(spec, opening) for spec, opening in openings if opening.pk not in with_applications]
    for spec, opening in fresh:
        for final in final_statuses(context.rng, spec):
            writer.plan(spec, opening, final)
    # A few candidates apply to a second opening: possible duplicates for the recruiters.
    external = [p for p in writer.plans if p.candidate.agent is None]
    open_specs = [(spec, opening) for spec, opening in fresh if not spec.internal_only and spec.deadline_in_days > 0]
    for plan in external[:: max(1, len(external) // 4)][:4]:
        targets = [(spec, opening) for spec, opening in open_specs if opening.pk != plan.opening.pk]
        if targets:
            spec, opening = context.rng.choice(targets)
            writer.plan(spec, opening, S.RECEIVED, duplicate_of=plan.candidate)
    created = writer.write()
    if created:
        context.log(f"  {created} candidatures créées, avec leur historique, entretiens et grilles")
    else:
        context.log("  candidatures déjà en place : rien de nouveau")
    return {"openings": [o for _s, o in openings], "applications": created}
