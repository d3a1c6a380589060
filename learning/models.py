"""E-learning: course pages, enrolments, progress, attempts, assignments, reminders,
content packages (SCORM 1.2 / 2004, cmi5 next) and their attempts.

Data and invariants only; every write lives in learning/services.py.
"""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from cms.storage import private_storage
from learning.blocks import LessonStreamBlock, QuestionStreamBlock
from learning.choices import (
    OPEN_STATUSES,
    AttemptStatus,
    EnrollmentSource,
    EnrollmentStatus,
    EventSource,
    PackageStandard,
)
from learning.packages.forms import UPLOAD_FIELD, PackageStepForm


class CourseIndexPage(Page):
    """The catalogue: lists published courses with search and filters."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["learning.CoursePage"]
    parent_page_types = ["cms.HomePage", "cms.ContentPage"]

    class Meta:
        verbose_name = _("catalogue de formations")

    def get_context(self, request, *args, **kwargs):
        from learning import selectors

        context = super().get_context(request, *args, **kwargs)
        context.update(selectors.catalogue(request, self))
        return context


class CoursePage(Page):
    """A course: an ordered sequence of lessons and quizzes (its child pages)."""

    summary = models.TextField(_("résumé"), max_length=500, help_text=_("Affiché dans le catalogue."))
    description = RichTextField(_("présentation"), blank=True)
    objectives = RichTextField(_("objectifs pédagogiques"), blank=True)
    audience = models.CharField(_("public visé"), max_length=255, blank=True)
    theme = models.CharField(_("thématique"), max_length=100, blank=True, db_index=True)
    estimated_minutes = models.PositiveIntegerField(_("durée estimée (minutes)"), default=30)
    self_enrollment = models.BooleanField(_("inscription libre"), default=True)
    validity_months = models.PositiveIntegerField(
        _("validité (mois)"),
        null=True,
        blank=True,
        help_text=_("Laisser vide si la formation n'expire pas ; 12 pour un recyclage annuel."),
    )
    certificate = models.BooleanField(_("délivre une attestation"), default=True)

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        FieldPanel("description"),
        FieldPanel("objectives"),
        MultiFieldPanel(
            [
                FieldPanel("theme"),
                FieldPanel("audience"),
                FieldPanel("estimated_minutes"),
                FieldPanel("self_enrollment"),
                FieldPanel("validity_months"),
                FieldPanel("certificate"),
            ],
            heading=_("Paramètres"),
        ),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("description"),
        index.SearchField("theme"),
        index.FilterField("theme"),
        index.FilterField("self_enrollment"),
    ]
    parent_page_types = ["learning.CourseIndexPage"]
    subpage_types = ["learning.LessonPage", "learning.QuizPage", "learning.PackageStepPage"]

    class Meta:
        verbose_name = _("formation")
        verbose_name_plural = _("formations")

    def steps(self):
        """Published lessons and quizzes in order (one query)."""
        return self.get_children().live().specific().order_by("path")

    def get_context(self, request, *args, **kwargs):
        from learning import selectors

        context = super().get_context(request, *args, **kwargs)
        context.update(selectors.course_outline(request.user, self))
        return context


@dataclass(frozen=True)
class StepProgress:
    """Where one enrolment stands on one step (see :class:`StepPage`).

    ``done``: the step counts as completed; ``score``: a percentage to average into the
    enrolment's score, or None when the step has no score or no result yet; ``started``:
    the learner has a result on it (a failed quiz attempt starts the course); ``exhausted``:
    not done and no try left (the enrolment fails)."""

    done: bool = False
    score: float | None = None
    started: bool = False
    exhausted: bool = False


NOT_STARTED_STEP = StepProgress()


class StepPage(Page):
    """A step of a course (a child page of :class:`CoursePage`): lessons, quizzes, and any
    step type to come (a SCORM/cmi5 package step plugs in the same way).

    The step protocol, the only thing the enrolment code knows about step kinds:

    - ``event_source``: the ``EventSource`` recorded on the status changes it causes
      (opening it, completing it, failing it);
    - ``progress_for(enrollment, step_ids)`` (classmethod): a dict ``{step id:
      StepProgress}`` for the given steps *of this class*, read with a constant number of
      queries (one, typically) whatever the number of steps; a step missing from the dict
      has made no progress.

    ``learning.progress.course_progress`` groups a course's live steps by class and calls
    each class's ``progress_for`` once, so ``recompute``, the outline and the views never
    test which kind a step is: a new step type subclasses ``StepPage``, implements the
    two, is added to ``CoursePage.subpage_types``, and its results reach the enrolment
    through ``learning.actions`` (a ``RecordStepResult`` subclass) like lessons and
    quizzes, without any change to ``recompute``.
    """

    event_source = None

    parent_page_types = ["learning.CoursePage"]
    subpage_types = []

    class Meta:
        abstract = True

    @classmethod
    def progress_for(cls, enrollment, step_ids):
        raise NotImplementedError(f"{cls.__name__} must implement progress_for()")

    def serve(self, request, *args, **kwargs):
        if request.method == "GET" and request.user.is_authenticated and not getattr(request, "is_preview", False):
            from learning import services

            services.open_step(user=request.user, step=self)
        return super().serve(request, *args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        from learning import selectors

        context = super().get_context(request, *args, **kwargs)
        course = self.get_parent().specific
        context["course"] = course
        context.update(selectors.course_outline(request.user, course, current=self))
        return context


class LessonPage(StepPage):
    body = StreamField(LessonStreamBlock(), verbose_name=_("contenu"))
    estimated_minutes = models.PositiveIntegerField(_("durée estimée (minutes)"), default=10)

    content_panels = Page.content_panels + [FieldPanel("estimated_minutes"), FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("body")]
    event_source = EventSource.LESSON

    class Meta:
        verbose_name = _("leçon")
        verbose_name_plural = _("leçons")

    @classmethod
    def progress_for(cls, enrollment, step_ids):
        """Done once marked complete (one query)."""
        done = LessonProgress.objects.filter(enrollment=enrollment, lesson_id__in=step_ids).values_list(
            "lesson_id", flat=True
        )
        return {pk: StepProgress(done=True, started=True) for pk in done}


class QuizPage(StepPage):
    intro = RichTextField(_("consignes"), blank=True)
    questions = StreamField(QuestionStreamBlock(), verbose_name=_("questions"))
    pass_mark = models.PositiveSmallIntegerField(
        _("note de réussite (%)"), default=80, help_text=_("Pourcentage de bonnes réponses requis.")
    )
    attempt_limit = models.PositiveSmallIntegerField(
        _("nombre maximal de tentatives"), default=3, help_text=_("0 : illimité.")
    )
    shuffle = models.BooleanField(_("mélanger les questions et les réponses"), default=False)
    event_source = EventSource.QUIZ

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        MultiFieldPanel([FieldPanel("pass_mark"), FieldPanel("attempt_limit"), FieldPanel("shuffle")], heading=_("Règles")),
        FieldPanel("questions"),
    ]

    class Meta:
        verbose_name = _("quiz")
        verbose_name_plural = _("quiz")

    @classmethod
    def progress_for(cls, enrollment, step_ids):
        """Done once an attempt passed; the score is the best attempt's (passed first);
        exhausted when the attempt limit is reached without a pass (one query)."""
        best, counts = {}, {}
        rows = QuizAttempt.objects.filter(enrollment=enrollment, quiz_id__in=step_ids).values_list(
            "quiz_id", "score", "passed", "quiz__attempt_limit"
        )
        limits = {}
        for quiz_id, score, passed, limit in rows:
            counts[quiz_id] = counts.get(quiz_id, 0) + 1
            limits[quiz_id] = limit
            if quiz_id not in best or (passed, score) > best[quiz_id]:
                best[quiz_id] = (passed, score)
        return {
            quiz_id: StepProgress(
                done=passed,
                score=score,
                started=True,
                exhausted=not passed and bool(limits[quiz_id]) and counts[quiz_id] >= limits[quiz_id],
            )
            for quiz_id, (passed, score) in best.items()
        }

    def get_context(self, request, *args, **kwargs):
        from learning import selectors

        context = super().get_context(request, *args, **kwargs)
        context.update(selectors.quiz_context(request.user, self, context.get("enrollment")))
        return context


class Package(models.Model):
    """An imported content package (SCORM 1.2, SCORM 2004; cmi5 next), stored once.

    The zip is extracted to private storage under ``packages/<sha256>/`` (content-addressed:
    re-importing the same file reuses this row and its files) and served by
    ``learning.package_views.content`` at ``/formation/paquets/<uuid>/<path>``. Rows are
    never deleted while an attempt or a step refers to them, so a new version of a
    package (a new row, ``version`` + 1, the step pointing to it) keeps old attempts
    readable.

    ``organization``: the default organisation's tree, ``[{"identifier", "title",
    "sco" (the launchable's identifier or None for a cluster), "children": [...]}]``;
    ``launchables``: the SCOs/assets in play order, ``[{"identifier" (the item's),
    "title", "href" (path in the package, with the item's parameters), "scorm_type"
    ("sco" | "asset"), "mastery_score" (1.2, 0..100 or None), "scaled_passing_score"
    (2004, -1..1 or None), "completion_threshold" (2004 or None), "launch_data",
    "max_time_allowed", "time_limit_action"}]``; ``manifest``: what else was read
    (identifier, schema and version, metadata, sequencing rules that are not supported).
    """

    uuid = models.UUIDField(_("identifiant public"), default=uuid.uuid4, unique=True, editable=False)
    standard = models.CharField(_("norme"), max_length=12, choices=PackageStandard.choices)
    schema_version = models.CharField(_("version du schéma"), max_length=64, blank=True)
    identifier = models.CharField(_("identifiant du manifeste"), max_length=255, blank=True)
    title = models.CharField(_("titre"), max_length=255)
    version = models.PositiveIntegerField(_("version"), default=1)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("version précédente")
    )
    manifest = models.JSONField(_("données du manifeste"), default=dict, blank=True)
    organization = models.JSONField(_("organisation"), default=list, blank=True)
    launchables = models.JSONField(_("ressources lançables"), default=list, blank=True)
    size = models.BigIntegerField(_("taille décompressée (octets)"), default=0)
    file_count = models.PositiveIntegerField(_("nombre de fichiers"), default=0)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, unique=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("importé par"),
    )
    uploaded_at = models.DateTimeField(_("importé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("paquet de contenu")
        verbose_name_plural = _("paquets de contenu")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self):
        return f"{self.title} (v{self.version}, {self.get_standard_display()})"

    @property
    def root(self):
        """The folder of the extracted files in private storage."""
        return f"packages/{self.sha256}"

    def launchable(self, identifier):
        """The launchable SCO/asset named ``identifier`` (an item identifier), or None."""
        return next((item for item in self.launchables if item["identifier"] == identifier), None)


class PackageStepPage(StepPage):
    """A course step that plays a content package (see :class:`Package`).

    Done when an attempt of the current cycle is completed or passed; its score is the
    best attempt's. One attempt per enrolment cycle by default; a new attempt may be
    opened after a failure and/or after a completion (``attempt_limit`` counts them,
    0: unlimited). Exhausted (the enrolment fails, as for a quiz) when the last attempt
    failed and no new attempt is allowed.
    """

    intro = RichTextField(_("consignes"), blank=True)
    package = models.ForeignKey(
        Package, null=True, blank=True, on_delete=models.PROTECT, related_name="steps", verbose_name=_("paquet"),
    )
    estimated_minutes = models.PositiveIntegerField(_("durée estimée (minutes)"), default=20)
    new_attempt_after_failure = models.BooleanField(
        _("nouvelle tentative après un échec"), default=False,
        help_text=_("Sinon, un échec au module fait échouer l'inscription (comme un quiz sans tentative restante)."),
    )
    new_attempt_after_completion = models.BooleanField(
        _("nouvelle tentative après réussite"), default=False,
        help_text=_("Permet de refaire le module depuis le début ; le meilleur résultat est conservé."),
    )
    attempt_limit = models.PositiveSmallIntegerField(
        _("nombre maximal de tentatives"), default=3,
        help_text=_("Quand une nouvelle tentative est permise. 0 : illimité."),
    )
    cmi5_browse = models.BooleanField(
        _("cmi5 : permettre de parcourir sans évaluation"), default=False,
        help_text=_("Propose, pour chaque unité non terminée, un lancement en mode « Browse » : l'agent découvre "
                    "l'unité sans que ses résultats (réussite, échec, fin) soient enregistrés."),
    )  # fmt: skip
    event_source = EventSource.PACKAGE
    base_form_class = PackageStepForm  # the upload field beside the package chooser

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        FieldPanel("package"),
        FieldPanel(UPLOAD_FIELD),  # a form field of PackageStepForm, not a model field
        MultiFieldPanel(
            [
                FieldPanel("estimated_minutes"),
                FieldPanel("new_attempt_after_failure"),
                FieldPanel("new_attempt_after_completion"),
                FieldPanel("attempt_limit"),
                FieldPanel("cmi5_browse"),
            ],
            heading=_("Tentatives"),
        ),
    ]

    class Meta:
        verbose_name = _("module SCORM")
        verbose_name_plural = _("modules SCORM")

    def allows_new_attempt(self, last_status, count):
        """May a new attempt follow an attempt that ended ``last_status`` (``count`` so far)?"""
        if self.attempt_limit and count >= self.attempt_limit:
            return False
        if last_status == AttemptStatus.FAILED:
            return self.new_attempt_after_failure
        if last_status in (AttemptStatus.COMPLETED, AttemptStatus.PASSED):
            return self.new_attempt_after_completion
        return False

    @classmethod
    def progress_for(cls, enrollment, step_ids):
        """Done once an attempt completed or passed; score: the best attempt's; exhausted
        when the last attempt failed and the step allows no new one (one query)."""
        rows = (
            PackageAttempt.objects.filter(enrollment=enrollment, step_id__in=step_ids)
            .exclude(status=AttemptStatus.RESET)
            .order_by("step_id", "number")
            .values_list(
                "step_id", "status", "score", "step__new_attempt_after_failure",
                "step__new_attempt_after_completion", "step__attempt_limit",
            )
        )
        found = {}
        for step_id, status, score, after_failure, after_completion, limit in rows:
            done, best, count, _last = found.get(step_id, (False, None, 0, None))
            done = done or status in (AttemptStatus.COMPLETED, AttemptStatus.PASSED)
            if score is not None and (best is None or score > best):
                best = score
            found[step_id] = (done, best, count + 1, (status, after_failure, after_completion, limit))
        result = {}
        for step_id, (done, best, count, (status, after_failure, _after_completion, limit)) in found.items():
            exhausted = (
                not done and status == AttemptStatus.FAILED
                and not (after_failure and (not limit or count < limit))
            )
            result[step_id] = StepProgress(done=done, score=best, started=True, exhausted=exhausted)
        return result

    def get_context(self, request, *args, **kwargs):
        from learning.packages.step_page import step_page_context

        context = super().get_context(request, *args, **kwargs)
        context.update(step_page_context(self, context.get("enrollment")))
        return context


class Enrollment(models.Model):
    """One agent in one course for one cycle (a recertification opens a new cycle)."""

    agent = models.ForeignKey("cms.Agent", on_delete=models.CASCADE, related_name="enrollments", verbose_name=_("agent"))
    course = models.ForeignKey(CoursePage, on_delete=models.CASCADE, related_name="enrollments", verbose_name=_("formation"))
    cycle = models.PositiveIntegerField(_("cycle"), default=1)
    source = models.CharField(_("origine"), max_length=20, choices=EnrollmentSource.choices, default=EnrollmentSource.SELF)
    assignment = models.ForeignKey(
        "learning.Assignment", null=True, blank=True, on_delete=models.SET_NULL, related_name="enrollments"
    )
    status = models.CharField(
        _("statut"), max_length=20, choices=EnrollmentStatus.choices, default=EnrollmentStatus.NOT_STARTED
    )
    progress = models.FloatField(_("progression"), default=0.0)
    score = models.FloatField(_("score"), null=True, blank=True)
    due_at = models.DateTimeField(_("échéance"), null=True, blank=True)
    started_at = models.DateTimeField(_("commencé le"), null=True, blank=True)
    completed_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expire le"), null=True, blank=True)
    certificate_code = models.CharField(_("code de vérification"), max_length=32, null=True, blank=True, unique=True)
    certificate_file = models.FileField(
        _("attestation (PDF)"), storage=private_storage, upload_to="certificates/%Y/", blank=True
    )
    last_step = models.ForeignKey(
        "wagtailcore.Page", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("dernière étape consultée"),
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("mis à jour le"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("inscription")
        verbose_name_plural = _("inscriptions")
        permissions = [("view_all_completions", _("Voir toutes les complétions (comptes de service, RH)"))]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "course"], condition=Q(status__in=OPEN_STATUSES), name="one_open_enrollment_per_course"
            ),
            models.UniqueConstraint(fields=["agent", "course", "cycle"], name="enrollment_cycle_unique"),
            models.CheckConstraint(condition=Q(progress__gte=0) & Q(progress__lte=1), name="enrollment_progress_0_1"),
        ]
        indexes = [
            models.Index(fields=["updated_at", "id"], name="enrollment_sync_idx"),
            models.Index(fields=["course", "status"]),
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["status", "expires_at"]),
        ]

    def __str__(self):
        return f"{self.agent_id} / {self.course_id} #{self.cycle} ({self.status})"

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES


class EnrollmentEvent(models.Model):
    """One status change of an enrolment (its history), written by learning/actions.py in
    the same transaction as the change. ``from_status`` is empty for the creation of the
    enrolment (a new cycle); ``actor`` is null for the system (a task, an import)."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="events", verbose_name=_("inscription"))
    at = models.DateTimeField(_("date"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("auteur")
    )
    from_status = models.CharField(_("statut précédent"), max_length=20, choices=EnrollmentStatus.choices, blank=True)
    to_status = models.CharField(_("nouveau statut"), max_length=20, choices=EnrollmentStatus.choices)
    source = models.CharField(_("origine"), max_length=20, choices=EventSource.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("événement d'inscription")
        verbose_name_plural = _("événements d'inscription")
        indexes = [models.Index(fields=["enrollment", "at"], name="enrollment_event_at_idx")]

    def __str__(self):
        return f"{self.enrollment_id} {self.from_status or '∅'} → {self.to_status} ({self.source})"


class LessonProgress(models.Model):
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="lesson_progress")
    lesson = models.ForeignKey(LessonPage, on_delete=models.CASCADE, related_name="+")
    completed_at = models.DateTimeField(_("terminé le"))

    class Meta:
        verbose_name = _("leçon terminée")
        constraints = [models.UniqueConstraint(fields=["enrollment", "lesson"], name="lesson_progress_unique")]

    def __str__(self):
        return f"{self.enrollment_id} / {self.lesson_id}"


class QuizAttempt(models.Model):
    """A graded submission. (enrollment, quiz, number) is unique: two submissions at once
    cannot both take the last allowed attempt."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="attempts")
    quiz = models.ForeignKey(QuizPage, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField(_("tentative n°"))
    answers = models.JSONField(_("réponses"), default=dict)
    score = models.FloatField(_("score"))
    passed = models.BooleanField(_("réussi"))
    feedback = models.JSONField(_("retours"), default=dict)
    submitted_at = models.DateTimeField(_("soumis le"))

    class Meta:
        verbose_name = _("tentative de quiz")
        ordering = ["enrollment", "quiz", "number"]
        constraints = [models.UniqueConstraint(fields=["enrollment", "quiz", "number"], name="quiz_attempt_number_unique")]

    def __str__(self):
        return f"{self.enrollment_id} / {self.quiz_id} #{self.number}"


class Assignment(models.Model):
    """A course assigned to an org unit subtree, due N days after assignment (or arrival)."""

    course = models.ForeignKey(CoursePage, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("formation"))
    org_unit = models.ForeignKey("cms.OrgUnit", on_delete=models.CASCADE, related_name="assignments", verbose_name=_("unité"))
    categories = models.JSONField(
        _("catégories"), default=list, blank=True, help_text=_("Vide : toutes les catégories. Sinon par exemple [\"A\", \"B\"].")
    )
    due_in_days = models.PositiveIntegerField(_("échéance (jours)"), default=90)
    recurring = models.BooleanField(
        _("recyclage"), default=True, help_text=_("Réinscrire à l'expiration de la validité de la formation.")
    )
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("assignation")
        verbose_name_plural = _("assignations")

    def __str__(self):
        return f"{self.course} → {self.org_unit}"


class PackageAttempt(models.Model):
    """One learner's attempt at a package step, for one enrolment cycle.

    ``scos``: per launchable identifier, ``{"cmi": {flattened CMI "cmi.…": value},
    "completion": …, "success": …, "score": 0..100 | None, "total_seconds": float,
    "sessions": int, "terminated": bool}``; the rollup (``status``, ``score``,
    ``progress``) is computed from it by learning/packages/runtime.py and written by
    the enrolment actions (learning/actions.py), in the same transaction as the
    enrolment's progress. ``last_seq``: the highest commit sequence number applied (a
    replayed or older commit is acknowledged and ignored). ``beacon_nonce``: the
    one-time part of the signed token the terminate beacon carries (rotated on use).
    """

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="package_attempts")
    step = models.ForeignKey(PackageStepPage, on_delete=models.CASCADE, related_name="attempts")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="attempts", verbose_name=_("paquet"))
    number = models.PositiveSmallIntegerField(_("tentative n°"), default=1)
    status = models.CharField(_("statut"), max_length=12, choices=AttemptStatus.choices, default=AttemptStatus.IN_PROGRESS)
    score = models.FloatField(_("score"), null=True, blank=True)
    progress = models.FloatField(_("progression"), default=0.0)
    scos = models.JSONField(_("données par SCO"), default=dict, blank=True)
    total_seconds = models.FloatField(_("temps total (secondes)"), default=0.0)
    last_seq = models.BigIntegerField(_("dernier envoi appliqué"), default=0)
    last_sco = models.CharField(_("dernier SCO ouvert"), max_length=255, blank=True)
    beacon_nonce = models.CharField(max_length=32, blank=True)
    started_at = models.DateTimeField(_("commencée le"))
    updated_at = models.DateTimeField(_("mise à jour le"), auto_now=True)
    finished_at = models.DateTimeField(_("terminée le"), null=True, blank=True)
    reset_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("réinitialisée par"),
    )
    reset_at = models.DateTimeField(_("réinitialisée le"), null=True, blank=True)
    # cmi5 (learning/packages/cmi5_lms.py): the attempt is the cmi5 *registration* of the
    # enrolment on the step (stable: every AU launch of the cycle uses it; an HR reset or a new
    # cycle opens a new one). ``scos`` holds each AU's state ({"completed", "passed", "failed",
    # "waived", "satisfied", "score", "completion", "success"}); ``cmi5`` the LMS's own facts:
    # {"blocks": {block id: satisfied at}, "course": satisfied at, "launches": n}.
    registration = models.UUIDField(_("inscription cmi5 (registration)"), null=True, blank=True, unique=True,
                                    editable=False)  # fmt: skip
    cmi5 = models.JSONField(_("état cmi5"), default=dict, blank=True)

    class Meta:
        verbose_name = _("tentative de module")
        verbose_name_plural = _("tentatives de module")
        ordering = ["enrollment", "step", "number"]
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "step", "number"], name="package_attempt_number_unique"),
        ]
        indexes = [models.Index(fields=["enrollment", "step"], name="package_attempt_step_idx")]

    def __str__(self):
        return f"{self.enrollment_id} / {self.step_id} #{self.number} ({self.status})"


class PackageImport(models.Model):
    """A package upload imported by a background task (large packages), with its progress.

    Finished when ``step`` is set; failed when ``error`` is set (the sentence shown to the
    editor); ``progress`` 0..1 feeds the admin's progress bar. The uploaded zip lives in
    private storage at ``upload`` until the task ends."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    upload = models.CharField(_("fichier téléversé"), max_length=255)
    original_name = models.CharField(_("nom du fichier"), max_length=255)
    course = models.ForeignKey(CoursePage, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    replace_step = models.ForeignKey(PackageStepPage, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("titre"), max_length=255, blank=True)
    progress = models.FloatField(_("avancement"), default=0.0)
    error = models.TextField(_("erreur"), blank=True)
    step = models.ForeignKey(PackageStepPage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import de paquet")
        verbose_name_plural = _("imports de paquets")

    def __str__(self):
        return self.original_name
