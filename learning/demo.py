"""Demo content of the learning app for ``manage.py seed_demo`` (seeder "learning.courses").

:func:`seed_learning` creates, under the home page, a "Formations" catalogue with six
courses written like real ones (lessons of several paragraphs with callouts, a graded quiz
mixing the four question types with feedback), assigns the mandatory RGPD course to the
whole organisation, gives the demo logins enrolments in every status through the learning
services (so that progress, attempts and certificates are real), then spreads statuses
over the generated agents with a few bulk ``UPDATE`` statements (no per-agent call: a
55,000-agent directory takes seconds).

Two more courses are made of content packages (:data:`PACKAGE_COURSES`): the project's
sample SCORM 1.2 and multi-SCO SCORM 2004 packages (``learning.packages.sample``) imported
through the real importer, as a training editor's upload would be, and given to the demo
``agent`` (not started, both assigned with a deadline) so that they show in Mon espace.

Idempotent: pages are keyed by slug, assignments by (course, unit), demo enrolments by
(agent, course); a second run creates nothing. Course content is French demo content, like
pages an editor would write: it is not run through gettext.
"""

import io
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction
from django.db.models import CharField, Exists, F, Max, OuterRef, Value
from django.db.models.functions import Cast, Concat, LPad
from django.utils import timezone
from django.utils.translation import ngettext
from wagtail.models import GroupPagePermission

from cms import roles
from cms.dates import add_months
from cms.models import OrgUnit
from cms.services import ensure_home_page
from learning import services
from learning.actions import TRANSITIONS
from learning.choices import EnrollmentSource, EnrollmentStatus, EventSource
from learning.models import (
    Assignment,
    CourseIndexPage,
    CoursePage,
    Enrollment,
    EnrollmentEvent,
    LessonPage,
    PackageStepPage,
    QuizPage,
)

INDEX_SLUG = "formations"
RGPD = "rgpd"
PREVENTION = "prevention-risques"
LAICITE = "laicite"
HANDICAP = "accueil-handicap"
CYBER = "cybersecurite"
MANAGEMENT = "manager-a-distance"

RGPD_DUE_IN_DAYS = 60
PREVENTION_DUE_IN_DAYS = 30
PREVENTION_ASSIGNED_DAYS_AGO = 50  # the prevention campaign started 50 days ago: its deadline has passed
EDITOR_PAGE_PERMISSIONS = ["add", "change", "publish", "lock", "unlock"]

# --------------------------------------------------------------------------- content


def p(*paragraphs):
    return "".join(f"<p>{text}</p>" for text in paragraphs)


def ul(*items):
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def heading(text):
    return ("heading", text)


def text(html):
    return ("text", html)


def callout(kind, title, html):
    return ("callout", {"kind": kind, "title": title, "text": html})


@dataclass(frozen=True)
class Lesson:
    slug: str
    title: str
    minutes: int
    body: tuple


@dataclass(frozen=True)
class Question:
    kind: str  # single_choice | multiple_choice | true_false | short_answer
    prompt: str
    choices: tuple = ()  # (text, correct) pairs for choice questions
    answer: bool = True  # true_false
    accepted: tuple = ()  # short_answer
    feedback_correct: str = ""
    feedback_incorrect: str = ""


@dataclass(frozen=True)
class Course:
    slug: str
    title: str
    summary: str
    description: str
    objectives: str
    audience: str
    theme: str
    minutes: int
    self_enrollment: bool
    validity_months: int | None
    lessons: tuple
    quiz_title: str
    quiz_intro: str
    questions: tuple
    pass_mark: int = 80
    attempt_limit: int = 3
    shuffle: bool = False
    extra: dict = field(default_factory=dict)


