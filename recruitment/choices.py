from django.db import models
from django.utils.translation import gettext_lazy as _


class ApplicationStatus(models.TextChoices):
    RECEIVED = "received", _("Reçue")
    ADMISSIBILITY = "admissibility", _("Recevabilité")
    SCREENING = "screening", _("Présélection")
    SHORTLISTED = "shortlisted", _("Retenue")
    INTERVIEW = "interview", _("Entretien")
    DECISION = "decision", _("Décision")
    OFFER = "offer", _("Proposition")
    HIRED = "hired", _("Recrutée")
    REJECTED = "rejected", _("Non retenue")
    WITHDRAWN = "withdrawn", _("Retirée")
    OFFER_DECLINED = "offer_declined", _("Proposition déclinée")
    CANCELLED = "cancelled", _("Annulée")


PIPELINE = [
    ApplicationStatus.RECEIVED,
    ApplicationStatus.ADMISSIBILITY,
    ApplicationStatus.SCREENING,
    ApplicationStatus.SHORTLISTED,
    ApplicationStatus.INTERVIEW,
    ApplicationStatus.DECISION,
    ApplicationStatus.OFFER,
    ApplicationStatus.HIRED,
]
TERMINAL = [
    ApplicationStatus.HIRED,
    ApplicationStatus.REJECTED,
    ApplicationStatus.WITHDRAWN,
    ApplicationStatus.OFFER_DECLINED,
    ApplicationStatus.CANCELLED,
]
ACTIVE = [s for s in PIPELINE if s not in TERMINAL]


class OpeningState(models.TextChoices):
    OPEN = "open", _("Ouverte")
    FILLED = "filled", _("Pourvue")
    CANCELLED = "cancelled", _("Annulée")
    #: The application deadline passed (written by ``CloseOpening`` without a user, daily and
    #: on read): no more applications, but the recruitment goes on (moves are still allowed).
    APPLICATIONS_CLOSED = "applications_closed", _("Candidatures closes")


#: The states of an opening in which its applications still move.
MOVABLE_STATES = frozenset({OpeningState.OPEN, OpeningState.APPLICATIONS_CLOSED})


class EmploymentType(models.TextChoices):
    """schema.org JobPosting employmentType values."""

    FULL_TIME = "FULL_TIME", _("Temps complet")
    PART_TIME = "PART_TIME", _("Temps partiel")
    TEMPORARY = "TEMPORARY", _("Temporaire")
    INTERN = "INTERN", _("Stage / apprentissage")


class Recommendation(models.TextChoices):
    STRONG_YES = "strong_yes", _("Très favorable")
    YES = "yes", _("Favorable")
    NO = "no", _("Défavorable")
    STRONG_NO = "strong_no", _("Très défavorable")


class MessageKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", _("Accusé de réception")
    INTERVIEW = "interview", _("Invitation à un entretien")
    REJECTION = "rejection", _("Réponse négative")
    OFFER = "offer", _("Proposition")
