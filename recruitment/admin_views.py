"""The recruiter's side of recruitment in the Wagtail admin.

* "Recrutement" (HR and Recruiters): the openings the user manages, with counts per status;
  per opening a board (one column per pipeline status, cards with their moves, bulk moves
  and bulk rejection with a confirmation step and undo, closing the opening); per application a page (candidate data respecting anonymised
  screening, files, timeline, interviews, scorecards, move and scheduling forms).
* "Mes évaluations" (interviewers): their own scorecards and the form to submit them.

Reads come from ``recruitment.selectors`` (lists filtered in the queryset, fixed number of
queries); every POST goes through ``recruitment.actions`` or ``recruitment.interviews``,
whose ``ValidationError`` becomes field errors and whose ``Conflict`` becomes a message.
The moves offered on an application are those ``recruitment.workflow`` declares.
A ``PermissionDenied`` is turned by Wagtail into a redirect to the dashboard with a
message; what a user may not see at all (another opening's application, somebody else's
scorecard) answers 404.
"""

from django.contrib import messages as django_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import TemplateView, View
from wagtail.admin import messages
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.ui.tables import Column, StatusTagColumn, TitleColumn
from wagtail.admin.views.generic.base import BaseListingView, WagtailAdminTemplateMixin
from wagtail.admin.widgets import HeaderButton

from cms.exceptions import Conflict
from recruitment import actions, files, gdpr, interviews, permissions, selectors, workflow
from recruitment.admin_forms import (
    BoardMoveForm,
    BulkMoveForm,
    BulkRejectForm,
    CloseOpeningForm,
    MoveForm,
    ScheduleInterviewForm,
    ScorecardForm,
    add_service_errors,
)
from recruitment.choices import MOVABLE_STATES, PIPELINE, ApplicationStatus, OpeningState
from recruitment.models import Application, ApplicationEvent, JobOpeningPage, Scorecard
from recruitment.text import of

HOME = {"url": reverse_lazy("wagtailadmin_home"), "label": gettext_lazy("Tableau de bord")}
CLOSED_PER_PAGE = 50
SCORECARDS_PER_PAGE = 50


def recruitment_crumb():
    return {"url": reverse("recruitment_admin:openings"), "label": _("Recrutement")}


def board_crumb(opening):
    return {"url": reverse("recruitment_admin:board", args=[opening.pk]), "label": opening.title}


def require(condition, message=None):
    if not condition:
        raise PermissionDenied(message or _("Vous n'avez pas accès à cette page."))


class AdminPage(WagtailAdminTemplateMixin, TemplateView):
    header_icon = "group"

    def get_breadcrumbs_items(self):
        return [HOME, *self.get_trail(), {"url": "", "label": self.get_page_title()}]

    def get_trail(self):
        return [recruitment_crumb()]


# --- openings ------------------------------------------------------------------------------


def opening_deadline(opening):
    return opening.application_deadline.strftime("%d/%m/%Y") if opening.application_deadline else ""


class OpeningStateColumn(StatusTagColumn):
    def get_value(self, instance):
        return OpeningState(instance.recruitment_state).label

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["primary"] = instance.recruitment_state in MOVABLE_STATES
        return context