COURSES = (
    Course(
        slug=RGPD,
        title="Protection des données personnelles (RGPD)",
        summary=(
            "Les règles du RGPD appliquées au quotidien d'un agent : ce qu'est une donnée personnelle, "
            "les principes à respecter, les droits des usagers et la conduite à tenir en cas de fuite."
        ),
        description=p(
            "Chaque jour, les services de la Ville traitent des données sur les usagers et sur les agents : "
            "dossiers d'aide sociale, inscriptions en crèche, fichiers de paie, courriels. Le règlement général "
            "sur la protection des données (RGPD), applicable depuis le 25 mai 2018, et la loi Informatique et "
            "Libertés encadrent ces traitements.",
            "Cette formation est <b>obligatoire pour tous les agents</b> et se renouvelle chaque année.",
        ),
        objectives=ul(
            "reconnaître une donnée personnelle et une donnée sensible ;",
            "appliquer les principes de finalité, de minimisation et de conservation limitée ;",
            "répondre correctement à un usager qui exerce ses droits ;",
            "réagir sans délai face à une violation de données.",
        ),
        audience="Tous les agents",
        theme="Numérique et données",
        minutes=45,
        self_enrollment=False,
        validity_months=12,
        lessons=(
            Lesson(
                "donnees-personnelles",
                "Qu'est-ce qu'une donnée personnelle ?",
                15,
                (
                    text(
                        p(
                            "Une donnée personnelle est <b>toute information se rapportant à une personne physique "
                            "identifiée ou identifiable</b>, directement (nom, photo) ou indirectement (matricule, "
                            "numéro de dossier, adresse IP, plaque d'immatriculation, voix). Peu importe le support : "
                            "fichier informatique, formulaire papier, enregistrement téléphonique ou vidéo.",
                            "Un <b>traitement</b> est toute opération portant sur ces données : collecte, saisie, "
                            "consultation, modification, transmission, archivage ou effacement. Consulter un dossier "
                            "dans un logiciel métier est donc déjà un traitement.",
                            "Certaines données sont dites <b>sensibles</b> : origine raciale ou ethnique, opinions "
                            "politiques, convictions religieuses ou philosophiques, appartenance syndicale, données "
                            "de santé, vie ou orientation sexuelle, données génétiques et biométriques. Leur "
                            "traitement est en principe interdit, sauf exceptions prévues par les textes, et exige "
                            "des précautions renforcées.",
                        )
                    ),
                    callout(
                        "info",
                        "Le numéro de sécurité sociale (NIR)",
                        p(
                            "Le NIR n'est pas une donnée sensible au sens du RGPD, mais son utilisation est "
                            "strictement encadrée par la loi. Ne le demandez et ne le recopiez que lorsqu'une "
                            "procédure le prévoit expressément."
                        ),
                    ),
                ),
            ),
            Lesson(
                "principes",
                "Les grands principes à respecter",
                15,
                (
                    heading("Une finalité, des données utiles, une durée limitée"),
                    text(
                        p(
                            "Chaque traitement poursuit une <b>finalité</b> déterminée et légitime : instruire une "
                            "demande de logement, gérer les inscriptions au conservatoire. Les données collectées "
                            "pour une finalité ne peuvent pas être réutilisées pour une autre sans cadre juridique.",
                            "Le principe de <b>minimisation</b> impose de ne collecter que les données strictement "
                            "nécessaires. Un formulaire d'inscription à une activité sportive n'a pas à demander la "
                            "situation familiale détaillée.",
                            "Les données sont conservées pendant une <b>durée limitée</b>, fixée pour chaque "
                            "traitement, puis archivées ou supprimées. Un tableur conservé « au cas où » sur un "
                            "partage réseau est un risque pour les usagers et pour la collectivité.",
                        )
                    ),
                    heading("Sécurité et traçabilité"),
                    text(
                        p(
                            "Le responsable de traitement tient un <b>registre des traitements</b> et garantit la "
                            "sécurité des données. Les autorités publiques désignent obligatoirement un "
                            "<b>délégué à la protection des données</b> (DPO), qui conseille les services et "
                            "fait le lien avec la CNIL.",
                        )
                    ),
                    callout(
                        "success",
                        "Le bon réflexe",
                        p(
                            "Avant de créer un nouveau fichier sur des usagers, posez-vous trois questions : pour "
                            "quoi faire ? quelles données sont vraiment utiles ? combien de temps les garder ? "
                            "En cas de doute, contactez le DPO avant de commencer."
                        ),
                    ),
                ),
            ),
            Lesson(
                "droits-et-violations",
                "Les droits des personnes et les violations de données",
                15,
                (
                    text(
                        p(
                            "Toute personne peut demander à <b>accéder</b> aux données qui la concernent, les faire "
                            "<b>rectifier</b>, demander leur <b>effacement</b> ou la <b>limitation</b> du traitement, "
                            "et, dans certains cas, s'y <b>opposer</b>. La réponse doit être apportée dans un délai "
                            "d'un mois, prolongeable de deux mois pour les demandes complexes.",
                            "Transmettez sans attendre toute demande de ce type à votre responsable et au DPO : le "
                            "délai court dès la réception par n'importe quel service.",
                            "Une <b>violation de données</b> est une destruction, une perte, une altération ou une "
                            "divulgation non autorisée de données : courriel envoyé au mauvais destinataire, "
                            "ordinateur portable volé, dossier papier oublié dans un lieu public. Lorsqu'elle "
                            "présente un risque pour les personnes, elle doit être notifiée à la CNIL dans les "
                            "72 heures après en avoir pris connaissance.",
                        )
                    ),
                    callout(
                        "warning",
                        "Signalez immédiatement",
                        p(
                            "Vous avez envoyé un tableau d'usagers au mauvais destinataire ? Prévenez tout de suite "
                            "votre responsable et le DPO. Personne ne vous le reprochera : c'est le silence qui "
                            "aggrave les conséquences."
                        ),
                    ),
                ),
            ),
        ),
        quiz_title="Quiz : protection des données",
        quiz_intro=p("Cinq questions. Il faut 80 % de bonnes réponses pour valider la formation."),
        questions=(
            Question(
                "multiple_choice",
                "Parmi ces informations, lesquelles sont des données personnelles ?",
                choices=(
                    ("Le matricule d'un agent", True),
                    ("L'adresse IP d'un poste de travail attribué", True),
                    ("La photo d'un usager", True),
                    ("Le budget annuel d'une direction", False),
                ),
                feedback_correct="Exact : une donnée est personnelle dès qu'elle permet d'identifier quelqu'un, même indirectement.",
                feedback_incorrect="Le matricule, l'adresse IP et la photo permettent d'identifier une personne ; pas un budget.",
            ),
            Question(
                "single_choice",
                "Dans quel délai une violation de données présentant un risque doit-elle être notifiée à la CNIL ?",
                choices=(
                    ("72 heures", True),
                    ("8 jours", False),
                    ("Un mois", False),
                    ("Aucun délai n'est fixé", False),
                ),
                feedback_correct="Oui : 72 heures après en avoir pris connaissance. D'où l'importance de signaler tout de suite.",
                feedback_incorrect="Le délai est de 72 heures : signalez sans attendre à votre responsable et au DPO.",
            ),
            Question(
                "true_false",
                "Une collectivité territoriale doit désigner un délégué à la protection des données.",
                answer=True,
                feedback_correct="C'est une obligation pour toutes les autorités et organismes publics.",
                feedback_incorrect="Si : la désignation d'un DPO est obligatoire pour les autorités publiques.",
            ),
            Question(
                "short_answer",
                "Quelle autorité administrative indépendante contrôle l'application du RGPD en France ? (sigle)",
                accepted=("CNIL", "Commission nationale de l'informatique et des libertés"),
                feedback_correct="La CNIL conseille, contrôle et peut sanctionner.",
                feedback_incorrect="Il s'agit de la CNIL, la Commission nationale de l'informatique et des libertés.",
            ),
            Question(
                "single_choice",
                "Un usager demande à consulter les données que le service détient sur lui. Quel est le délai de réponse de principe ?",
                choices=(("Un mois", True), ("72 heures", False), ("Six mois", False)),
                feedback_correct="Un mois, prolongeable de deux mois pour une demande complexe.",
                feedback_incorrect="Le délai de principe est d'un mois (prolongeable de deux mois si la demande est complexe).",
            ),
        ),
    ),
    Course(
        slug=PREVENTION,
        title="Prévention des risques professionnels",
        summary=(
            "Connaître les acteurs de la prévention, repérer les risques de son poste et savoir réagir "
            "face à un accident ou à un danger grave et imminent."
        ),
        description=p(
            "La santé et la sécurité au travail sont l'affaire de tous. L'employeur a une obligation de "
            "prévention ; chaque agent, de son côté, veille à sa sécurité et à celle de ses collègues.",
            "Ce module est la base commune à tous les agents, avant les formations propres à chaque métier "
            "(gestes et postures, travail en hauteur, habilitation électrique…).",
        ),
        objectives=ul(
            "identifier les acteurs et les outils de la prévention ;",
            "repérer les principaux risques de son poste de travail ;",
            "déclarer un accident de service et utiliser les registres ;",
            "connaître les conditions du droit de retrait.",
        ),
        audience="Tous les agents, en priorité les agents techniques",
        theme="Santé et sécurité au travail",
        minutes=60,
        self_enrollment=True,
        validity_months=None,
        lessons=(
            Lesson(
                "acteurs",
                "Les acteurs de la prévention",
                20,
                (
                    text(
                        p(
                            "L'autorité territoriale est responsable de la santé et de la sécurité des agents placés "
                            "sous son autorité. Elle s'appuie sur des <b>assistants et conseillers de prévention</b>, "
                            "présents dans les directions, et sur le <b>service de médecine préventive</b>.",
                            "La <b>formation spécialisée en matière de santé, de sécurité et de conditions de "
                            "travail</b> du comité social territorial (F3SCT, qui a succédé au CHSCT) est consultée "
                            "sur les projets qui touchent aux conditions de travail. Elle peut visiter les services "
                            "et enquêter après un accident grave.",
                            "Le <b>document unique d'évaluation des risques professionnels</b> (DUERP) recense, "
                            "unité de travail par unité de travail, les risques identifiés et les actions de "
                            "prévention prévues. Il est mis à jour au moins une fois par an.",
                        )
                    ),
                    callout(
                        "info",
                        "Le registre santé et sécurité au travail",
                        p(
                            "Dans chaque service, un registre santé et sécurité au travail (RSST) est à la "
                            "disposition des agents et des usagers. Toute observation sur un risque ou une "
                            "amélioration possible peut y être consignée ; le responsable y répond."
                        ),
                    ),
                ),
            ),
            Lesson(
                "reperer",
                "Repérer les risques de son poste",
                20,
                (
                    text(
                        p(
                            "Les chutes de plain-pied et les manutentions sont à l'origine d'une grande part des "
                            "accidents de service. Viennent ensuite les troubles musculo-squelettiques (TMS), liés "
                            "aux gestes répétitifs et aux postures, les risques routiers, les risques chimiques "
                            "(produits d'entretien, solvants) et les risques psychosociaux : charge de travail, "
                            "tensions avec le public, conflits.",
                        )
                    ),
                    heading("Les principes généraux de prévention"),
                    text(
                        p("La démarche de prévention suit un ordre de priorité :")
                        + ul(
                            "éviter les risques, et évaluer ceux qui ne peuvent pas l'être ;",
                            "combattre les risques à la source ;",
                            "adapter le travail à l'être humain (poste, équipements, méthodes) ;",
                            "remplacer ce qui est dangereux par ce qui l'est moins ;",
                            "privilégier les protections collectives sur les protections individuelles ;",
                            "donner des instructions appropriées aux agents.",
                        )
                    ),
                    callout(
                        "success",
                        "Protections collectives d'abord",
                        p(
                            "Un garde-corps protège tout le monde, tout le temps ; un harnais ne protège que celui "
                            "qui le porte correctement. Les équipements de protection individuelle complètent les "
                            "protections collectives, ils ne les remplacent pas."
                        ),
                    ),
                ),
            ),
            Lesson(
                "reagir",
                "Réagir : accident de service et danger grave et imminent",
                20,
                (
                    text(
                        p(
                            "Tout accident survenu pendant le service, même bénin, doit être <b>déclaré</b> à "
                            "l'employeur dans les délais réglementaires, accompagné d'un certificat médical. Une "
                            "déclaration tardive complique la reconnaissance de l'imputabilité au service.",
                            "Si vous avez un <b>motif raisonnable de penser</b> qu'une situation de travail présente "
                            "un <b>danger grave et imminent</b> pour votre vie ou votre santé, vous en alertez "
                            "immédiatement votre responsable et vous pouvez vous retirer de cette situation : c'est "
                            "le <b>droit de retrait</b>. L'alerte est consignée dans le registre spécial des dangers "
                            "graves et imminents.",
                            "Aucune sanction ni retenue sur traitement ne peut être prise contre un agent qui s'est "
                            "retiré d'une situation de travail pour ce motif. Le droit de retrait ne doit cependant "
                            "pas créer pour autrui une nouvelle situation de danger.",
                        )
                    ),
                    callout(
                        "warning",
                        "En cas d'accident",
                        p(
                            "Protégez, alertez (15, 18 ou 112), secourez si vous êtes formé. Puis prévenez votre "
                            "responsable et déclarez l'accident, même s'il vous paraît sans gravité."
                        ),
                    ),
                ),
            ),
        ),
        quiz_title="Quiz : prévention des risques",
        quiz_intro=p("Cinq questions pour vérifier les notions essentielles."),
        questions=(
            Question(
                "single_choice",
                "Quel document recense les risques identifiés pour chaque unité de travail ?",
                choices=(
                    ("Le document unique d'évaluation des risques professionnels (DUERP)", True),
                    ("Le règlement intérieur", False),
                    ("Le registre des délibérations", False),
                ),
                feedback_correct="Le DUERP, mis à jour au moins chaque année.",
                feedback_incorrect="C'est le document unique d'évaluation des risques professionnels (DUERP).",
            ),
            Question(
                "true_false",
                "Un agent qui exerce à juste titre son droit de retrait peut subir une retenue sur traitement.",
                answer=False,
                feedback_correct="Exact : ni sanction ni retenue sur traitement.",
                feedback_incorrect="Non : aucune sanction ni retenue ne peut être prise dans ce cas.",
            ),
            Question(
                "multiple_choice",
                "Parmi ces mesures, lesquelles sont des protections collectives ?",
                choices=(
                    ("Un garde-corps sur une plateforme", True),
                    ("La ventilation d'un local de stockage de produits", True),
                    ("Des gants de manutention", False),
                    ("Un casque de chantier", False),
                ),
                feedback_correct="Bien vu : gants et casque sont des équipements de protection individuelle.",
                feedback_incorrect="Le garde-corps et la ventilation protègent tout le monde ; gants et casque sont individuels.",
            ),
            Question(
                "short_answer",
                "Quel registre, accessible à tous, permet de consigner une observation sur la santé et la sécurité ? (sigle de 4 lettres)",
                accepted=(
                    "RSST",
                    "registre santé et sécurité au travail",
                    "registre de santé et de sécurité au travail",
                ),
                feedback_correct="Le registre santé et sécurité au travail (RSST).",
                feedback_incorrect="Il s'agit du registre santé et sécurité au travail (RSST).",
            ),
            Question(
                "single_choice",
                "Vous constatez un danger grave et imminent. Que faites-vous d'abord ?",
                choices=(
                    ("J'alerte immédiatement mon responsable", True),
                    ("J'attends mon entretien professionnel pour en parler", False),
                    ("Je continue mon travail en faisant attention", False),
                ),
                feedback_correct="L'alerte immédiate est la première obligation.",
                feedback_incorrect="Il faut alerter immédiatement votre responsable.",
            ),
        ),
    ),
    Course(
        slug=LAICITE,
        title="Laïcité et neutralité du service public",
        summary=(
            "Ce que la laïcité impose aux agents publics, ce qu'elle garantit aux usagers, et comment "
            "réagir dans les situations délicates de l'accueil."
        ),
        description=p(
            "La laïcité garantit la liberté de conscience de chacun et l'égalité de tous devant le service "
            "public. Pour l'agent, elle se traduit par une obligation de neutralité ; pour l'usager, par une "
            "liberté, qui s'exerce dans le respect du bon fonctionnement du service.",
        ),
        objectives=ul(
            "connaître les textes fondateurs du principe de laïcité ;",
            "distinguer les obligations de l'agent et les droits de l'usager ;",
            "réagir avec justesse à une demande fondée sur une conviction religieuse.",
        ),
        audience="Tous les agents",
        theme="Valeurs du service public",
        minutes=40,
        self_enrollment=True,
        validity_months=None,
        lessons=(
            Lesson(
                "principes",
                "Les fondements de la laïcité",
                12,
                (
                    text(
                        p(
                            "La <b>loi du 9 décembre 1905</b> concernant la séparation des Églises et de l'État "
                            "assure la liberté de conscience et garantit le libre exercice des cultes, sous les "
                            "seules restrictions édictées dans l'intérêt de l'ordre public. La République ne "
                            "reconnaît, ne salarie ni ne subventionne aucun culte.",
                            "L'article 1er de la Constitution de 1958 affirme que la France est une République "
                            "« indivisible, laïque, démocratique et sociale », qui assure l'égalité devant la loi de "
                            "tous les citoyens sans distinction d'origine, de race ou de religion et respecte "
                            "toutes les croyances.",
                            "Le code général de la fonction publique rappelle que l'agent public exerce ses "
                            "fonctions dans le respect du principe de laïcité. Depuis la loi du 24 août 2021, "
                            "chaque administration désigne un <b>référent laïcité</b>, et le 9 décembre est la "
                            "journée de la laïcité dans les services publics.",
                        )
                    ),
                    callout(
                        "info",
                        "Votre référent laïcité",
                        p(
                            "Le référent laïcité conseille les agents et les encadrants sur toute question liée "
                            "au principe de laïcité. Ses coordonnées figurent sur l'intranet."
                        ),
                    ),
                ),
            ),
            Lesson(
                "agent",
                "L'agent public : une stricte neutralité",
                14,
                (
                    text(
                        p(
                            "L'agent bénéficie comme tout citoyen de la liberté de conscience. Mais dans l'exercice "
                            "de ses fonctions, il est tenu à une <b>stricte neutralité</b> : il ne manifeste pas ses "
                            "convictions religieuses, par des signes ou par des propos, quelle que soit la "
                            "discrétion du signe et que l'agent soit ou non en contact avec le public.",
                            "La neutralité vaut aussi pour les opinions politiques. Elle garantit que chaque usager "
                            "est traité de la même manière, sans que la conviction supposée de l'agent puisse "
                            "faire douter de son impartialité.",
                            "En dehors du service, l'agent retrouve sa pleine liberté. Des autorisations d'absence "
                            "peuvent être accordées pour une fête religieuse, dans la mesure où elles sont "
                            "compatibles avec le fonctionnement normal du service.",
                        )
                    ),
                    callout(
                        "warning",
                        "À retenir",
                        p(
                            "Neutralité ne veut pas dire renoncer à ses convictions : cela veut dire ne pas les "
                            "exprimer dans le service, et traiter chaque usager de façon égale."
                        ),
                    ),
                ),
            ),
            Lesson(
                "usagers",
                "Les usagers : une liberté encadrée",
                14,
                (
                    text(
                        p(
                            "Les usagers du service public peuvent manifester leurs convictions religieuses, y compris "
                            "par le port d'un signe, dans les limites fixées par la loi : respect de l'ordre public, "
                            "bon fonctionnement du service, règles d'hygiène et de sécurité, et interdiction de "
                            "dissimuler son visage dans l'espace public.",
                            "Un usager ne peut pas récuser un agent en raison de son sexe ou de sa religion supposée, "
                            "ni exiger une adaptation du service fondée sur ses convictions. Le prosélytisme est "
                            "interdit dans les locaux du service public.",
                            "Les usagers restent soumis aux règles communes du service : horaires, ordre de passage, "
                            "conditions d'accès, et vérification de leur identité lorsqu'une démarche l'exige. "
                            "Rappeler ces règles avec tact, sans jamais commenter les convictions de la personne, "
                            "suffit le plus souvent à désamorcer une situation tendue.",
                        )
                    ),
                    callout(
                        "success",
                        "Situation : « Je veux être reçu par un homme »",
                        p(
                            "Restez calme et courtois. Rappelez que tous les agents sont également compétents et "
                            "que le service ne choisit pas son interlocuteur selon le sexe. Si la personne "
                            "maintient son refus, proposez un autre rendez-vous avec le même agent et informez "
                            "votre responsable."
                        ),
                    ),
                ),
            ),
        ),
        quiz_title="Quiz : laïcité",
        quiz_intro=p("Cinq questions sur les principes et les situations courantes."),
        questions=(
            Question(
                "single_choice",
                "En quelle année a été votée la loi de séparation des Églises et de l'État ?",
                choices=(("1905", True), ("1789", False), ("1958", False), ("2004", False)),
                feedback_correct="La loi du 9 décembre 1905.",
                feedback_incorrect="Il s'agit de la loi du 9 décembre 1905.",
            ),
            Question(
                "true_false",
                "Un agent public peut porter un signe religieux discret pendant son service.",
                answer=False,
                feedback_correct="Exact : la neutralité s'impose quelle que soit la discrétion du signe.",
                feedback_incorrect="Non : l'obligation de neutralité vaut quelle que soit la discrétion du signe.",
            ),
            Question(
                "true_false",
                "Un usager peut porter un signe religieux dans les locaux d'un service public.",
                answer=True,
                feedback_correct="Oui, dans le respect de l'ordre public et du bon fonctionnement du service.",
                feedback_incorrect="Si : l'usager est libre de manifester ses convictions, dans les limites fixées par la loi.",
            ),
            Question(
                "multiple_choice",
                "Quelles obligations s'imposent à l'agent public dans l'exercice de ses fonctions ?",
                choices=(
                    ("La neutralité religieuse", True),
                    ("La neutralité politique", True),
                    ("L'égalité de traitement des usagers", True),
                    ("Renoncer à toute conviction personnelle", False),
                ),
                feedback_correct="La liberté de conscience de l'agent demeure : seule son expression est encadrée.",
                feedback_incorrect="L'agent garde sa liberté de conscience ; il doit la neutralité et l'égalité de traitement.",
            ),
            Question(
                "short_answer",
                "Quel interlocuteur, désigné dans chaque administration, conseille les agents sur la laïcité ? (deux mots)",
                accepted=("référent laïcité", "référente laïcité", "le référent laïcité"),
                feedback_correct="Le référent laïcité, prévu par la loi du 24 août 2021.",
                feedback_incorrect="Il s'agit du référent laïcité.",
            ),
        ),
    ),
    Course(
        slug=HANDICAP,
        title="Accueil des usagers en situation de handicap",
        summary=(
            "Comprendre les différentes formes de handicap, adopter les bons réflexes à l'accueil et "
            "connaître les obligations d'accessibilité des services."
        ),
        description=p(
            "Un accueil de qualité est un accueil qui s'adapte à chacun. Ce module donne des repères simples, "
            "construits avec des associations de personnes handicapées, pour accueillir sans maladresse ni "
            "excès de précaution.",
            "Un recyclage est proposé tous les deux ans.",
        ),
        objectives=ul(
            "connaître la définition légale du handicap et ses grandes familles ;",
            "adapter sa communication à chaque situation ;",
            "orienter vers les dispositifs d'accessibilité du service.",
        ),
        audience="Agents d'accueil et de guichet, et tout agent en contact avec le public",
        theme="Relation aux usagers",
        minutes=50,
        self_enrollment=True,
        validity_months=24,
        lessons=(
            Lesson(
                "comprendre",
                "Comprendre le handicap",
                15,
                (
                    text(
                        p(
                            "La loi du 11 février 2005 pour l'égalité des droits et des chances définit le handicap "
                            "comme <b>toute limitation d'activité ou restriction de participation à la vie en "
                            "société</b> subie dans son environnement par une personne, en raison d'une altération "
                            "substantielle, durable ou définitive d'une ou plusieurs fonctions physiques, "
                            "sensorielles, mentales, cognitives ou psychiques, d'un polyhandicap ou d'un trouble de "
                            "santé invalidant.",
                            "Cette définition insiste sur l'<b>environnement</b> : c'est la marche sans rampe, le "
                            "formulaire illisible ou l'annonce uniquement sonore qui créent la situation de handicap.",
                            "On distingue le handicap moteur, visuel, auditif, mental, psychique, cognitif et les "
                            "maladies invalidantes. Une même personne peut cumuler plusieurs situations.",
                        )
                    ),
                    callout(
                        "info",
                        "La plupart des handicaps ne se voient pas",
                        p(
                            "Une grande majorité des handicaps sont invisibles : surdité, maladie chronique, "
                            "trouble psychique, dyslexie. Ne jugez pas sur l'apparence ; une personne peut avoir "
                            "besoin d'un aménagement sans que rien ne le laisse deviner."
                        ),
                    ),
                ),
            ),
            Lesson(
                "accueillir",
                "Adapter son accueil",
                20,
                (
                    text(
                        p(
                            "Quelle que soit la situation, adressez-vous <b>directement à la personne</b>, et non à "
                            "son accompagnant ou à son interprète. Proposez votre aide, sans l'imposer, et demandez "
                            "comment vous pouvez être utile.",
                        )
                    ),
                    heading("Quelques repères"),
                    text(
                        ul(
                            "<b>Handicap visuel</b> : présentez-vous, décrivez l'environnement, proposez votre bras "
                            "plutôt que de saisir celui de la personne ; le chien guide est admis partout.",
                            "<b>Handicap auditif</b> : placez-vous face à la personne, en pleine lumière, articulez "
                            "sans crier ; écrivez si nécessaire ; signalez la boucle magnétique si le guichet en "
                            "est équipé.",
                            "<b>Handicap mental ou cognitif</b> : employez des phrases courtes et des mots simples, "
                            "vérifiez la compréhension, proposez des documents « Facile à lire et à comprendre » "
                            "(FALC).",
                            "<b>Handicap psychique</b> : restez calme et patient, laissez du temps, évitez les "
                            "situations de pression.",
                        )
                    ),
                    callout(
                        "success",
                        "Le bon réflexe",
                        p(
                            "« Comment puis-je vous aider ? » est toujours une bonne question. La personne est la "
                            "mieux placée pour dire ce dont elle a besoin."
                        ),
                    ),
                ),
            ),
            Lesson(
                "accessibilite",
                "L'accessibilité des services et des démarches",
                15,
                (
                    text(
                        p(
                            "Les établissements recevant du public (ERP) doivent être accessibles à toutes les "
                            "formes de handicap. Chaque ERP tient à disposition du public un <b>registre public "
                            "d'accessibilité</b>, qui présente les prestations proposées et les aménagements "
                            "existants.",
                            "L'accessibilité concerne aussi le <b>numérique</b> : les sites et démarches en ligne "
                            "de la collectivité doivent respecter le référentiel général d'amélioration de "
                            "l'accessibilité (RGAA) et publier une déclaration d'accessibilité.",
                            "Lorsqu'un service n'est pas accessible, il est de votre rôle de proposer une "
                            "alternative : recevoir la personne dans un bureau de plain-pied, l'accompagner dans la "
                            "démarche en ligne, envoyer un document dans un format adapté.",
                            "Chaque direction dispose d'un référent handicap et accessibilité : signalez-lui les "
                            "obstacles que vous constatez (porte trop lourde, signalétique illisible, formulaire "
                            "inaccessible), ils alimentent le plan de mise en accessibilité.",
                        )
                    ),
                    callout(
                        "info",
                        "Chiens guides et d'assistance",
                        p(
                            "L'accès des chiens guides d'aveugle et des chiens d'assistance aux lieux ouverts au "
                            "public est un droit. Il ne peut pas être refusé, même dans un lieu où les animaux "
                            "sont habituellement interdits."
                        ),
                    ),
                ),
            ),
        ),
        quiz_title="Quiz : accueil et handicap",
        quiz_intro=p("Cinq questions de mise en situation."),
        questions=(
            Question(
                "single_choice",
                "Un usager sourd est accompagné d'un interprète en langue des signes. À qui vous adressez-vous ?",
                choices=(("À l'usager", True), ("À l'interprète", False)),
                feedback_correct="Toujours à la personne elle-même ; l'interprète traduit.",
                feedback_incorrect="Adressez-vous à l'usager, en le regardant : l'interprète ne fait que traduire.",
            ),
            Question(
                "true_false",
                "L'accès d'un chien guide d'aveugle peut être refusé dans une mairie d'arrondissement.",
                answer=False,
                feedback_correct="Exact : l'accès des chiens guides aux lieux ouverts au public est un droit.",
                feedback_incorrect="Non : l'accès des chiens guides et d'assistance ne peut pas être refusé.",
            ),
            Question(
                "multiple_choice",
                "Quels sont les bons réflexes pour guider une personne malvoyante ?",
                choices=(
                    ("Me présenter en arrivant", True),
                    ("Proposer mon bras", True),
                    ("Décrire l'environnement et les obstacles", True),
                    ("La prendre par le bras sans la prévenir", False),
                ),
                feedback_correct="Parfait : on propose, on décrit, on ne saisit pas.",
                feedback_incorrect="Présentez-vous, proposez votre bras et décrivez ; ne saisissez jamais la personne sans prévenir.",
            ),
            Question(
                "short_answer",
                "Comment appelle-t-on la méthode de rédaction « Facile à lire et à comprendre » ? (sigle)",
                accepted=("FALC",),
                feedback_correct="Le FALC rend les documents accessibles à tous.",
                feedback_incorrect="C'est le FALC.",
            ),
            Question(
                "single_choice",
                "Quel document, tenu dans chaque établissement recevant du public, informe sur son accessibilité ?",
                choices=(
                    ("Le registre public d'accessibilité", True),
                    ("Le document unique d'évaluation des risques", False),
                    ("Le règlement intérieur", False),
                ),
                feedback_correct="Le registre public d'accessibilité.",
                feedback_incorrect="Il s'agit du registre public d'accessibilité.",
            ),
        ),
    ),
    Course(
        slug=CYBER,
        title="Cybersécurité : les bons réflexes",
        summary=(
            "Déjouer l'hameçonnage, choisir et protéger ses mots de passe, sécuriser son poste de travail "
            "au bureau comme en télétravail."
        ),
        description=p(
            "Les collectivités sont régulièrement visées par des attaques informatiques : rançongiciels, "
            "fraudes au faux dirigeant, vols d'identifiants. Dans la grande majorité des cas, l'attaque "
            "commence par un simple courriel. Quelques réflexes suffisent à la bloquer.",
        ),
        objectives=ul(
            "reconnaître un courriel d'hameçonnage ;",
            "adopter une bonne hygiène des mots de passe ;",
            "protéger son poste et ses données en mobilité.",
        ),
        audience="Tous les agents utilisant un poste informatique",
        theme="Numérique et données",
        minutes=35,
        self_enrollment=True,
        validity_months=12,
        attempt_limit=2,
        lessons=(
            Lesson(
                "hameconnage",
                "Hameçonnage et ingénierie sociale",
                12,
                (
                    text(
                        p(
                            "L'<b>hameçonnage</b> (phishing) consiste à se faire passer pour un interlocuteur de "
                            "confiance — un collègue, la direction, un fournisseur, un service en ligne — pour "
                            "obtenir un mot de passe, faire ouvrir une pièce jointe piégée ou déclencher un "
                            "paiement.",
                            "Les signes qui doivent alerter : un ton <b>urgent</b> ou confidentiel, une adresse "
                            "d'expéditeur inhabituelle, un lien dont l'adresse réelle (visible en survolant le lien "
                            "sans cliquer) ne correspond pas au site annoncé, une pièce jointe inattendue, une "
                            "demande de changement de coordonnées bancaires.",
                            "La <b>fraude au président</b> vise les services financiers : un faux dirigeant demande "
                            "un virement urgent et confidentiel. La parade est simple : vérifier par un autre canal, "
                            "en appelant la personne à un numéro connu.",
                        )
                    ),
                    callout(
                        "warning",
                        "Vous avez cliqué ?",
                        p(
                            "Pas de panique, mais pas de silence : prévenez immédiatement le support informatique "
                            "et changez le mot de passe concerné. Quelques minutes gagnées peuvent éviter une "
                            "attaque de grande ampleur."
                        ),
                    ),
                ),
            ),
            Lesson(
                "mots-de-passe",
                "Mots de passe et authentification",
                12,
                (
                    text(
                        p(
                            "Un bon mot de passe est <b>long</b> : une phrase de passe de plusieurs mots est à la "
                            "fois plus robuste et plus facile à retenir qu'un mot court truffé de symboles. Il est "
                            "<b>unique</b> : réutiliser le même mot de passe, c'est offrir toutes ses portes à qui "
                            "en vole un seul.",
                            "Un <b>gestionnaire de mots de passe</b> permet de générer et de conserver des mots de "
                            "passe différents pour chaque service. Activez la <b>double authentification</b> "
                            "lorsqu'elle est proposée.",
                            "Votre mot de passe est personnel : ne le communiquez à personne, pas même à un "
                            "collègue ou à votre responsable. Le support informatique ne vous le demandera jamais.",
                        )
                    ),
                    callout(
                        "info",
                        "Le bon réflexe",
                        p(
                            "Quelqu'un se présentant comme le support vous demande votre mot de passe par "
                            "téléphone ? Raccrochez et signalez l'appel : c'est une tentative d'escroquerie."
                        ),
                    ),
                ),
            ),
            Lesson(
                "poste-et-mobilite",
                "Poste de travail et mobilité",
                11,
                (
                    text(
                        p(
                            "Verrouillez votre session dès que vous quittez votre poste (touches Windows + L). "
                            "Acceptez les mises à jour proposées par le support : elles corrigent des failles "
                            "activement exploitées.",
                            "Ne branchez jamais une clé USB d'origine inconnue : remettez-la au support "
                            "informatique. En télétravail, connectez-vous par le VPN de la collectivité et évitez "
                            "les réseaux Wi-Fi publics pour les applications métier.",
                            "Dans les transports, attention aux regards indiscrets et aux conversations "
                            "téléphoniques : un filtre de confidentialité sur l'écran limite les risques.",
                            "N'installez pas vous-même de logiciel ni d'extension de navigateur : demandez-les au "
                            "support, qui vérifie leur innocuité. De même, n'utilisez pas de service en ligne "
                            "personnel (messagerie, stockage, traduction automatique) pour des documents de travail : "
                            "leur contenu peut être conservé et réutilisé hors de tout contrôle.",
                        )
                    ),
                    callout(
                        "success",
                        "À la maison aussi",
                        p(
                            "Le site cybermalveillance.gouv.fr propose des conseils et une assistance aux "
                            "particuliers victimes d'actes de cybermalveillance."
                        ),
                    ),
                ),
            ),
        ),
        quiz_title="Quiz : cybersécurité",
        quiz_intro=p("Cinq questions. Attention : deux tentatives seulement."),
        questions=(
            Question(
                "single_choice",
                "Un courriel du « directeur » vous demande un virement urgent et confidentiel. Que faites-vous ?",
                choices=(
                    ("Je vérifie la demande en appelant le directeur à un numéro connu", True),
                    ("J'exécute le virement puisque c'est urgent", False),
                    ("Je réponds au courriel pour demander le RIB", False),
                ),
                feedback_correct="Toujours vérifier par un autre canal.",
                feedback_incorrect="C'est le scénario classique de la fraude au président : vérifiez par un autre canal.",
            ),
            Question(
                "true_false",
                "Le support informatique peut vous demander votre mot de passe par téléphone.",
                answer=False,
                feedback_correct="Jamais : c'est le signe d'une escroquerie.",
                feedback_incorrect="Non, jamais : raccrochez et signalez l'appel.",
            ),
            Question(
                "multiple_choice",
                "Quels signes doivent vous alerter dans un courriel ?",
                choices=(
                    ("Un ton urgent ou confidentiel", True),
                    ("Une adresse d'expéditeur inhabituelle", True),
                    ("Un lien dont l'adresse ne correspond pas au site annoncé", True),
                    ("Une formule de politesse", False),
                ),
                feedback_correct="Exactement les trois signaux d'alerte les plus courants.",
                feedback_incorrect="Urgence, expéditeur inhabituel et lien trompeur sont les signaux à repérer.",
            ),
            Question(
                "short_answer",
                "Quel raccourci clavier verrouille la session sous Windows ? (par exemple : Ctrl + C)",
                accepted=("Windows + L", "Win + L", "Windows L"),
                feedback_correct="Windows + L : à faire à chaque fois que vous quittez votre poste.",
                feedback_incorrect="C'est Windows + L.",
            ),
            Question(
                "single_choice",
                "Vous trouvez une clé USB sur le parking du service. Que faites-vous ?",
                choices=(
                    ("Je la remets au support informatique sans la brancher", True),
                    ("Je la branche pour retrouver son propriétaire", False),
                    ("Je la garde, elle peut servir", False),
                ),
                feedback_correct="Une clé abandonnée peut être piégée : ne la branchez jamais.",
                feedback_incorrect="Ne la branchez pas : remettez-la au support informatique.",
            ),
        ),
    ),
    Course(
        slug=MANAGEMENT,
        title="Manager une équipe à distance",
        summary=(
            "Le cadre du télétravail dans la fonction publique, l'organisation du travail en mode hybride et "
            "la prévention de l'isolement."
        ),
        description=p(
            "Le télétravail s'est installé durablement dans les services. Il transforme la manière d'organiser "
            "le travail, de communiquer et d'évaluer. Ce module donne aux encadrants des repères juridiques et "
            "des pratiques éprouvées.",
        ),
        objectives=ul(
            "connaître le cadre réglementaire du télétravail ;",
            "organiser et animer une équipe hybride ;",
            "prévenir l'isolement et respecter le droit à la déconnexion.",
        ),
        audience="Encadrants de proximité et cadres",
        theme="Management",
        minutes=60,
        self_enrollment=True,
        validity_months=None,
        lessons=(
            Lesson(
                "cadre",
                "Le cadre du télétravail dans la fonction publique",
                20,
                (
                    text(
                        p(
                            "Le télétravail dans la fonction publique est régi par le <b>décret n° 2016-151 du "
                            "11 février 2016</b>, complété par l'accord-cadre du 13 juillet 2021. Il repose sur le "
                            "volontariat : c'est l'agent qui en fait la demande écrite, en précisant les jours "
                            "souhaités et le lieu d'exercice.",
                            "L'autorité répond dans un délai d'un mois. Un refus doit être motivé et précédé d'un "
                            "entretien. La quotité de télétravail ne peut en principe pas dépasser trois jours par "
                            "semaine pour un agent à temps plein.",
                            "L'accord-cadre consacre le <b>droit à la déconnexion</b> et prévoit une allocation "
                            "forfaitaire pour couvrir les frais engagés par les télétravailleurs.",
                        )
                    ),
                    callout(
                        "info",
                        "La charte de télétravail",
                        p(
                            "Les activités éligibles, les plages de joignabilité et les modalités de contrôle du "
                            "temps de travail sont précisées dans la charte de télétravail de la collectivité. "
                            "Relisez-la avec votre équipe."
                        ),
                    ),
                ),
            ),
            Lesson(
                "animer",
                "Organiser et animer le travail",
                20,
                (
                    text(
                        p(
                            "À distance, l'implicite disparaît. Fixez des <b>objectifs clairs</b>, des échéances et "
                            "des priorités partagées ; l'évaluation porte sur les résultats obtenus au regard de "
                            "ces objectifs, non sur le temps de connexion.",
                            "Installez des <b>rituels</b> : un point d'équipe hebdomadaire, un court point "
                            "individuel régulier, une journée de présence commune sur site. Choisissez des outils "
                            "partagés et tenez à jour l'information utile à tous.",
                            "Veillez à l'<b>équité</b> entre agents présents et télétravailleurs : accès à "
                            "l'information, répartition des tâches, reconnaissance du travail accompli.",
                            "Formalisez les décisions prises en réunion dans un compte rendu court, partagé le jour "
                            "même : à distance, ce qui n'est pas écrit n'a, pour une partie de l'équipe, pas été "
                            "décidé. Les réunions elles-mêmes gagnent à être plus courtes, avec un ordre du jour "
                            "annoncé et une personne chargée d'animer les échanges.",
                        )
                    ),
                    callout(
                        "success",
                        "Confiance et régulation",
                        p(
                            "Le management à distance repose sur la confiance a priori, complétée par une "
                            "régulation explicite : on se dit ce qu'on attend, on vérifie ensemble, on ajuste."
                        ),
                    ),
                ),
            ),
            Lesson(
                "isolement",
                "Prévenir l'isolement et préserver la santé",
                20,
                (
                    text(
                        p(
                            "L'isolement est le premier risque du télétravail. Soyez attentif aux <b>signaux "
                            "faibles</b> : caméra toujours coupée, réponses tardives ou au contraire à toute heure, "
                            "retrait lors des réunions, baisse inhabituelle de la qualité du travail.",
                            "Respectez le <b>droit à la déconnexion</b> : pas de sollicitation en dehors des plages "
                            "de travail, pas d'attente de réponse immédiate le soir ou le week-end. Donnez "
                            "l'exemple en programmant l'envoi de vos messages.",
                            "Rappelez les règles d'ergonomie du poste à domicile et orientez, si besoin, vers le "
                            "service de médecine préventive ou l'assistant de prévention.",
                            "Abordez le télétravail lors de l'entretien professionnel annuel : charge de travail, "
                            "articulation entre vie professionnelle et vie personnelle, besoins d'équipement ou de "
                            "formation. C'est aussi l'occasion de réajuster l'organisation retenue.",
                        )
                    ),
                    callout(
                        "warning",
                        "Ne restez pas seul",
                        p(
                            "Face à un agent en difficulté, appuyez-vous sur les ressources humaines de proximité, "
                            "la médecine préventive et le service social du personnel."
                        ),
                    ),
                ),
            ),
        ),
        quiz_title="Quiz : manager à distance",
        quiz_intro=p("Six questions sur le cadre et les pratiques."),
        questions=(
            Question(
                "single_choice",
                "Quel texte encadre le télétravail dans la fonction publique ?",
                choices=(
                    ("Le décret n° 2016-151 du 11 février 2016", True),
                    ("La loi du 9 décembre 1905", False),
                    ("Le code civil", False),
                ),
                feedback_correct="Le décret de 2016, complété par l'accord-cadre de 2021.",
                feedback_incorrect="C'est le décret n° 2016-151 du 11 février 2016.",
            ),
            Question(
                "true_false",
                "Le télétravail est accordé à la demande de l'agent.",
                answer=True,
                feedback_correct="Oui : il repose sur le volontariat.",
                feedback_incorrect="Si : c'est l'agent qui en fait la demande écrite.",
            ),
            Question(
                "multiple_choice",
                "Quelles pratiques aident à prévenir l'isolement des télétravailleurs ?",
                choices=(
                    ("Des points individuels réguliers", True),
                    ("Des rituels d'équipe", True),
                    ("Des journées de présence commune sur site", True),
                    ("Des messages le soir appelant une réponse immédiate", False),
                ),
                feedback_correct="Et le respect du droit à la déconnexion.",
                feedback_incorrect="Les sollicitations hors des horaires de travail vont à l'encontre du droit à la déconnexion.",
            ),
            Question(
                "short_answer",
                "Comment appelle-t-on le droit de ne pas être sollicité en dehors de ses horaires de travail ? (le droit à la …)",
                accepted=("déconnexion", "droit à la déconnexion"),
                feedback_correct="Le droit à la déconnexion.",
                feedback_incorrect="C'est le droit à la déconnexion.",
            ),
            Question(
                "single_choice",
                "Sur quoi fonder l'évaluation du travail d'un agent en télétravail ?",
                choices=(
                    ("Les résultats obtenus au regard des objectifs fixés", True),
                    ("Le temps de connexion", False),
                    ("Le nombre de courriels envoyés", False),
                ),
                feedback_correct="Les résultats, comme pour tout agent.",
                feedback_incorrect="L'évaluation porte sur les résultats au regard des objectifs.",
            ),
            Question(
                "single_choice",
                "Dans quel délai l'autorité doit-elle répondre à une demande de télétravail ?",
                choices=(("Un mois", True), ("Huit jours", False), ("Trois mois", False)),
                feedback_correct="Un mois ; un refus est motivé et précédé d'un entretien.",
                feedback_incorrect="Le délai est d'un mois.",
            ),
        ),
    ),
)
COURSES_BY_SLUG = {course.slug: course for course in COURSES}


