"""Sections of an appraisal template (compte rendu d'entretien professionnel).

Each section is a StreamField block; its block id names the answers of that section in
``Appraisal.answers``. Criteria and scale levels are ListBlock items, named by their ids.
"""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks


class _Section(blocks.StructBlock):
    title = blocks.CharBlock(label=_("titre de la section"))
    help_text = blocks.TextBlock(required=False, label=_("consigne"))


class ResultsSection(_Section):
    """Results against last year's objectives (carried over objectives are listed)."""

    class Meta:
        label = _("Résultats au regard des objectifs de l'année écoulée")
        icon = "tick"


class ObjectivesSection(_Section):
    class Meta:
        label = _("Objectifs pour l'année à venir")
        icon = "pick"


class LevelBlock(blocks.StructBlock):
    label = blocks.CharBlock(label=_("libellé du niveau"))
    description = blocks.TextBlock(required=False, label=_("description"))


class CriterionBlock(blocks.StructBlock):
    label = blocks.CharBlock(label=_("critère"))
    description = blocks.TextBlock(required=False, label=_("description"))


class CriteriaGridSection(_Section):
    """A grid of criteria, each appreciated on the employer's scale (no numeric grade)."""

    scale = blocks.ListBlock(LevelBlock(), min_num=2, label=_("échelle d'appréciation"))
    criteria = blocks.ListBlock(CriterionBlock(), min_num=1, label=_("critères"))
    comment = blocks.BooleanBlock(required=False, default=True, label=_("commentaire par critère"))

    class Meta:
        label = _("Grille de critères")
        icon = "table"


class FreeTextSection(_Section):
    """One of the legal themes as free text (manière de servir, acquis de l'expérience…)."""

    required = blocks.BooleanBlock(required=False, label=_("obligatoire pour notifier"))

    class Meta:
        label = _("Thème (texte libre)")
        icon = "doc-full"


class TrainingNeedsSection(_Section):
    class Meta:
        label = _("Besoins de formation")
        icon = "group"


class CareerSection(_Section):
    class Meta:
        label = _("Perspectives de carrière et de mobilité")
        icon = "arrow-right"


class OverallSection(_Section):
    """Overall written appraisal: required, never a grade."""

    class Meta:
        label = _("Appréciation générale littérale")
        icon = "openquote"


class AgentObservationsSection(_Section):
    class Meta:
        label = _("Observations de l'agent")
        icon = "user"


class TemplateSectionsBlock(blocks.StreamBlock):
    results = ResultsSection()
    objectives = ObjectivesSection()
    criteria_grid = CriteriaGridSection()
    free_text = FreeTextSection()
    training_needs = TrainingNeedsSection()
    career = CareerSection()
    overall = OverallSection()
    agent_observations = AgentObservationsSection()

    class Meta:
        block_counts = {"overall": {"min_num": 1, "max_num": 1}, "agent_observations": {"max_num": 1}}
