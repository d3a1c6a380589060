"""Roles are Django groups created by a data migration. "Manager" is not a group: it is
derived from the org chart (an agent with direct reports)."""

from django.utils.translation import gettext_lazy as _

HR = "HR"
TRAINING_EDITORS = "Training editors"
RECRUITERS = "Recruiters"
INTERVIEWERS = "Interviewers"

GROUPS = [HR, TRAINING_EDITORS, RECRUITERS, INTERVIEWERS]
LABELS = {
    HR: _("Ressources humaines"),
    TRAINING_EDITORS: _("Éditeurs de formation"),
    RECRUITERS: _("Recruteurs"),
    INTERVIEWERS: _("Membres de jury"),
    "manager": _("Encadrant"),
}
# Which roles may open the Wagtail admin.
ADMIN_ROLES = [HR, TRAINING_EDITORS, RECRUITERS, INTERVIEWERS]  # interviewers: their scorecards
