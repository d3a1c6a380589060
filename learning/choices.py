from django.db import models
from django.utils.translation import gettext_lazy as _


class EnrollmentStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Non commencé")
    IN_PROGRESS = "in_progress", _("En cours")
    COMPLETED = "completed", _("Terminé")
    FAILED = "failed", _("Échoué")
    EXPIRED = "expired", _("Expiré")


# An "open" enrolment is the agent's current cycle for a course: at most one per course.
OPEN_STATUSES = [EnrollmentStatus.NOT_STARTED, EnrollmentStatus.IN_PROGRESS, EnrollmentStatus.COMPLETED]


class EnrollmentSource(models.TextChoices):
    SELF = "self", _("Inscription volontaire")
    ASSIGNED = "assigned", _("Formation assignée")
    APPRAISAL_NEED = "appraisal_need", _("Besoin issu de l'entretien professionnel")


class EventSource(models.TextChoices):
    """What caused an enrolment's status change (``EnrollmentEvent.source``)."""

    SELF = "self", _("Inscription volontaire")
    ASSIGNMENT = "assignment", _("Assignation")
    IMPORT = "import", _("Import des agents")
    APPRAISAL = "appraisal", _("Entretien professionnel")
    LESSON = "lesson", _("Leçon")
    QUIZ = "quiz", _("Quiz")
    PACKAGE = "package", _("Module SCORM")
    EXPIRY = "expiry", _("Expiration")
    XAPI = "xapi", _("Déclaration xAPI")
    HR_GRANT = "hr_grant", _("Nouvelle inscription accordée")


class ReminderKind(models.TextChoices):
    DUE_SOON = "due_soon", _("Échéance dans 7 jours")
    OVERDUE = "overdue", _("En retard")
    EXPIRING = "expiring", _("Expire dans 30 jours")
    MANAGER_DIGEST = "manager_digest", _("Récapitulatif hebdomadaire des retards")


class PackageStandard(models.TextChoices):
    """The standard a content package follows (detected from its manifest)."""

    SCORM12 = "scorm12", _("SCORM 1.2")
    SCORM2004 = "scorm2004", _("SCORM 2004")
    CMI5 = "cmi5", _("cmi5")


class AttemptStatus(models.TextChoices):
    """Where a package attempt stands (rolled up from its SCOs by learning/packages/runtime.py).

    ``completed``: every SCO completed and none failed, without a pass/fail verdict;
    ``passed``: completed and satisfied (mastery score reached); ``failed``: a SCO ended
    failed; ``reset``: voided by HR (kept for the record, never counted)."""

    IN_PROGRESS = "in_progress", _("En cours")
    COMPLETED = "completed", _("Terminée")
    PASSED = "passed", _("Réussie")
    FAILED = "failed", _("Échouée")
    RESET = "reset", _("Réinitialisée")


#: Attempt statuses that make the package step done.
DONE_ATTEMPT_STATUSES = (AttemptStatus.COMPLETED, AttemptStatus.PASSED)