class OpeningIndexView(BaseListingView):
    """The openings the user manages, with the number of applications at each stage."""

    page_title = gettext_lazy("Recrutements")
    header_icon = "group"
    index_url_name = "recruitment_admin:openings"
    paginate_by = 50
    default_ordering = "open_first"
    verbose_name_plural = gettext_lazy("recrutements")

    def dispatch(self, request, *args, **kwargs):
        require(permissions.can_use_recruitment_admin(request.user))
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [HOME, {"url": "", "label": self.get_page_title()}]

    @cached_property
    def header_buttons(self):
        """The recruitment report (funnel, time to hire), for those who may read it."""
        from wagtail.admin.widgets.button import HeaderButton

        from recruitment import reports

        if not reports.can_view_reports(self.request.user):
            return []
        return [HeaderButton(_("Rapport de recrutement"), url=reverse("recruitment_reports:report"), icon_name="table")]

    def get_base_queryset(self):
        openings = selectors.with_recruitment_state(selectors.openings_managed_by(self.request.user))
        return selectors.with_status_counts(openings).only(
            "pk", "title", "reference", "application_deadline", "anonymised_screening", "recruitment_status__state"
        )

    def order_queryset(self, queryset):
        ordering = self.ordering
        if ordering == "open_first":
            return queryset.order_by("open_first", "application_deadline", "pk")
        return queryset.order_by(ordering, "pk")

    def get_valid_orderings(self):
        return ["open_first", *super().get_valid_orderings()]

    @cached_property
    def columns(self):
        columns = [
            TitleColumn("title", label=_("Offre"), sort_key="title", width="22%",
                        get_url=lambda o: reverse("recruitment_admin:board", args=[o.pk])),
            Column("reference", label=_("Référence"), sort_key="reference"),
            Column("application_deadline", label=_("Date limite"), accessor=opening_deadline,
                   sort_key="application_deadline"),
            OpeningStateColumn("opening_state", label=_("État"), sort_key="opening_state"),
        ]
        columns += [Column(f"n_{status}", label=ApplicationStatus(status).label) for status in PIPELINE]
        columns.append(Column("n_closed", label=_("Closes")))
        return columns


# --- the board -----------------------------------------------------------------------------


class OpeningMixin:
    def get_opening(self):
        opening = get_object_or_404(selectors.with_recruitment_state(JobOpeningPage.objects.all()), pk=self.kwargs["pk"])
        require(permissions.can_manage(self.request.user, opening), _("Vous ne gérez pas ce recrutement."))
        return opening


class BoardView(OpeningMixin, AdminPage):
    template_name = "recruitment/admin/board.html"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.bulk_form = None
        self.close_form = None
        self.kept_selection = set()  # the cards still ticked when a bulk move goes back to the board

    def dispatch(self, request, *args, **kwargs):
        self.opening = self.get_opening()
        actions.close_past_deadline(self.opening)  # on read: the deadline closes applications
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return self.opening.title

    def get_page_subtitle(self):
        return self.opening.reference

    def get_header_buttons(self):
        """« Modifier l'offre » for whoever may edit the opening's page (its text, deadline,
        stages), next to the board that shows its applications."""
        buttons = super().get_header_buttons()
        if self.opening.permissions_for_user(self.request.user).can_edit():
            buttons.append(
                HeaderButton(
                    _("Modifier l'offre"),
                    url=reverse("wagtailadmin_pages:edit", args=[self.opening.pk]),
                    icon_name="edit",
                )
            )
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        opening = self.opening
        closed = WagtailPaginator(selectors.closed_applications(opening), CLOSED_PER_PAGE).get_page(self.request.GET.get("p"))
        for application in closed.object_list:
            application.opening = opening
            application.display_name = selectors.display_name(application, opening)
        is_open = opening.recruitment_state in MOVABLE_STATES
        selected = set()
        if self.bulk_form is not None and self.bulk_form.is_bound:
            selected = {str(pk) for pk in self.bulk_form.data.getlist("applications")}
        selected |= self.kept_selection
        board = selectors.board(opening)
        rejectable = workflow.MOVES["reject"].sources  # the cards that bulk rejection may take
        for column in board.columns:
            column.selectable = is_open and column.status in rejectable
            # the same moves for every card of a column: computed once per column
            column.forward_moves, column.other_moves = (
                workflow.card_moves(column.status, opening.stage_label) if is_open else ([], [])
            )
        context.update(
            opening=opening,
            board=board,
            board_url=reverse("recruitment_admin:board", args=[opening.pk]),
            closed_range=closed.paginator.get_elided_page_range(closed.number),
            is_open=is_open,
            state_label=OpeningState(opening.recruitment_state).label,
            closed_page=closed,
            selected=selected,
            bulk_form=(self.bulk_form or BulkRejectForm(opening=opening)) if is_open else None,
            close_form=(self.close_form or CloseOpeningForm()) if is_open else None,
        )
        return context