PREVENTION_SCORM = "prevention-risques-scorm"
FIRST_AID_SCORM = "premiers-secours-scorm"


@dataclass(frozen=True)
class PackageCourse:
    """A demo course whose only step is a content package made by ``learning.packages.sample``."""

    slug: str
    title: str
    summary: str
    description: str
    objectives: str
    audience: str
    theme: str
    minutes: int
    validity_months: int | None
    step_title: str
    package: str  # the name of the sample function: "scorm12_package" | "scorm2004_package" | "cmi5_package"
    package_title: str
    file_name: str
    source: str  # how the demo agent gets it: EnrollmentSource.ASSIGNED or SELF
    due_in_days: int | None = None
    package_options: tuple = ()  # more keyword arguments of the sample function, as (name, value) pairs

    def package_file(self):
        """The sample zip as a binary file object, named as an editor's upload would be."""
        from learning.packages import sample

        buffer = io.BytesIO(getattr(sample, self.package)(title=self.package_title, **dict(self.package_options)))
        buffer.name = self.file_name
        return buffer


PACKAGE_COURSES = (
    PackageCourse(
        slug=PREVENTION_SCORM,
        title="Prévention des risques professionnels (SCORM 1.2)",
        summary=(
            "Un module interactif réalisé avec un outil auteur et importé en paquet SCORM 1.2 : repérer les "
            "risques de son poste, connaître les gestes de prévention et savoir qui alerter."
        ),
        description=p(
            "Ce module e-learning se suit dans le lecteur de Parcours, sans quitter le site. Il enregistre votre "
            "progression à chaque écran : vous pouvez le fermer et le reprendre plus tard à l'endroit où vous "
            "l'aviez laissé.",
            "Il se termine par une évaluation ; un score d'au moins 80 % valide la formation et donne droit à "
            "l'attestation.",
        ),
        objectives=ul(
            "identifier les principaux risques professionnels de son poste ;",
            "appliquer les gestes de prévention du quotidien ;",
            "savoir à qui signaler une situation dangereuse.",
        ),
        audience="Tous les agents",
        theme="Santé et sécurité au travail",
        minutes=20,
        validity_months=24,
        step_title="Module interactif : prévention des risques",
        package="scorm12_package",
        package_title="Prévention des risques professionnels",
        file_name="prevention-risques-scorm12.zip",
        source=EnrollmentSource.ASSIGNED,
        due_in_days=45,
    ),
    PackageCourse(
        slug=FIRST_AID_SCORM,
        title="Premiers secours (SCORM 2004, 3 modules)",
        summary=(
            "Trois modules SCORM 2004 enchaînés — introduction, gestes qui sauvent, évaluation — pour savoir "
            "réagir face à un malaise ou un accident en attendant les secours."
        ),
        description=p(
            "Ce paquet SCORM 2004 contient trois modules que le lecteur présente dans une table des matières : "
            "suivez-les dans l'ordre avec « Suivant » ou choisissez-en un directement.",
            "La formation est terminée quand les trois modules le sont ; le score retenu est la moyenne des trois "
            "modules.",
        ),
        objectives=ul(
            "protéger, alerter, secourir : connaître l'ordre des gestes ;",
            "composer le bon numéro d'urgence et transmettre un message d'alerte clair ;",
            "vérifier ses connaissances par une évaluation.",
        ),
        audience="Tous les agents, en priorité ceux qui accueillent du public",
        theme="Santé et sécurité au travail",
        minutes=30,
        validity_months=None,
        step_title="Parcours interactif : premiers secours",
        package="scorm2004_package",
        package_title="Premiers secours",
        file_name="premiers-secours-scorm2004.zip",
        source=EnrollmentSource.ASSIGNED,
        due_in_days=60,
    ),
)
PACKAGE_COURSES_BY_SLUG = {course.slug: course for course in PACKAGE_COURSES}

