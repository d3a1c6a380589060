from django.db import models
from django.utils.translation import gettext_lazy as _


class AppraisalState(models.TextChoices):
    CREATED = "created", _("À convoquer")
    CONVOKED = "convoked", _("Convoqué")
    HELD = "held", _("Entretien tenu")
    NOTIFIED = "notified", _("Compte rendu notifié")
    ACKNOWLEDGED = "acknowledged", _("Pris connaissance")
    FINAL = "final", _("Visé (définitif)")
    CANCELLED = "cancelled", _("Annulé")


class RevisionState(models.TextChoices):
    """The revision overlay (demande de révision, then CAP)."""

    NONE = "", _("Aucune")
    REQUESTED = "requested", _("Révision demandée")
    ACCEPTED = "accepted", _("Révision acceptée")
    REJECTED = "rejected", _("Révision refusée")
    IMPLICITLY_REJECTED = "implicitly_rejected", _("Refus implicite (sans réponse sous 15 jours)")
    CAP_REFERRED = "cap_referred", _("CAP saisie")
    CAP_OPINION = "cap_opinion", _("Avis de la CAP rendu")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    LAUNCHING = "launching", _("Lancement en cours")
    RUNNING = "running", _("En cours")
    CLOSED = "closed", _("Clôturée")


class ObjectiveStatus(models.TextChoices):
    OPEN = "open", _("En cours")
    ACHIEVED = "achieved", _("Atteint")
    PARTIALLY = "partially", _("Partiellement atteint")
    NOT_ACHIEVED = "not_achieved", _("Non atteint")
    ABANDONED = "abandoned", _("Abandonné")
