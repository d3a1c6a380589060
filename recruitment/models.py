"""Recruitment: openings (Wagtail pages), the state of their recruitment, candidates,
applications, interviews, scorecards, an append-only event log and message templates.
Data and invariants only: moves live in recruitment/actions.py (declared in
recruitment/workflow.py), messages in recruitment/services.py, what the job pages show in
recruitment/pages.py."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page
from wagtail.search import index
from wagtail.snippets.models import register_snippet

from cms.choices import Category
from cms.storage import private_storage
from recruitment import messages
from recruitment.choices import ApplicationStatus, EmploymentType, MessageKind, OpeningState, Recommendation
from recruitment.page_forms import JobOpeningForm, RecruitersWidget


class JobIndexPage(Page):
    intro = RichTextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["recruitment.JobOpeningPage"]
    parent_page_types = ["cms.HomePage", "cms.ContentPage"]

    class Meta:
        verbose_name = _("liste des offres d'emploi")

    def get_context(self, request, *args, **kwargs):
        from recruitment.pages import job_index_context

        context = super().get_context(request, *args, **kwargs)
        context.update(job_index_context(request, self))
        return context


class JobOpeningPage(Page):
    """A French public-sector job notice (fiche de poste / avis de vacance)."""

    reference = models.CharField(_("référence"), max_length=40, unique=True)
    org_unit = models.ForeignKey("cms.OrgUnit", on_delete=models.PROTECT, related_name="openings", verbose_name=_("direction / service"))
    category = models.CharField(_("catégorie"), max_length=1, choices=Category.choices)
    corps = models.CharField(_("corps ou cadre d'emplois"), max_length=255)
    grades = models.CharField(_("grades"), max_length=255, blank=True)
    open_to_titulaires = models.BooleanField(_("ouvert aux titulaires"), default=True)
    open_to_contractuels = models.BooleanField(_("ouvert aux contractuels"), default=True)
    employment_type = models.CharField(_("temps de travail"), max_length=20, choices=EmploymentType.choices, default=EmploymentType.FULL_TIME)
    location_name = models.CharField(_("lieu de travail"), max_length=255)
    street_address = models.CharField(_("adresse"), max_length=255)
    postal_code = models.CharField(_("code postal"), max_length=10)
    locality = models.CharField(_("ville"), max_length=100, default="Paris")
    missions = RichTextField(_("missions"))
    profile = RichTextField(_("profil recherché"))
    conditions = RichTextField(_("conditions particulières"), blank=True)
    salary_min = models.DecimalField(_("rémunération annuelle brute minimale (€)"), max_digits=9, decimal_places=2, null=True, blank=True)
    salary_max = models.DecimalField(_("rémunération annuelle brute maximale (€)"), max_digits=9, decimal_places=2, null=True, blank=True)
    rifseep_group = models.CharField(_("groupe RIFSEEP"), max_length=20, blank=True)
    vacancy_date = models.DateField(_("date de vacance du poste"))
    application_deadline = models.DateField(_("date limite de candidature"))
    internal_only = models.BooleanField(_("réservé aux agents de la collectivité"), default=False)
    anonymised_screening = models.BooleanField(_("présélection anonyme"), default=False)
    recruiters = ParentalManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="openings", verbose_name=_("recruteurs"))
    stage_labels = models.JSONField(_("libellés des étapes"), default=dict, blank=True, help_text=_("Par exemple {\"interview\": \"Jury\"}."))
    # The state of the recruitment (open, filled, cancelled) is not a field of the page: page
    # fields are revisioned, and publishing an older revision would reopen a closed opening.
    # It lives in ``OpeningStatus``, read through ``recruitment_state``.

    content_panels = Page.content_panels + [
        MultiFieldPanel(
            [FieldPanel("reference"), FieldPanel("org_unit"), FieldRowPanel([FieldPanel("category"), FieldPanel("employment_type")]),
             FieldPanel("corps"), FieldPanel("grades"),
             FieldRowPanel([FieldPanel("open_to_titulaires"), FieldPanel("open_to_contractuels")])],
            heading=_("Poste"),
        ),
        MultiFieldPanel(
            [FieldPanel("location_name"), FieldPanel("street_address"), FieldRowPanel([FieldPanel("postal_code"), FieldPanel("locality")])],
            heading=_("Lieu"),
        ),
        FieldPanel("missions"),
        FieldPanel("profile"),
        FieldPanel("conditions"),
        MultiFieldPanel([FieldRowPanel([FieldPanel("salary_min"), FieldPanel("salary_max")]), FieldPanel("rifseep_group")], heading=_("Rémunération")),
        MultiFieldPanel(
            [FieldRowPanel([FieldPanel("vacancy_date"), FieldPanel("application_deadline")]), FieldPanel("internal_only"),
             FieldPanel("anonymised_screening"), FieldPanel("recruiters", widget=RecruitersWidget), FieldPanel("stage_labels")],
            heading=_("Recrutement"),
        ),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("missions"),
        index.SearchField("profile"),
        index.SearchField("corps"),
        index.FilterField("category"),
        index.FilterField("internal_only"),
    ]
    parent_page_types = ["recruitment.JobIndexPage"]
    subpage_types = []

    base_form_class = JobOpeningForm  # recruiters: a searchable chooser, the creator by default; stage labels: a form

    class Meta:
        verbose_name = _("offre d'emploi")
        verbose_name_plural = _("offres d'emploi")

    def serve(self, request, *args, **kwargs):
        from recruitment.pages import check_opening_visible

        check_opening_visible(request, self)  # internal-only: 404 unless the visitor is an agent
        return super().serve(request, *args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        from recruitment.pages import job_opening_context

        context = super().get_context(request, *args, **kwargs)
        context.update(job_opening_context(request, self))
        return context

    def stage_label(self, status):
        return (self.stage_labels or {}).get(status) or ApplicationStatus(status).label

    @property
    def recruitment_state(self):
        """``OpeningState``: "open" until the ``CloseOpening`` action records an outcome. Lists
        read it without a query per row with ``select_related("recruitment_status")``."""
        try:
            status = self.recruitment_status
        except OpeningStatus.DoesNotExist:
            return OpeningState.OPEN
        return status.state


class OpeningStatus(models.Model):
    """The outcome of an opening's recruitment, kept off the page's revisioned fields.

    No row: the recruitment is open. The row is written only by
    ``recruitment.actions.CloseOpening`` (filled or cancelled, when, by whom, why)."""

    opening = models.OneToOneField(
        JobOpeningPage, on_delete=models.CASCADE, primary_key=True, related_name="recruitment_status",
        verbose_name=_("offre d'emploi"),
    )
    state = models.CharField(_("état du recrutement"), max_length=20, choices=OpeningState.choices, default=OpeningState.OPEN)
    closed_at = models.DateTimeField(_("clos le"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("clos par"),
    )
    reason = models.TextField(_("motif"), blank=True)

    class Meta:
        verbose_name = _("état du recrutement")
        verbose_name_plural = _("états des recrutements")

    def __str__(self):
        return f"{self.opening_id} {self.state}"


class Candidate(models.Model):
    """A person who applied (external or an agent). Personal data is erased on time."""

    first_name = models.CharField(_("prénom"), max_length=150)
    last_name = models.CharField(_("nom"), max_length=150)
    email = models.EmailField(_("adresse e-mail"))
    email_normalised = models.CharField(max_length=254, db_index=True, editable=False)
    phone = models.CharField(_("téléphone"), max_length=40, blank=True)
    phone_normalised = models.CharField(max_length=20, db_index=True, blank=True, editable=False)
    agent = models.ForeignKey("cms.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="candidacies")
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates")
    pool_consent = models.BooleanField(_("accepte d'être conservé dans le vivier"), default=False)
    pool_consent_at = models.DateTimeField(null=True, blank=True)
    last_contact_at = models.DateTimeField(_("dernier contact"), null=True, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("candidat")

    def __str__(self):
        return f"{self.first_name} {self.last_name}".strip() or f"#{self.pk}"


class Application(models.Model):
    opening = models.ForeignKey(JobOpeningPage, on_delete=models.PROTECT, related_name="applications")
    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="applications")
    reference = models.CharField(_("référence"), max_length=20, unique=True)
    status = models.CharField(_("statut"), max_length=20, choices=ApplicationStatus.choices, default=ApplicationStatus.RECEIVED)
    cv = models.FileField(_("CV"), storage=private_storage, upload_to="cv/%Y/%m/", blank=True)
    cover_letter = models.FileField(_("lettre de motivation"), storage=private_storage, upload_to="letters/%Y/%m/", blank=True)
    message = models.TextField(_("message"), blank=True)
    is_internal = models.BooleanField(_("candidature interne"), default=False)
    possible_duplicate = models.BooleanField(_("doublon possible"), default=False)
    submitted_at = models.DateTimeField(_("reçue le"))
    status_changed_at = models.DateTimeField(_("statut modifié le"))
    closed_at = models.DateTimeField(_("close le"), null=True, blank=True)
    self_service_token_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    self_service_expires_at = models.DateTimeField(null=True, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("candidature")
        constraints = [
            models.UniqueConstraint(
                fields=["opening", "candidate"],
                condition=~Q(status__in=["withdrawn", "cancelled"]),
                name="one_live_application_per_opening",
            )
        ]
        indexes = [models.Index(fields=["opening", "status"]), models.Index(fields=["status", "closed_at"])]

    def __str__(self):
        return self.reference


class Interview(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="interviews")
    starts_at = models.DateTimeField(_("date et heure"))
    duration_minutes = models.PositiveSmallIntegerField(_("durée (minutes)"), default=45)
    location = models.CharField(_("lieu"), max_length=255)
    interviewers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="interviews", verbose_name=_("membres du jury"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    sequence = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("entretien de recrutement")
        ordering = ["starts_at"]

    def __str__(self):
        return f"{self.application_id} @ {self.starts_at:%Y-%m-%d %H:%M}"


score = [MinValueValidator(1), MaxValueValidator(5)]


class Scorecard(models.Model):
    """One interviewer's structured evaluation (1–5 with anchors, and a recommendation)."""

    CRITERIA = ["skills", "aptitudes", "qualifications", "experience", "potential", "mission_fit"]

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="scorecards")
    interviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="scorecards")
    skills = models.PositiveSmallIntegerField(_("compétences"), validators=score, null=True, blank=True)
    aptitudes = models.PositiveSmallIntegerField(_("aptitudes"), validators=score, null=True, blank=True)
    qualifications = models.PositiveSmallIntegerField(_("qualifications"), validators=score, null=True, blank=True)
    experience = models.PositiveSmallIntegerField(_("expérience"), validators=score, null=True, blank=True)
    potential = models.PositiveSmallIntegerField(_("potentiel"), validators=score, null=True, blank=True)
    mission_fit = models.PositiveSmallIntegerField(_("capacité à exercer les missions"), validators=score, null=True, blank=True)
    recommendation = models.CharField(_("avis"), max_length=20, choices=Recommendation.choices, blank=True)
    comment = models.TextField(_("commentaire"), blank=True)
    submitted_at = models.DateTimeField(_("soumise le"), null=True, blank=True)

    class Meta:
        verbose_name = _("grille d'évaluation")
        constraints = [models.UniqueConstraint(fields=["application", "interviewer"], name="one_scorecard_per_interviewer")]

    def __str__(self):
        return f"{self.application_id} / {self.interviewer_id}"