WELCOME_CMI5 = "accueil-nouveaux-agents-cmi5"

#: Courses made of a cmi5 course structure (``learning.packages.sample.cmi5_package``: the
#: project's own AUs, which fetch their token, read LMS.LaunchData and report over xAPI).
CMI5_COURSES = (
    PackageCourse(
        slug=WELCOME_CMI5,
        title="Accueil des nouveaux agents (cmi5, 2 unités)",
        summary=(
            "Un cours cmi5 en deux unités — découvrir la collectivité, puis vérifier ses acquis — qui rend "
            "compte de votre parcours au format xAPI, le format des outils auteurs récents."
        ),
        description=p(
            "Chaque unité s'ouvre depuis la page du module et enregistre vos résultats dans votre relevé "
            "d'apprentissage (Mon espace). La première unité est validée quand vous l'avez terminée ; la "
            "seconde demande un score d'au moins 80 %.",
            "La formation est terminée, avec son attestation, quand les deux unités sont validées.",
        ),
        objectives=ul(
            "connaître l'organisation et les services de la collectivité ;",
            "savoir où trouver les informations utiles à son arrivée ;",
            "vérifier ses connaissances par une courte évaluation.",
        ),
        audience="Agents nouvellement recrutés",
        theme="Accueil et intégration",
        minutes=15,
        validity_months=None,
        step_title="Cours cmi5 : accueil des nouveaux agents",
        package="cmi5_package",
        package_title="Accueil des nouveaux agents",
        file_name="accueil-nouveaux-agents-cmi5.zip",
        source=EnrollmentSource.SELF,
        package_options=(
            ("aus", (
                ("Découvrir la collectivité", "Completed", None),
                ("Vérifier ses acquis", "CompletedAndPassed", 0.8),
            )),
            ("block", "Accueil"),
        ),
    ),
)