class ConfirmationMixin:
    """A step that names what an irreversible act will do before it is done (no JavaScript:
    the form is posted again with ``confirm``)."""

    confirm_template = None
    confirm_title = ""

    def get_page_title(self):
        if getattr(self, "confirming", False):
            return self.confirm_title
        return super().get_page_title()

    def render_confirmation(self, **context):
        self.confirming = True
        data = AdminPage.get_context_data(self)
        data.update(context)
        return self.response_class(request=self.request, template=[self.confirm_template], context=data,
                                   using=self.template_engine)


class BulkRejectView(ConfirmationMixin, BoardView):
    http_method_names = ["post"]
    confirm_template = "recruitment/admin/confirm_bulk_reject.html"
    confirm_title = gettext_lazy("Confirmer le refus")

    def get_trail(self):
        return [recruitment_crumb(), board_crumb(self.opening)]

    def confirmation(self, form):
        applications = list(form.cleaned_data["applications"].select_related("candidate").order_by("status_changed_at", "pk"))
        for application in applications:
            application.opening = self.opening
            application.display_name = selectors.display_name(application, self.opening)
            application.stage = self.opening.stage_label(application.status)
        return self.render_confirmation(
            opening=self.opening, form=form, applications=applications, count=len(applications),
            reason=form.cleaned_data["reason"], send=form.send,
            send_label=dict(form.fields["message"].choices)[form.cleaned_data["message"]],
        )

    def post(self, request, *args, **kwargs):
        opening = self.opening
        self.bulk_form = form = BulkRejectForm(request.POST, opening=opening)
        if form.is_valid() and not form.cleaned_data["confirm"]:
            return self.confirmation(form)
        if form.is_valid():
            try:
                batch, count = actions.bulk_reject(
                    application_ids=[a.pk for a in form.cleaned_data["applications"]], actor=request.user,
                    reason=form.cleaned_data["reason"], send=form.send,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            except Conflict as error:
                messages.error(request, str(error))
                return redirect("recruitment_admin:board", opening.pk)
            else:
                text = ngettext("%(count)s candidature refusée.", "%(count)s candidatures refusées.", count) % {"count": count}
                if form.send:
                    text += " " + _("Les réponses négatives partent aux candidats.")
                html = render_to_string(
                    "recruitment/admin/includes/undo_message.html",
                    {"text": text, "batch": batch, "next": reverse("recruitment_admin:board", args=[opening.pk])},
                    request=request,
                )
                django_messages.success(request, html)
                return redirect("recruitment_admin:board", opening.pk)
        messages.error(request, _("La sélection n'a pas été refusée : corrigez les erreurs ci-dessous."))
        return self.render_to_response(self.get_context_data())


class BulkMoveView(ConfirmationMixin, BoardView):
    """Several cards of the board moved to one stage: a step offering the stages every
    selected application may go to (with the reason when one is needed), then a step naming
    how many applications move where, then ``actions.bulk_move`` (one batch, undoable)."""

    http_method_names = ["post"]
    template_name = "recruitment/admin/bulk_move.html"
    confirm_template = "recruitment/admin/confirm_bulk_move.html"
    confirm_title = gettext_lazy("Confirmer le déplacement")

    def get_trail(self):
        return [recruitment_crumb(), board_crumb(self.opening)]

    def get_page_title(self):
        if getattr(self, "on_board", False):
            return self.opening.title
        if getattr(self, "confirming", False):
            return self.confirm_title
        return _("Déplacer la sélection")

    def selection(self, form):
        applications = list(form.cleaned_data["applications"].select_related("candidate").order_by("status_changed_at", "pk"))
        for application in applications:
            application.opening = self.opening
            application.display_name = selectors.display_name(application, self.opening)
            application.stage = self.opening.stage_label(application.status)
        return applications

    def back_to_board(self, request, message):
        messages.error(request, message)
        self.kept_selection = {str(pk) for pk in request.POST.getlist("applications")}
        self.template_name, self.on_board = BoardView.template_name, True
        return self.render_to_response(BoardView.get_context_data(self))

    def render_step(self, form, applications):
        context = AdminPage.get_context_data(self)
        context.update(opening=self.opening, form=form, applications=applications, count=len(applications),
                       board_url=reverse("recruitment_admin:board", args=[self.opening.pk]))
        return self.render_to_response(context)

    def post(self, request, *args, **kwargs):
        opening = self.opening
        if opening.recruitment_state not in MOVABLE_STATES:
            messages.error(request, actions.closed_opening_message(opening))
            return redirect("recruitment_admin:board", opening.pk)
        choosing = request.POST.get("step") == "choose"  # from the board: the selection only
        data = {"applications": request.POST.getlist("applications")} if choosing else request.POST
        form = BulkMoveForm(data, opening=opening)
        form.is_valid()
        if "applications" in form.errors:
            return self.back_to_board(request, " ".join(form.errors["applications"]))
        applications = self.selection(form)
        if not form.offer_targets(applications):
            return self.back_to_board(request, _(
                "Aucune étape n'est possible pour toutes les candidatures sélectionnées à la fois : choisissez des "
                "candidatures d'une même étape, ou déplacez-les une par une."))
        if choosing:
            return self.render_step(self.fresh_step_form(applications), applications)
        form = BulkMoveForm(request.POST, opening=opening)
        form.offer_targets(applications)
        if form.is_valid():
            target = form.cleaned_data["status"]
            if target not in form.targets:
                form.add_error("status", _("Cette étape n'est pas possible pour toutes les candidatures sélectionnées."))
            elif actions.bulk_move_needs_reason([a.status for a in applications], target) and not form.cleaned_data["reason"]:
                form.add_error("reason", _("Un retour à une étape précédente ou une réouverture exige un motif."))
        if not form.is_valid():
            messages.error(request, _("La sélection n'a pas été déplacée : corrigez les erreurs ci-dessous."))
            return self.render_step(form, applications)
        if not form.cleaned_data["confirm"]:
            target = form.cleaned_data["status"]
            return self.render_confirmation(
                opening=opening, form=form, applications=applications, count=len(applications),
                target=target, target_label=opening.stage_label(target),
                reason=form.cleaned_data["reason"], note=form.cleaned_data["note"],
                offer=target == ApplicationStatus.OFFER,
            )
        try:
            batch, count = actions.bulk_move(
                application_ids=[a.pk for a in applications], actor=request.user, to_status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"], note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
            messages.error(request, _("La sélection n'a pas été déplacée : corrigez les erreurs ci-dessous."))
            return self.render_step(form, applications)
        except Conflict as error:
            messages.error(request, str(error))
            return redirect("recruitment_admin:board", opening.pk)
        stage = opening.stage_label(form.cleaned_data["status"])
        text = ngettext("%(count)s candidature placée à l'étape « %(stage)s ».",
                        "%(count)s candidatures placées à l'étape « %(stage)s ».", count) % {"count": count, "stage": stage}
        html = render_to_string(
            "recruitment/admin/includes/undo_message.html",
            {
                "text": text,
                "batch": batch,
                "next": reverse("recruitment_admin:board", args=[opening.pk]),
                "undo_label": _("ce déplacement groupé"),
            },
            request=request,
        )
        django_messages.success(request, html)
        return redirect("recruitment_admin:board", opening.pk)

    def fresh_step_form(self, applications):
        form = BulkMoveForm(initial={"applications": [a.pk for a in applications]}, opening=self.opening)
        form.offer_targets(applications)
        return form


class UndoBatchView(View):
    """Puts every application of a bulk action back where it was."""

    http_method_names = ["post"]

    def post(self, request):
        batch = request.POST.get("batch", "")
        event = ApplicationEvent.objects.filter(batch=batch, kind="move").select_related("application").first()
        if event is None:
            raise Http404
        opening_id = event.application.opening_id
        try:
            count = actions.undo_batch(batch=batch, actor=request.user)
        except (ValidationError, Conflict) as error:
            messages.error(request, " ".join(error.messages) if isinstance(error, ValidationError) else str(error))
        else:
            messages.success(request, ngettext("%(count)s candidature remise à son étape précédente.",
                                               "%(count)s candidatures remises à leur étape précédente.", count)
                             % {"count": count})
        return redirect("recruitment_admin:board", opening_id)


class CloseOpeningView(ConfirmationMixin, BoardView):
    http_method_names = ["post"]
    confirm_template = "recruitment/admin/confirm_close.html"
    confirm_title = gettext_lazy("Confirmer la clôture")

    def get_trail(self):
        return [recruitment_crumb(), board_crumb(self.opening)]

    def confirmation(self, form):
        cancel = workflow.MOVES["cancel"]
        counts = dict(
            Application.objects.filter(opening=self.opening, status__in=cancel.sources)
            .order_by().values_list("status").annotate(n=Count("pk"))
        )
        stages = [(self.opening.stage_label(status), counts[status]) for status in PIPELINE if counts.get(status)]
        state = form.cleaned_data["state"]
        return self.render_confirmation(
            opening=self.opening, form=form, state=state, state_label=dict(form.fields["state"].choices)[state],
            count=sum(counts.values()), stages=stages,
        )

    def post(self, request, *args, **kwargs):
        opening = self.opening
        if opening.recruitment_state not in MOVABLE_STATES:
            messages.error(request, _("Ce recrutement est déjà clos (%(state)s).")
                           % {"state": OpeningState(opening.recruitment_state).label})
            return redirect("recruitment_admin:board", opening.pk)
        self.close_form = form = CloseOpeningForm(request.POST)
        if form.is_valid() and not form.cleaned_data["confirm"]:
            return self.confirmation(form)
        if form.is_valid():
            try:
                count = actions.close_opening(opening=opening, state=form.cleaned_data["state"], actor=request.user)
            except ValidationError as error:
                add_service_errors(form, error)
            except Conflict as error:
                messages.error(request, str(error))
                return redirect("recruitment_admin:board", opening.pk)
            else:
                messages.success(request, ngettext(
                    "Recrutement clôturé (%(state)s) : %(count)s candidature en cours annulée.",
                    "Recrutement clôturé (%(state)s) : %(count)s candidatures en cours annulées.", count,
                ) % {"state": OpeningState(opening.recruitment_state).label, "count": count})
                return redirect("recruitment_admin:board", opening.pk)
        messages.error(request, _("Le recrutement n'a pas été clôturé : corrigez les erreurs ci-dessous."))
        return self.render_to_response(self.get_context_data())


# --- one application -------------------------------------------------------------------------


class ApplicationMixin:
    def get_application(self):
        queryset = selectors.applications_visible_to(self.request.user).select_related("candidate", "opening")
        return get_object_or_404(queryset, pk=self.kwargs["pk"])


class ApplicationView(ApplicationMixin, AdminPage):
    template_name = "recruitment/admin/application.html"
    header_icon = "user"

    def dispatch(self, request, *args, **kwargs):
        self.application = self.get_application()
        self.opening = self.application.opening
        self.can_manage = permissions.can_manage(request.user, self.opening)
        self.check_access()
        self.identity = selectors.identity(self.application, self.opening)
        return super().dispatch(request, *args, **kwargs)

    def check_access(self):
        """Seeing the application is enough for the page; actions ask for more."""

    def get_trail(self):
        if self.can_manage:
            return [recruitment_crumb(), board_crumb(self.opening)]
        return [{"url": reverse("recruitment_admin:my_scorecards"), "label": _("Mes évaluations")}]

    def get_page_title(self):
        return self.identity.name

    def get_page_subtitle(self):
        return self.application.reference

    def editable(self):
        return self.can_manage and self.opening.recruitment_state in MOVABLE_STATES

    def get_context_data(self, move_form=None, schedule_form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        application, opening, user = self.application, self.opening, self.request.user
        interview_list = list(selectors.interviews_of(application))
        my_scorecard = Scorecard.objects.filter(application=application, interviewer=user).first()
        events = []
        if self.can_manage:
            for event in selectors.timeline(application):
                event.from_label = opening.stage_label(event.from_status) if event.from_status else ""
                event.to_label = opening.stage_label(event.to_status) if event.to_status else ""
                events.append(event)
        editable = self.editable()
        if editable and move_form is None:
            move_form = MoveForm(application=application)
        context.update(
            application=application,
            opening=opening,
            candidate=application.candidate,
            identity=self.identity,
            status_label=opening.stage_label(application.status),
            can_manage=self.can_manage,
            can_erase=permissions.is_hr(user) and application.candidate.anonymised_at is None,
            editable=editable,
            interviews=interview_list,
            events=events,
            summary=interviews.scorecard_summary(application) if self.can_manage else None,
            my_scorecard=my_scorecard,
            move_form=move_form if editable and (move_form.targets or move_form.is_bound) else None,
            schedule_form=(
                (schedule_form or ScheduleInterviewForm(opening=opening))
                if editable and interviews.schedulable(application.status) else None
            ),
            days_in_stage=max((timezone.now() - application.status_changed_at).days, 0),
        )
        return context


class EraseCandidateView(ConfirmationMixin, ApplicationView):
    """HR erases a person's data on their request (RGPD art. 17, received by mail or at the
    desk): a first POST shows what goes (every application of the person, its files, those
    in progress withdrawn), the second, with ``confirm``, runs ``gdpr.erase_person``. The
    applications stay, anonymous, for the statistics. Recruiters do not erase: a person's
    records may span openings they do not manage."""

    http_method_names = ["post"]
    confirm_template = "recruitment/admin/confirm_erase.html"
    confirm_title = gettext_lazy("Confirmer l'effacement des données")

    def check_access(self):
        require(permissions.is_hr(self.request.user), _("Seules les ressources humaines effacent les données d'un candidat."))

    def post(self, request, *args, **kwargs):
        candidate = self.application.candidate
        if candidate.anonymised_at is not None:
            messages.error(request, _("Les données de ce candidat sont déjà effacées."))
            return redirect("recruitment_admin:application", self.application.pk)
        if request.POST.get("confirm") != "1":
            return self.render_confirmation(
                application=self.application, identity=self.identity, **gdpr.erasure_preview(candidate)
            )
        erased = gdpr.erase_person(candidate, actor=request.user)
        references = sorted(reference for refs in erased.values() for reference in refs)
        messages.success(request, ngettext(
            "Données personnelles effacées ; %(count)s candidature est conservée sans nom : %(references)s.",
            "Données personnelles effacées ; %(count)s candidatures sont conservées sans nom : %(references)s.",
            len(references),
        ) % {"count": len(references), "references": ", ".join(references)})
        return redirect("recruitment_admin:board", self.opening.pk)


class MoveView(ApplicationView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        require(self.can_manage, _("Vous ne gérez pas ce recrutement."))
        application = self.application
        form = MoveForm(request.POST, application=application)
        if form.is_valid():
            try:
                moved = actions.Move(application.pk, user=request.user, params=form.cleaned_data).execute()
            except ValidationError as error:
                add_service_errors(form, error)
            except Conflict as error:
                messages.error(request, str(error))
                return redirect("recruitment_admin:application", application.pk)
            else:
                messages.success(request, actions.Move.done_message % {
                    "ref": moved.reference, "stage": self.opening.stage_label(moved.status)})
                return redirect("recruitment_admin:application", application.pk)
        messages.error(request, _("La candidature n'a pas changé d'étape : corrigez les erreurs ci-dessous."))
        return self.render_to_response(self.get_context_data(move_form=form))


class BoardMoveView(ApplicationView):
    """A move chosen on a board card (a button, or a card dropped on a column): done at once,
    back to the card on the board; a move the table makes wait for a reason (back, reject,
    reopen) first shows a step naming the move, with the reason form."""

    http_method_names = ["post"]
    template_name = "recruitment/admin/board_move.html"

    def get_trail(self):
        return [recruitment_crumb(), board_crumb(self.opening)]

    def get_page_title(self):
        return _("Changer d'étape")

    def board_url(self):
        return reverse("recruitment_admin:board", args=[self.opening.pk]) + f"#application-{self.application.pk}"

    def render_step(self, form, target):
        form.fields["reason"].required = True  # shown as required: this step exists for it
        context = AdminPage.get_context_data(self)
        application, opening = self.application, self.opening
        context.update(
            application=application, opening=opening, identity=self.identity, form=form, target=target,
            from_label=opening.stage_label(application.status), to_label=opening.stage_label(target),
            rejection=target == ApplicationStatus.REJECTED, board_url=self.board_url(),
        )
        return self.render_to_response(context)

    def post(self, request, *args, **kwargs):
        require(self.can_manage, _("Vous ne gérez pas ce recrutement."))
        application, opening = self.application, self.opening
        form = BoardMoveForm(request.POST, application=application)
        if not form.is_valid():
            messages.error(request, " ".join(form.errors.get("status", [])) or _("Choisissez une étape."))
            return redirect(self.board_url())
        target = form.cleaned_data["status"]
        transition = workflow.MOVES.between(application.status, target)
        if transition is not None and transition.reason_required and not form.cleaned_data["step"]:
            return self.render_step(BoardMoveForm(initial={"status": target}, application=application), target)
        params = {key: form.cleaned_data[key] for key in ("status", "reason", "note")}
        try:
            moved = actions.Move(application.pk, user=request.user, params=params).execute()
        except ValidationError as error:
            add_service_errors(form, error)
        except Conflict as error:
            messages.error(request, str(error))
            return redirect(self.board_url())
        else:
            messages.success(request, actions.Move.done_message % {
                "ref": moved.reference, "stage": opening.stage_label(moved.status)})
            return redirect(self.board_url())
        messages.error(request, _("La candidature n'a pas changé d'étape : corrigez les erreurs ci-dessous."))
        return self.render_step(form, target)


class ScheduleInterviewView(ApplicationView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        require(self.can_manage, _("Vous ne gérez pas ce recrutement."))
        application = self.application
        form = ScheduleInterviewForm(request.POST, opening=self.opening)
        if form.is_valid():
            data = form.cleaned_data
            try:
                interviews.schedule_interview(
                    application=application, starts_at=data["starts_at"], duration_minutes=data["duration_minutes"],
                    location=data["location"], interviewer_ids=[u.pk for u in data["interviewers"]], actor=request.user,
                )
            except ValidationError as error:
                add_service_errors(form, error, aliases={"interviewer_ids": "interviewers"})
            except Conflict as error:
                messages.error(request, str(error))
                return redirect("recruitment_admin:application", application.pk)
            else:
                messages.success(request, _("Entretien planifié : les invitations partent au candidat et au jury."))
                return redirect("recruitment_admin:application", application.pk)
        messages.error(request, _("L'entretien n'a pas été planifié : corrigez les erreurs ci-dessous."))
        return self.render_to_response(self.get_context_data(schedule_form=form))


class ApplicationFileView(ApplicationMixin, View):
    """Serves the CV or the cover letter from private storage, as an attachment, to whoever
    may see the application, except during anonymised screening (``recruitment.files``)."""

    def get(self, request, pk, kind):
        if kind not in files.FIELDS:
            raise Http404
        application = self.get_application()
        try:
            return files.file_response(application, kind)
        except files.Unavailable as unavailable:
            if not unavailable.hidden:
                raise Http404 from None
        messages.error(request, _("Présélection anonyme : le CV et la lettre de motivation restent masqués tant que "
                                  "la candidature n'a pas quitté la présélection."))
        return redirect("recruitment_admin:application", application.pk)


class ScorecardSummaryView(ApplicationView):
    """Criteria × interviewers, averages and opinions (recruiters of the opening and HR)."""

    template_name = "recruitment/admin/scorecard_summary.html"
    header_icon = "table"

    def check_access(self):
        require(self.can_manage, _("Seuls les recruteurs de l'offre et les RH voient la synthèse des évaluations."))

    def get_trail(self):
        return [recruitment_crumb(), board_crumb(self.opening),
                {"url": reverse("recruitment_admin:application", args=[self.application.pk]), "label": self.identity.name}]

    def get_page_title(self):
        return _("Synthèse des évaluations")

    def get_page_subtitle(self):
        return self.identity.name

    def get_context_data(self, **kwargs):
        context = AdminPage.get_context_data(self, **kwargs)  # not the application page's context
        context.update(application=self.application, opening=self.opening, identity=self.identity,
                       summary=interviews.scorecard_summary(self.application), levels=interviews.LEVELS)
        return context


# --- interviewers ---------------------------------------------------------------------------


class MyScorecardsView(AdminPage):
    template_name = "recruitment/admin/my_scorecards.html"
    header_icon = "form"
    page_title = gettext_lazy("Mes évaluations")

    def dispatch(self, request, *args, **kwargs):
        require(permissions.can_use_scorecards(request.user))
        return super().dispatch(request, *args, **kwargs)

    def get_trail(self):
        return []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = WagtailPaginator(selectors.scorecards_of(self.request.user), SCORECARDS_PER_PAGE).get_page(
            self.request.GET.get("p")
        )
        for scorecard in page.object_list:
            application = scorecard.application
            scorecard.display_name = selectors.display_name(application, application.opening)
            scorecard.stage_label = application.opening.stage_label(application.status)
            scorecard.of_name = of(scorecard.display_name)
        context.update(page=page, scorecards=page.object_list,
                       page_range=page.paginator.get_elided_page_range(page.number))
        return context


class ScorecardView(AdminPage):
    """One interviewer's scorecard: the form with its anchors, then read-only once submitted."""

    template_name = "recruitment/admin/scorecard_form.html"
    header_icon = "form"

    def dispatch(self, request, *args, **kwargs):
        self.scorecard = get_object_or_404(
            Scorecard.objects.filter(interviewer=request.user).select_related("application__opening", "application__candidate"),
            pk=kwargs["pk"],
        )
        self.application = self.scorecard.application
        self.opening = self.application.opening
        return super().dispatch(request, *args, **kwargs)

    def get_trail(self):
        return [{"url": reverse("recruitment_admin:my_scorecards"), "label": _("Mes évaluations")}]

    def get_page_title(self):
        return _("Grille d'évaluation")

    def get_page_subtitle(self):
        return selectors.display_name(self.application, self.opening)

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        scorecard = self.scorecard
        submitted = scorecard.submitted_at is not None
        interview_at = None if submitted else interviews.first_interview_at(self.application.pk, self.request.user)
        too_early = interview_at is not None and interview_at > timezone.now()
        context.update(
            scorecard=scorecard,
            application=self.application,
            opening=self.opening,
            display_name=selectors.display_name(self.application, self.opening),
            submitted=submitted,
            too_early=interviews.not_before_interview(interview_at) if too_early else "",
            form=None if submitted or too_early else (form or ScorecardForm()),
            levels=interviews.LEVELS,
            level_labels=interviews.LEVEL_LABELS,
            answers=[
                {"label": label, "help": sentence, "value": getattr(scorecard, name),
                 "level": interviews.LEVEL_LABELS.get(getattr(scorecard, name), "")}
                for name, label, sentence in interviews.criteria()
            ] if submitted else [],
        )
        return context

    def post(self, request, *args, **kwargs):
        if self.scorecard.submitted_at is not None:
            messages.error(request, _("Cette grille a déjà été soumise : elle est définitive."))
            return redirect("recruitment_admin:scorecard", self.scorecard.pk)
        form = ScorecardForm(request.POST)
        if form.is_valid():
            try:
                interviews.submit_scorecard(
                    scorecard_id=self.scorecard.pk, actor=request.user, scores=form.scores(),
                    recommendation=form.cleaned_data["recommendation"], comment=form.cleaned_data["comment"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            except Conflict as error:
                messages.error(request, str(error))
                return redirect("recruitment_admin:scorecard", self.scorecard.pk)
            else:
                messages.success(request, _("Grille d'évaluation %(of_name)s soumise. Merci !") % {
                    "of_name": of(selectors.display_name(self.application, self.opening))})
                return redirect("recruitment_admin:my_scorecards")
        messages.error(request, _("La grille n'a pas été soumise : corrigez les erreurs ci-dessous."))
        return self.render_to_response(self.get_context_data(form=form))