class ApplicationEvent(models.Model):
    """Append-only history: every move (with reason and actor) and a copy of each message."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20)  # move, message, interview, scorecard, note, erasure
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()
    batch = models.CharField(max_length=32, blank=True, db_index=True)  # bulk actions (undo)
    message_subject = models.CharField(max_length=255, blank=True)
    message_body = models.TextField(blank=True)
    message_to = models.CharField(max_length=254, blank=True)

    class Meta:
        verbose_name = _("événement de candidature")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.application_id} {self.kind} {self.at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("ApplicationEvent is append-only")
        super().save(*args, **kwargs)


@register_snippet
class MessageTemplate(models.Model):
    kind = models.CharField(_("type"), max_length=20, choices=MessageKind.choices)
    language = models.CharField(_("langue"), max_length=5, choices=settings.LANGUAGES, default="fr")
    subject = models.CharField(_("objet"), max_length=255, help_text=_("Les mêmes variables que le texte, par exemple "
                                                                       "{offre_titre} ou {offre_reference}."))
    body = models.TextField(_("texte"), help_text=messages.HELP_TEXT)

    panels = [FieldPanel("kind"), FieldPanel("language"), FieldPanel("subject"), FieldPanel("body")]

    class Meta:
        verbose_name = _("modèle de message")
        verbose_name_plural = _("modèles de message")
        constraints = [models.UniqueConstraint(fields=["kind", "language"], name="one_message_template_per_kind_language")]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.language})"

    def clean(self):
        """A placeholder outside ``recruitment.messages.PLACEHOLDERS`` is refused, on the field
        that uses it (the snippet's edit form shows the sentence under the field)."""
        super().clean()
        errors = {}
        for field in ("subject", "body"):
            try:
                messages.validate(getattr(self, field))
            except ValidationError as error:
                errors[field] = error
        if errors:
            raise ValidationError(errors)
