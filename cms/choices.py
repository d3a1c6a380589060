from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgUnitKind(models.TextChoices):
    DIRECTION = "direction", _("Direction")
    SOUS_DIRECTION = "sous_direction", _("Sous-direction")
    SERVICE = "service", _("Service")
    BUREAU = "bureau", _("Bureau")
    OTHER = "other", _("Autre")


class Category(models.TextChoices):
    A = "A", _("Catégorie A")
    B = "B", _("Catégorie B")
    C = "C", _("Catégorie C")


class EmploymentStatus(models.TextChoices):
    TITULAIRE = "titulaire", _("Titulaire")
    CONTRACTUEL = "contractuel", _("Contractuel")