# --------------------------------------------------------------------------- pages


def _stream(blocks, prefix):
    """Raw StreamField data with stable block ids."""
    data = []
    for number, (block_type, value) in enumerate(blocks, start=1):
        data.append({"type": block_type, "id": f"{prefix}-b{number}", "value": value})
    return data


def question_id(course_slug, number):
    return f"{course_slug}-q{number}"


def choice_id(course_slug, number, choice_number):
    return f"{course_slug}-q{number}-c{choice_number}"


def _questions(course):
    data = []
    for number, question in enumerate(course.questions, start=1):
        value = {
            "prompt": question.prompt,
            "feedback_correct": question.feedback_correct,
            "feedback_incorrect": question.feedback_incorrect,
        }
        if question.kind in ("single_choice", "multiple_choice"):
            value["choices"] = [
                {"type": "item", "id": choice_id(course.slug, number, i), "value": {"text": label, "correct": correct}}
                for i, (label, correct) in enumerate(question.choices, start=1)
            ]
        elif question.kind == "true_false":
            value["answer"] = question.answer
        else:
            value["accepted_answers"] = [
                {"type": "item", "id": f"{question_id(course.slug, number)}-a{i}", "value": accepted}
                for i, accepted in enumerate(question.accepted, start=1)
            ]
        data.append({"type": question.kind, "id": question_id(course.slug, number), "value": value})
    return data


