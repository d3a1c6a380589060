"""The default template of the compte rendu d'entretien professionnel (décret n° 2014-1526
for the fonction publique territoriale): the sections the law lists, in its order."""

from django.db import transaction

from appraisal.models import AppraisalTemplate

DEFAULT_TEMPLATE_NAME = "Entretien professionnel annuel (modèle par défaut)"

SCALE = [
    ("lvl-1", "À acquérir", "Le niveau attendu n'est pas atteint."),
    ("lvl-2", "À développer", "Le niveau attendu est partiellement atteint."),
    ("lvl-3", "Maîtrise", "Le niveau attendu est atteint."),
    ("lvl-4", "Expertise", "Le niveau attendu est dépassé ; l'agent peut transmettre."),
]
CRITERIA = [
    ("crit-results", "Résultats professionnels obtenus", "Efficacité dans l'emploi et réalisation des objectifs."),
    ("crit-skills", "Compétences professionnelles et techniques", "Connaissances, savoir-faire, adaptation."),
    ("crit-relational", "Qualités relationnelles", "Travail en équipe, relations avec les usagers."),
    ("crit-management", "Capacité d'encadrement ou d'expertise", "Ou, le cas échéant, aptitude à exercer des fonctions supérieures."),
]


def _items(rows):
    return [{"type": "item", "id": rid, "value": {"label": label, "description": desc}} for rid, label, desc in rows]


def default_sections():
    def section(sid, kind, title, help_text="", **extra):
        return {"type": kind, "id": sid, "value": {"title": title, "help_text": help_text, **extra}}

    return [
        section("sec-results", "results", "Résultats professionnels au regard des objectifs de l'année écoulée",
                "Pour chaque objectif fixé l'an dernier : résultat et commentaire."),
        section("sec-criteria", "criteria_grid", "Appréciation de la valeur professionnelle",
                "Critères fixés par l'employeur, appréciés sans note chiffrée.",
                scale=_items(SCALE), criteria=_items(CRITERIA), comment=True),
        section("sec-service", "free_text", "Manière de servir", "Comportement professionnel, sens du service public.",
                required=True),
        section("sec-experience", "free_text", "Acquis de l'expérience professionnelle",
                "Compétences acquises au cours de l'année.", required=False),
        section("sec-management", "free_text", "Capacités d'encadrement ou d'expertise",
                "Le cas échéant, pour les agents qui encadrent ou exercent des fonctions d'expertise.", required=False),
        section("sec-objectives", "objectives", "Objectifs assignés pour l'année à venir",
                "Objectifs individuels et collectifs, perspectives d'amélioration des résultats."),
        section("sec-training", "training_needs", "Besoins de formation",
                "Au regard des missions, des compétences à acquérir et des projets de l'agent (préparation aux concours…)."),
        section("sec-career", "career", "Perspectives d'évolution professionnelle et de mobilité",
                "Souhaits d'évolution en termes de carrière et de mobilité."),
        section("sec-overall", "overall", "Appréciation générale littérale",
                "Obligatoire. Exprime la valeur professionnelle de l'agent ; aucune note."),
        section("sec-observations", "agent_observations", "Observations de l'agent",
                "Sur la conduite de l'entretien, les différents sujets abordés et le compte rendu."),
    ]


@transaction.atomic
def ensure_default_template():
    template = AppraisalTemplate.objects.filter(name=DEFAULT_TEMPLATE_NAME).first()
    if template is None:
        template = AppraisalTemplate(name=DEFAULT_TEMPLATE_NAME, description="Conforme au décret n° 2014-1526.")
        template.sections = default_sections()
        template.save()
        template.save_revision()
    return template
