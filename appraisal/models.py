"""Annual appraisal (entretien professionnel): templates, campaigns, appraisals, objectives,
append-only transition log and HR access log. Data and invariants only: the workflow is
declared in appraisal/workflow.py and run by appraisal/actions.py, every other write is in
appraisal/services.py."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import PreviewableMixin, RevisionMixin
from wagtail.search import index

from appraisal.blocks import TemplateSectionsBlock
from appraisal.choices import AppraisalState, CampaignStatus, ObjectiveStatus, RevisionState
from cms.storage import private_storage


class AppraisalTemplate(PreviewableMixin, RevisionMixin, index.Indexed, models.Model):
    """The form of the compte rendu, edited by HR as a snippet with revisions and preview."""

    name = models.CharField(_("nom"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    sections = StreamField(TemplateSectionsBlock(), verbose_name=_("sections"))
    updated_at = models.DateTimeField(_("mis à jour le"), auto_now=True)

    panels = [FieldPanel("name"), FieldPanel("description"), FieldPanel("sections")]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        verbose_name = _("modèle de compte rendu")
        verbose_name_plural = _("modèles de compte rendu")

    def __str__(self):
        return self.name

    def get_preview_template(self, request, mode_name):
        return "appraisal/template_preview.html"


class Campaign(models.Model):
    name = models.CharField(_("nom"), max_length=255)
    year = models.PositiveIntegerField(_("année"))
    template = models.ForeignKey(AppraisalTemplate, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("modèle"))
    template_revision = models.ForeignKey(
        "wagtailcore.Revision", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("version figée du modèle"),
    )
    template_snapshot = models.JSONField(_("sections figées"), default=list, blank=True, editable=False)
    org_units = models.ManyToManyField("cms.OrgUnit", related_name="campaigns", verbose_name=_("unités (et leurs sous-unités)"))
    categories = models.JSONField(_("catégories"), default=list, blank=True, help_text=_("Vide : toutes."))
    starts_on = models.DateField(_("début de la campagne"))
    interviews_until = models.DateField(_("date limite des entretiens"))
    ends_on = models.DateField(_("clôture de la campagne"))
    notice_days = models.PositiveSmallIntegerField(_("délai de convocation (jours)"), default=8)
    agent_return_days = models.PositiveSmallIntegerField(_("délai de retour de l'agent (jours)"), default=15)
    notification_limit_days = models.PositiveSmallIntegerField(_("délai de notification (jours)"), default=15)
    revision_window_days = models.PositiveSmallIntegerField(_("délai de demande de révision (jours francs)"), default=15)
    revision_answer_days = models.PositiveSmallIntegerField(_("délai de réponse à la révision (jours)"), default=15)
    cap_referral_months = models.PositiveSmallIntegerField(_("délai de saisine de la CAP (mois)"), default=1)
    status = models.CharField(_("statut"), max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    launched_at = models.DateTimeField(_("lancée le"), null=True, blank=True)
    launch_progress = models.FloatField(_("avancement du lancement"), default=0.0)
    launch_report = models.JSONField(_("rapport de lancement"), default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    panels = [
        FieldPanel("name"),
        FieldPanel("year"),
        FieldPanel("template"),
        MultiFieldPanel([FieldPanel("org_units"), FieldPanel("categories")], heading=_("Population")),
        MultiFieldPanel([FieldPanel("starts_on"), FieldPanel("interviews_until"), FieldPanel("ends_on")], heading=_("Dates")),
        MultiFieldPanel(
            [
                FieldPanel("notice_days"),
                FieldPanel("agent_return_days"),
                FieldPanel("notification_limit_days"),
                FieldPanel("revision_window_days"),
                FieldPanel("revision_answer_days"),
                FieldPanel("cap_referral_months"),
            ],
            heading=_("Délais"),
        ),
    ]

    class Meta:
        verbose_name = _("campagne")
        verbose_name_plural = _("campagnes")
        ordering = ["-year", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(starts_on__lte=models.F("interviews_until")), name="campaign_dates_order_1"),
            models.CheckConstraint(condition=Q(interviews_until__lte=models.F("ends_on")), name="campaign_dates_order_2"),
        ]

    def __str__(self):
        return f"{self.name} ({self.year})"


class Appraisal(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="appraisals", verbose_name=_("campagne"))
    agent = models.ForeignKey("cms.Agent", on_delete=models.PROTECT, related_name="appraisals", verbose_name=_("agent"))
    evaluator = models.ForeignKey(
        "cms.Agent", on_delete=models.PROTECT, related_name="appraisals_as_evaluator", verbose_name=_("évaluateur (N+1)")
    )
    delegated_from = models.ForeignKey(
        "cms.Agent", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("N+1 d'origine")
    )
    delegation_reason = models.TextField(_("motif de la délégation"), blank=True)
    reviewer = models.ForeignKey(
        "cms.Agent", null=True, blank=True, on_delete=models.PROTECT, related_name="appraisals_as_reviewer",
        verbose_name=_("autorité hiérarchique (N+2)"),
    )
    state = models.CharField(_("état"), max_length=20, choices=AppraisalState.choices, default=AppraisalState.CREATED)
    revision_state = models.CharField(
        _("révision"), max_length=30, choices=RevisionState.choices, default=RevisionState.NONE, blank=True
    )
    interview_at = models.DateTimeField(_("date de l'entretien"), null=True, blank=True)
    interview_place = models.CharField(_("lieu de l'entretien"), max_length=255, blank=True)
    convoked_at = models.DateTimeField(_("convoqué le"), null=True, blank=True)
    held_at = models.DateTimeField(_("entretien tenu le"), null=True, blank=True)
    answers = models.JSONField(_("contenu du compte rendu"), default=dict, blank=True)
    observations = models.TextField(_("observations de l'agent"), blank=True)
    notified_at = models.DateTimeField(_("notifié le"), null=True, blank=True)
    evaluator_signed_at = models.DateTimeField(_("signé par l'évaluateur le"), null=True, blank=True)
    agent_signed_at = models.DateTimeField(_("signé par l'agent le"), null=True, blank=True)
    refusal_recorded_at = models.DateTimeField(_("refus ou absence de signature constaté le"), null=True, blank=True)
    refusal_reason = models.TextField(_("motif du refus"), blank=True)
    visa_at = models.DateTimeField(_("visé le"), null=True, blank=True)
    cancelled_reason = models.TextField(_("motif d'annulation"), blank=True)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    content_hash = models.CharField(_("empreinte (SHA-256)"), max_length=64, blank=True)
    revision_requested_at = models.DateTimeField(null=True, blank=True)
    revision_request = models.TextField(_("demande de révision"), blank=True)
    revision_answered_at = models.DateTimeField(null=True, blank=True)
    revision_answer = models.TextField(_("réponse à la demande de révision"), blank=True)
    cap_referred_at = models.DateTimeField(_("CAP saisie le"), null=True, blank=True)
    cap_opinion = models.TextField(_("avis de la CAP"), blank=True)
    cap_opinion_at = models.DateTimeField(null=True, blank=True)
    pdf = models.FileField(_("compte rendu archivé (PDF)"), storage=private_storage, upload_to="appraisals/%Y/", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("entretien professionnel")
        verbose_name_plural = _("entretiens professionnels")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "agent"], condition=~Q(state=AppraisalState.CANCELLED), name="one_appraisal_per_campaign"
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "state"]),
            models.Index(fields=["evaluator", "state"]),
            models.Index(fields=["reviewer", "state"]),
        ]
        permissions = [("view_all_appraisals", _("Voir tous les entretiens (RH), accès journalisé"))]

    def __str__(self):
        return f"{self.campaign_id} / {self.agent_id} ({self.state})"


class AppraisalVersion(models.Model):
    """A frozen, hashed copy of the report at each notification. Never updated: a correction
    after a revision is a new version linked to the previous one."""

    appraisal = models.ForeignKey(Appraisal, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField(_("version"))
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_version"
    )
    answers = models.JSONField(_("contenu"))
    objectives = models.JSONField(_("objectifs"), default=list)
    content_hash = models.CharField(_("empreinte (SHA-256)"), max_length=64)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(_("signé le"))

    class Meta:
        verbose_name = _("version du compte rendu")
        constraints = [models.UniqueConstraint(fields=["appraisal", "number"], name="appraisal_version_unique")]

    def __str__(self):
        return f"{self.appraisal_id} v{self.number}"


class Objective(models.Model):
    """An objective set in one appraisal, assessed in the next one (carried over)."""

    agent = models.ForeignKey("cms.Agent", on_delete=models.CASCADE, related_name="objectives")
    set_in = models.ForeignKey(Appraisal, on_delete=models.CASCADE, related_name="objectives_set", verbose_name=_("fixé lors de"))
    assessed_in = models.ForeignKey(
        Appraisal, null=True, blank=True, on_delete=models.SET_NULL, related_name="objectives_assessed",
        verbose_name=_("évalué lors de"),
    )
    carried_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    title = models.CharField(_("objectif"), max_length=500)
    indicators = models.TextField(_("indicateurs"), blank=True)
    due_on = models.DateField(_("échéance"), null=True, blank=True)
    status = models.CharField(_("résultat"), max_length=20, choices=ObjectiveStatus.choices, default=ObjectiveStatus.OPEN)
    result_comment = models.TextField(_("commentaire sur le résultat"), blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("objectif")
        ordering = ["position", "pk"]

    def __str__(self):
        return self.title


class AppraisalTransition(models.Model):
    """Append-only log of every workflow action (who, on behalf of whom, when, hash; for a
    delegation, the evaluator before and after, the reason being the note)."""

    appraisal = models.ForeignKey(Appraisal, on_delete=models.PROTECT, related_name="transitions")
    action = models.CharField(_("action"), max_length=30)
    from_state = models.CharField(_("de"), max_length=30)
    to_state = models.CharField(_("vers"), max_length=30)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    on_behalf_of = models.ForeignKey("cms.Agent", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Delegation rows: the evaluator before and after (the actor may be either, or HR).
    from_evaluator = models.ForeignKey(
        "cms.Agent", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("évaluateur précédent"),
    )
    to_evaluator = models.ForeignKey(
        "cms.Agent", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("nouvel évaluateur"),
    )
    at = models.DateTimeField(_("le"))
    note = models.TextField(_("note"), blank=True)
    version = models.PositiveSmallIntegerField(default=1)
    content_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("transition")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.appraisal_id}: {self.from_state} → {self.to_state}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("AppraisalTransition is append-only")
        super().save(*args, **kwargs)


class AppraisalAccessLog(models.Model):
    """Every time HR (or a holder of view_all_appraisals) reads someone else's report."""

    appraisal = models.ForeignKey(Appraisal, on_delete=models.PROTECT, related_name="access_logs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    channel = models.CharField(max_length=20)  # web, api, pdf, export

    class Meta:
        verbose_name = _("consultation RH")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.user_id} → {self.appraisal_id} ({self.channel})"