def answers(course, *, right=True):
    """Quiz answers in the API format, all right or all wrong."""
    result = {}
    for number, question in enumerate(course.questions, start=1):
        qid = question_id(course.slug, number)
        if question.kind in ("single_choice", "multiple_choice"):
            wanted = [
                choice_id(course.slug, number, i) for i, (_l, ok) in enumerate(question.choices, start=1) if ok == right
            ]
            result[qid] = wanted[:1] if question.kind == "single_choice" or not right else wanted
        elif question.kind == "true_false":
            result[qid] = [question.answer if right else not question.answer]
        else:
            result[qid] = question.accepted[0] if right else "je ne sais pas"
    return result


def _publish(page):
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def ensure_index(home):
    index = CourseIndexPage.objects.filter(slug=INDEX_SLUG).first()
    if index is None:
        index = CourseIndexPage(
            title="Formations",
            slug=INDEX_SLUG,
            intro=p(
                "Le catalogue des formations en ligne de la Ville : formations obligatoires, prévention, "
                "relation aux usagers, numérique et management. Chaque formation se suit à votre rythme et "
                "se termine par un quiz ; une attestation est délivrée à la réussite."
            ),
        )
        home.add_child(instance=index)
        _publish(index)
    return index


def add_course_page(index, spec, *, self_enrollment):
    """A published course page for ``spec`` under ``index`` (no steps)."""
    course = CoursePage(
        title=spec.title, slug=spec.slug, summary=spec.summary, description=spec.description,
        objectives=spec.objectives, audience=spec.audience, theme=spec.theme, estimated_minutes=spec.minutes,
        self_enrollment=self_enrollment, validity_months=spec.validity_months, certificate=True,
        search_description=spec.summary,
    )
    index.add_child(instance=course)
    _publish(course)
    return course


