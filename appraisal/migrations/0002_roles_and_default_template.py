"""Appraisal roles and the default template.

* HR edits the appraisal templates (snippet) and the campaigns in the Wagtail admin
  (add / change / view, never delete) and reads every appraisal
  (``appraisal.view_all_appraisals``, each read of someone else's report being logged).
* The default compte rendu template (décret n° 2014-1526), created unless a template of that
  name exists. Historical models only: the sections are the raw StreamField JSON of
  ``appraisal.defaults.default_sections()``, copied here because a migration must not import
  the current models (``appraisal.defaults`` does). The template has no revision yet: the
  first launch of a campaign saves one (``services.freeze_template``), as does the first
  edit in the admin.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

HR_GROUP = "HR"
HR_PERMISSIONS = [
    ("appraisaltemplate", ["add", "change", "view"]),
    ("campaign", ["add", "change", "view"]),
]
HR_EXTRA_PERMISSIONS = ["view_all_appraisals"]

DEFAULT_TEMPLATE_NAME = "Entretien professionnel annuel (modèle par défaut)"
DEFAULT_TEMPLATE_DESCRIPTION = "Conforme au décret n° 2014-1526."

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


def _section(sid, kind, title, help_text="", **extra):
    return {"type": kind, "id": sid, "value": {"title": title, "help_text": help_text, **extra}}


def default_sections():
    """A frozen copy of ``appraisal.defaults.default_sections()`` (same ids, same texts)."""
    return [
        _section("sec-results", "results", "Résultats professionnels au regard des objectifs de l'année écoulée",
                 "Pour chaque objectif fixé l'an dernier : résultat et commentaire."),
        _section("sec-criteria", "criteria_grid", "Appréciation de la valeur professionnelle",
                 "Critères fixés par l'employeur, appréciés sans note chiffrée.",
                 scale=_items(SCALE), criteria=_items(CRITERIA), comment=True),
        _section("sec-service", "free_text", "Manière de servir", "Comportement professionnel, sens du service public.",
                 required=True),
        _section("sec-experience", "free_text", "Acquis de l'expérience professionnelle",
                 "Compétences acquises au cours de l'année.", required=False),
        _section("sec-management", "free_text", "Capacités d'encadrement ou d'expertise",
                 "Le cas échéant, pour les agents qui encadrent ou exercent des fonctions d'expertise.", required=False),
        _section("sec-objectives", "objectives", "Objectifs assignés pour l'année à venir",
                 "Objectifs individuels et collectifs, perspectives d'amélioration des résultats."),
        _section("sec-training", "training_needs", "Besoins de formation",
                 "Au regard des missions, des compétences à acquérir et des projets de l'agent (préparation aux concours…)."),
        _section("sec-career", "career", "Perspectives d'évolution professionnelle et de mobilité",
                 "Souhaits d'évolution en termes de carrière et de mobilité."),
        _section("sec-overall", "overall", "Appréciation générale littérale",
                 "Obligatoire. Exprime la valeur professionnelle de l'agent ; aucune note."),
        _section("sec-observations", "agent_observations", "Observations de l'agent",
                 "Sur la conduite de l'entretien, les différents sujets abordés et le compte rendu."),
    ]


def grant(apps, schema_editor):
    # On a fresh database the permissions do not exist yet (post_migrate creates them).
    app_config = apps.get_app_config("appraisal")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    hr, _created = Group.objects.get_or_create(name=HR_GROUP)
    codenames = [f"{action}_{model}" for model, actions in HR_PERMISSIONS for action in actions]
    codenames += HR_EXTRA_PERMISSIONS
    hr.permissions.add(*Permission.objects.filter(content_type__app_label="appraisal", codename__in=codenames))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    hr = Group.objects.filter(name=HR_GROUP).first()
    if hr is None:
        return
    codenames = [f"{action}_{model}" for model, actions in HR_PERMISSIONS for action in actions]
    codenames += HR_EXTRA_PERMISSIONS
    hr.permissions.remove(*Permission.objects.filter(content_type__app_label="appraisal", codename__in=codenames))


def create_default_template(apps, schema_editor):
    AppraisalTemplate = apps.get_model("appraisal", "AppraisalTemplate")
    if AppraisalTemplate.objects.filter(name=DEFAULT_TEMPLATE_NAME).exists():
        return
    AppraisalTemplate.objects.create(
        name=DEFAULT_TEMPLATE_NAME, description=DEFAULT_TEMPLATE_DESCRIPTION, sections=default_sections()
    )


class Migration(migrations.Migration):

    dependencies = [
        ("appraisal", "0001_initial"),
        ("cms", "0002_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(grant, revoke),
        # Reversing keeps the template: campaigns may refer to it.
        migrations.RunPython(create_default_template, migrations.RunPython.noop),
    ]
