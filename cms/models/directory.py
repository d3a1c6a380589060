"""The organisation directory: the org chart (OrgUnit tree) and agent profiles."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node

from cms.choices import Category, EmploymentStatus, OrgUnitKind


class OrgUnit(MP_Node):
    """A node of the org chart: direction → (sous-direction) → service → bureau."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("nom"), max_length=255)
    kind = models.CharField(_("type"), max_length=20, choices=OrgUnitKind.choices, default=OrgUnitKind.SERVICE)

    node_order_by = ["code"]

    class Meta:
        verbose_name = _("unité organisationnelle")
        verbose_name_plural = _("unités organisationnelles")
        ordering = ["path"]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def subtree_q(self, prefix=""):
        """A Q filter matching this unit and every unit below it (one index range scan)."""
        return Q(**{f"{prefix}path__startswith": self.path})


class AgentQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def in_subtree(self, org_unit):
        return self.filter(org_unit__path__startswith=org_unit.path)


class Agent(models.Model):
    """A civil servant's HR profile, one-to-one with the login account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent", verbose_name=_("compte")
    )
    employee_number = models.CharField(_("matricule"), max_length=32, unique=True)
    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="agents", verbose_name=_("unité")
    )
    manager = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="direct_reports",
        verbose_name=_("responsable hiérarchique (N+1)"),
    )
    job_title = models.CharField(_("intitulé du poste"), max_length=255, blank=True)
    category = models.CharField(_("catégorie"), max_length=1, choices=Category.choices, blank=True)
    corps = models.CharField(_("corps ou cadre d'emplois"), max_length=255, blank=True)
    grade = models.CharField(_("grade"), max_length=255, blank=True)
    employment_status = models.CharField(
        _("statut"), max_length=20, choices=EmploymentStatus.choices, default=EmploymentStatus.TITULAIRE
    )
    active = models.BooleanField(_("actif"), default=True)
    updated_at = models.DateTimeField(_("mis à jour le"), auto_now=True, db_index=True)

    objects = AgentQuerySet.as_manager()

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ["user__last_name", "user__first_name"]
        constraints = [
            models.CheckConstraint(condition=~Q(manager=models.F("pk")), name="agent_not_own_manager"),
        ]
        indexes = [models.Index(fields=["org_unit", "active"])]

    def __str__(self):
        return f"{self.full_name} ({self.employee_number})"

    @property
    def full_name(self):
        return self.user.get_full_name() or self.user.get_username()

    @property
    def email(self):
        return self.user.email

    @property
    def n_plus_1(self):
        """The direct manager (N+1), or None."""
        return self.manager

    @property
    def n_plus_2(self):
        """The manager's manager (N+2, usually the authority that puts the visa), or None."""
        return self.manager.manager if self.manager_id else None

    def manager_chain(self, max_depth=50):
        """Managers from N+1 upwards. Bounded, so that a corrupt cycle cannot hang a request."""
        chain, current, seen = [], self.manager, {self.pk}
        while current is not None and current.pk not in seen and len(chain) < max_depth:
            chain.append(current)
            seen.add(current.pk)
            current = current.manager
        return chain