def ensure_course(index, spec):
    """The course page of ``spec`` under ``index`` (created with its lessons and quiz if missing)."""
    existing = CoursePage.objects.child_of(index).filter(slug=spec.slug).first()
    if existing is not None:
        return existing, False
    course = add_course_page(index, spec, self_enrollment=spec.self_enrollment)
    for lesson in spec.lessons:
        page = LessonPage(
            title=lesson.title,
            slug=lesson.slug,
            estimated_minutes=lesson.minutes,
            body=_stream(lesson.body, f"{spec.slug}-{lesson.slug}"),
        )
        course.add_child(instance=page)
        _publish(page)
    quiz = QuizPage(
        title=spec.quiz_title,
        slug="quiz",
        intro=spec.quiz_intro,
        pass_mark=spec.pass_mark,
        attempt_limit=spec.attempt_limit,
        shuffle=spec.shuffle,
        questions=_questions(spec),
    )
    course.add_child(instance=quiz)
    _publish(quiz)
    return course, True


def ensure_package_course(index, spec, *, user=None):
    """The course page of ``spec`` under ``index`` with its package step, imported from the
    sample zip by ``learning.packages.importer`` (the admin upload's service) when missing:
    ``(course, created)``. A course left without its step (an import that failed) gets it."""
    from learning.packages.importer import import_package

    course = CoursePage.objects.child_of(index).filter(slug=spec.slug).first()
    if course is not None and PackageStepPage.objects.child_of(course).live().exists():
        return course, False
    with transaction.atomic():
        if course is None:
            course = add_course_page(index, spec, self_enrollment=True)
        result = import_package(spec.package_file(), user=user, course=course, title=spec.step_title)
        step = result.step.specific
        if not step.live:  # the importer publishes; the demo makes sure of it
            _publish(step)
    return course, True


def grant_editor_permissions(index):
    """Training editors author courses under the catalogue (page permissions on the index)."""
    group = Group.objects.filter(name=roles.TRAINING_EDITORS).first()
    if group is None:
        return
    page_perms = Permission.objects.filter(
        content_type__app_label="wagtailcore",
        codename__in=[f"{action}_page" for action in EDITOR_PAGE_PERMISSIONS],
    )
    for permission in page_perms:
        GroupPagePermission.objects.get_or_create(group=group, page=index, permission=permission)


# --------------------------------------------------------------------------- enrolments


def _steps(course):
    children = list(course.get_children().live().specific().order_by("path"))
    return [c for c in children if isinstance(c, LessonPage)], next(
        (c for c in children if isinstance(c, QuizPage)), None
    )


def _complete(user, course, spec, *, lessons=None, quiz=True):
    lesson_pages, quiz_page = _steps(course)
    for lesson in lesson_pages[:lessons]:
        services.complete_lesson(user=user, lesson=lesson)
    if quiz and quiz_page is not None:
        services.submit_quiz(user=user, quiz=quiz_page, answers=answers(spec))


def _fail(user, course, spec):
    lesson_pages, quiz_page = _steps(course)
    services.complete_lesson(user=user, lesson=lesson_pages[0])
    for _attempt in range(quiz_page.attempt_limit or 1):
        services.submit_quiz(user=user, quiz=quiz_page, answers=answers(spec, right=False))


class DemoEnrollments:
    """Enrolments of the demo logins, each scenario skipped when already played."""

    def __init__(self, courses, assignments, now):
        self.courses = courses
        self.assignments = assignments
        self.now = now

    def has_any(self, agent, slug):
        return Enrollment.objects.filter(agent=agent, course=self.courses[slug]).exists()

    def enroll(self, agent, slug, *, source=EnrollmentSource.SELF, due_in_days=None):
        assignment = self.assignments.get(slug)
        if (
            assignment is not None
            and assignment.org_unit.path
            and agent.org_unit.path.startswith(assignment.org_unit.path)
        ):
            source = EnrollmentSource.ASSIGNED
        else:
            assignment = None
        due_at = self.now + timedelta(days=due_in_days) if due_in_days is not None else None
        return services.enroll(
            agent=agent, course=self.courses[slug], source=source, due_at=due_at, assignment=assignment
        )[0]

    def completed(self, agent, slug):
        enrollment = self.enroll(agent, slug, due_in_days=RGPD_DUE_IN_DAYS if slug == RGPD else None)
        if enrollment.status != EnrollmentStatus.NOT_STARTED:
            return
        _complete(agent.user, self.courses[slug], COURSES_BY_SLUG[slug])

    def in_progress(self, agent, slug, lessons=1):
        enrollment = self.enroll(agent, slug, due_in_days=RGPD_DUE_IN_DAYS if slug == RGPD else 45)
        if enrollment.status != EnrollmentStatus.NOT_STARTED:
            return
        _complete(agent.user, self.courses[slug], COURSES_BY_SLUG[slug], lessons=lessons, quiz=False)

    def overdue(self, agent, slug, *, days_late, source=EnrollmentSource.SELF):
        if not self.has_any(agent, slug):
            self.enroll(agent, slug, source=source, due_in_days=-days_late)

    def not_started(self, agent, slug, *, due_in_days=None):
        if not self.has_any(agent, slug):
            self.enroll(agent, slug, due_in_days=due_in_days)

    def failed(self, agent, slug):
        if not self.has_any(agent, slug):
            self.enroll(agent, slug, due_in_days=30)
            _fail(agent.user, self.courses[slug], COURSES_BY_SLUG[slug])

    def expired(self, agent, slug):
        """Completed two cycles ago: backdated, then expired by the service (next cycle opens)."""
        if self.has_any(agent, slug):
            return
        self.enroll(agent, slug)
        _complete(agent.user, self.courses[slug], COURSES_BY_SLUG[slug])
        spec = COURSES_BY_SLUG[slug]
        completed_at = self.now - timedelta(days=30 * (spec.validity_months or 12) + 20)
        cycle = Enrollment.objects.filter(agent=agent, course=self.courses[slug], status=EnrollmentStatus.COMPLETED)
        cycle.update(
            started_at=completed_at - timedelta(days=2),
            completed_at=completed_at,
            expires_at=add_months(completed_at, spec.validity_months or 12),
            updated_at=completed_at,
        )
        # The history goes back in time with the dates.
        events = EnrollmentEvent.objects.filter(enrollment__in=cycle)
        events.exclude(to_status=EnrollmentStatus.COMPLETED).update(at=completed_at - timedelta(days=2))
        events.filter(to_status=EnrollmentStatus.COMPLETED).update(at=completed_at)


def seed_demo_users(context, courses, assignments, now):
    play = DemoEnrollments(courses, assignments, now)
    agent = context.agents.get("agent")
    manager = context.agents.get("manager")
    reviewer = context.agents.get("reviewer")
    if agent is not None:
        play.completed(agent, LAICITE)
        play.in_progress(agent, RGPD, lessons=1)
        play.overdue(agent, PREVENTION, days_late=12, source=EnrollmentSource.ASSIGNED)
        play.failed(agent, CYBER)
        play.expired(agent, HANDICAP)
    if manager is not None:
        play.completed(manager, RGPD)
        play.in_progress(manager, MANAGEMENT, lessons=2)
        play.overdue(manager, CYBER, days_late=5, source=EnrollmentSource.APPRAISAL_NEED)
        play.completed(manager, LAICITE)
    if reviewer is not None:
        play.completed(reviewer, MANAGEMENT)
        play.in_progress(reviewer, LAICITE, lessons=2)
        play.not_started(reviewer, HANDICAP, due_in_days=90)


def seed_package_enrollments(context, package_courses, now, *, specs=PACKAGE_COURSES):
    """The demo agent gets the package courses (``specs``), not started, each with the
    source and deadline of its spec (both SCORM courses assigned with a deadline, the cmi5
    one self-enrolled): they show in Mon espace, ready to play."""
    agent = context.agents.get("agent")
    if agent is None:
        return
    for spec in specs:
        course = package_courses[spec.slug]
        if Enrollment.objects.filter(agent=agent, course=course).exists():
            continue
        due_at = now + timedelta(days=spec.due_in_days) if spec.due_in_days is not None else None
        services.enroll(agent=agent, course=course, source=spec.source, due_at=due_at)


# --------------------------------------------------------------------------- bulk


# Share (in %) of each status among the generated agents' enrolments of a fresh assignment.
RGPD_PROFILE = (
    ("completed", 38),
    ("in_progress", 22),
    ("failed", 3),
    ("expired", 5),  # completed last year, now expired: the next cycle is open
    ("not_started", 32),
)
PREVENTION_PROFILE = (
    ("completed", 42),
    ("in_progress", 23),
    ("failed", 2),
    ("not_started", 33),
)
DATE_SLICES = 12  # distinct start/completion dates per status
UPDATE_BATCH = 900  # ids per UPDATE (below SQLite's 999 parameters)


def _slices(items, count):
    """``items`` cut into at most ``count`` consecutive slices of (almost) equal size."""
    size = max(1, -(-len(items) // count))
    return [items[i : i + size] for i in range(0, len(items), size)]


# The history written for a generated status: (from, to, source, at "started" or "completed").
DEMO_HISTORY = {
    EnrollmentStatus.IN_PROGRESS: [(EnrollmentStatus.NOT_STARTED, EnrollmentStatus.IN_PROGRESS, EventSource.LESSON, "started")],
    EnrollmentStatus.FAILED: [
        (EnrollmentStatus.NOT_STARTED, EnrollmentStatus.IN_PROGRESS, EventSource.LESSON, "started"),
        (EnrollmentStatus.IN_PROGRESS, EnrollmentStatus.FAILED, EventSource.QUIZ, "started"),
    ],
    EnrollmentStatus.COMPLETED: [
        (EnrollmentStatus.NOT_STARTED, EnrollmentStatus.IN_PROGRESS, EventSource.LESSON, "started"),
        (EnrollmentStatus.IN_PROGRESS, EnrollmentStatus.COMPLETED, EventSource.QUIZ, "completed"),
    ],
}
for _history in DEMO_HISTORY.values():  # only transitions the enrolment table declares
    assert all(TRANSITIONS.between(before, after) for before, after, _s, _a in _history)


def write_history(rows, *, created_at):
    """The events the actions would have written for ``rows`` whose status the demo set
    directly: one ``INSERT … SELECT`` per status and transition, whatever the number of
    rows (the dates come from the rows' own ``started_at``/``completed_at``). A row gets
    them while no event reaches its status yet; creation events move to ``created_at``."""
    EnrollmentEvent.objects.filter(enrollment__in=rows, from_status="").update(at=created_at)
    table = connection.ops.quote_name(EnrollmentEvent._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in ("enrollment_id", "at", "from_status", "to_status", "source", "note"))
    with connection.cursor() as cursor:
        for status, history in DEMO_HISTORY.items():
            for before, after, source, when in history:
                missing = rows.filter(status=status).exclude(
                    Exists(EnrollmentEvent.objects.filter(enrollment=OuterRef("pk"), to_status=status))
                )
                select = missing.annotate(
                    h_enrollment=F("pk"),
                    h_at=F(f"{when}_at"),
                    h_from=Value(str(before)),
                    h_to=Value(str(after)),
                    h_source=Value(str(source)),
                    h_note=Value(""),
                ).values_list("h_enrollment", "h_at", "h_from", "h_to", "h_source", "h_note")
                sql, params = select.query.sql_with_params()
                cursor.execute(f"INSERT INTO {table} ({columns}) {sql}", params)


def spread_statuses(enrollments, profile, *, now, rng, validity_months=None, started_days_ago=(1, 40)):
    """Give ``enrollments`` (fresh ``not_started`` rows) statuses in the proportions of
    ``profile`` (shares in %), with dates and scores varying over :data:`DATE_SLICES` slices,
    and the matching history (:func:`write_history`, called by the seeder afterwards).

    One query reads the ids; then one UPDATE per slice and per batch of
    :data:`UPDATE_BATCH` ids (primary-key lookups): never a statement per enrolment.
    """
    ids = list(enrollments.order_by("pk").values_list("pk", flat=True))
    rng.shuffle(ids)
    code = Concat(Value("DEMO"), LPad(Cast("id", output_field=CharField()), 8, Value("0")))
    counts, cumulative, start = {}, 0, 0
    for status, share in profile:
        cumulative += share
        end = round(len(ids) * cumulative / 100)
        group, start = ids[start:end], end
        if status == "not_started" or not group:
            continue
        for slice_ids in _slices(group, DATE_SLICES):
            started = now - timedelta(days=rng.randint(*started_days_ago), hours=rng.randint(0, 8))
            if status == "in_progress":
                values = {
                    "status": EnrollmentStatus.IN_PROGRESS,
                    "started_at": started,
                    "progress": rng.choice((0.25, 0.5, 0.75)),
                    "updated_at": started,
                }
            elif status == "failed":
                values = {
                    "status": EnrollmentStatus.FAILED,
                    "started_at": started,
                    "progress": 0.75,
                    "score": float(rng.choice((40, 50, 60))),
                    "updated_at": started,
                }
            else:
                completed = started + timedelta(days=rng.randint(0, 3), hours=rng.randint(1, 5))
                if status == "expired":  # completed one validity period (and a bit) ago
                    completed -= timedelta(days=30 * (validity_months or 12) + 15)
                    started = completed - timedelta(days=2)
                completed = min(completed, now)
                values = {
                    "status": EnrollmentStatus.COMPLETED,
                    "started_at": started,
                    "completed_at": completed,
                    "progress": 1.0,
                    "score": float(rng.choice((80, 80, 100, 100, 100))),
                    "expires_at": add_months(completed, validity_months) if validity_months else None,
                    "certificate_code": code,
                    "updated_at": completed,
                }
            for batch in range(0, len(slice_ids), UPDATE_BATCH):
                Enrollment.objects.filter(pk__in=slice_ids[batch : batch + UPDATE_BATCH]).update(**values)
            counts[status] = counts.get(status, 0) + len(slice_ids)
    return counts


def apply_demo_assignment(*, course, org_unit, due_in_days, categories=(), created_by=None, now):
    """Create and apply an assignment unless it exists; returns (assignment, created)."""
    existing = Assignment.objects.filter(course=course, org_unit=org_unit).first()
    if existing is not None:
        return existing, False
    assignment = services.create_assignment(
        course=course, org_unit=org_unit, due_in_days=due_in_days, categories=categories, created_by=created_by
    )
    services.apply_assignment(assignment=assignment, now=now)
    return assignment, True


def _course_count_line(label, total, created):
    """« catalogue : 12 formations (0 créée) » for the seed's output."""
    return (
        f"  {label} : "
        + ngettext("%(count)s formation", "%(count)s formations", total) % {"count": total}
        + " ("
        + ngettext("%(count)s créée", "%(count)s créées", created) % {"count": created}
        + ")"
    )


def seed_learning(context):
    now = timezone.now()
    rng = context.rng
    home = ensure_home_page()
    index = ensure_index(home)
    grant_editor_permissions(index)
    courses, created_courses = {}, 0
    for spec in COURSES:
        courses[spec.slug], created = ensure_course(index, spec)
        created_courses += created
    context.log(_course_count_line("catalogue", len(courses), created_courses))
    # Two courses made of SCORM packages, imported as an editor's upload would be.
    package_courses, created_packages = {}, 0
    for spec in PACKAGE_COURSES:
        package_courses[spec.slug], created = ensure_package_course(index, spec, user=context.users.get("editor"))
        created_packages += created
    context.log(_course_count_line("modules SCORM", len(package_courses), created_packages))
    # A cmi5 course (two AUs), imported the same way.
    cmi5_courses, created_cmi5 = {}, 0
    for spec in CMI5_COURSES:
        cmi5_courses[spec.slug], created = ensure_package_course(index, spec, user=context.users.get("editor"))
        created_cmi5 += created
    context.log(_course_count_line("cours cmi5", len(cmi5_courses), created_cmi5))

    hr_user = context.users.get("hr")
    demo_agent_ids = [agent.pk for agent in context.agents.values()]
    before = Enrollment.objects.aggregate(m=Max("pk"))["m"] or 0

    # The mandatory RGPD course, assigned to the whole organisation (every root unit).
    assignments, fresh = {}, []
    for root in OrgUnit.get_root_nodes():
        assignment, created = apply_demo_assignment(
            course=courses[RGPD], org_unit=root, due_in_days=RGPD_DUE_IN_DAYS, created_by=hr_user, now=now
        )
        assignments.setdefault(RGPD, assignment)
        if created:
            fresh.append((assignment, RGPD_PROFILE))

    # The demo logins, through the services (real progress, attempts and certificates).
    seed_demo_users(context, courses, assignments, now)
    seed_package_enrollments(context, package_courses, now)
    seed_package_enrollments(context, cmi5_courses, now, specs=CMI5_COURSES)

    # Prevention: category C agents of two directions; the campaign started 50 days ago.
    root = context.org_root or OrgUnit.get_root_nodes().first()
    directions = list(root.get_children().order_by("code")) if root is not None else []
    for direction in rng.sample(directions, min(2, len(directions))):
        assignment, created = apply_demo_assignment(
            course=courses[PREVENTION],
            org_unit=direction,
            due_in_days=PREVENTION_DUE_IN_DAYS,
            categories=["C"],
            created_by=hr_user,
            now=now - timedelta(days=PREVENTION_ASSIGNED_DAYS_AGO),
        )
        if created:
            fresh.append((assignment, PREVENTION_PROFILE))

    # Generated agents: realistic statuses in bulk (the demo logins keep their own story).
    for assignment, profile in fresh:
        generated = Enrollment.objects.filter(assignment=assignment, pk__gt=before).exclude(
            agent_id__in=demo_agent_ids
        )
        is_rgpd = assignment.course_id == courses[RGPD].pk
        started_days_ago = (1, 40) if is_rgpd else (10, PREVENTION_ASSIGNED_DAYS_AGO)
        counts = spread_statuses(
            generated.filter(status=EnrollmentStatus.NOT_STARTED),
            profile,
            now=now,
            rng=rng,
            validity_months=COURSES_BY_SLUG[RGPD if is_rgpd else PREVENTION].validity_months,
            started_days_ago=started_days_ago,
        )
        write_history(generated, created_at=now - timedelta(days=started_days_ago[1] + 1))
        context.log(
            f"  {assignment.course.title} → {assignment.org_unit.code} : "
            + ", ".join(f"{EnrollmentStatus(status).label.lower()} {count}" for status, count in sorted(counts.items()))
        )
    if fresh:
        Assignment.objects.filter(pk__in=[a.pk for a, _p in fresh if a.course_id == courses[PREVENTION].pk]).update(
            created_at=now - timedelta(days=PREVENTION_ASSIGNED_DAYS_AGO)
        )

    # Completed cycles past their validity expire; the recurring ones open their next cycle.
    expired = services.expire_enrollments(now=now)
    if expired:
        context.log(f"  {expired} attestations expirées, nouveau cycle ouvert")
    total = Enrollment.objects.filter(pk__gt=before).count()
    context.log(f"  {total} inscriptions créées")
    return {
        "courses": courses,
        "package_courses": package_courses,
        "cmi5_courses": cmi5_courses,
        "assignments": assignments,
        "enrollments_created": total,
    }
