"""Learner, manager and HR views of the learning app.

Course, lesson and quiz pages are Wagtail pages (their templates live next to these
views'); the views here take the POSTs those pages send (post/redirect/get, errors as
messages) and serve the team and HR reports. Every report runs a constant number of
queries whatever the number of rows; exports stream.
"""


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cms import selectors as cms_selectors
from cms.converters import parse_id
from cms.csvstream import streaming_csv_response
from cms.exceptions import Conflict
from cms.models import OrgUnit
from learning import charts, selectors, services
from learning.actions import TRANSITIONS
from learning.choices import EnrollmentStatus
from learning.models import CoursePage, Enrollment, LessonPage, QuizPage
from learning.permissions import can_view_hr_report, can_view_team

TEAM_PAGE_SIZE = 100
SHORT_ANSWER_MAX_LENGTH = 200
ERRORS = (PermissionDenied, ValidationError, Conflict)


# --- helpers ---------------------------------------------------------------------------------


def _visible_page(model, pk, request):
    """A live page of ``model`` that the request may see (Wagtail view restrictions), or 404."""
    page = model.objects.live().filter(pk=pk).first()
    if page is None:
        raise Http404(_("Cette page n'existe pas ou n'est pas publiée."))
    for restriction in page.get_view_restrictions():
        if not restriction.accept_request(request):
            raise Http404(_("Cette page n'existe pas ou n'est pas publiée."))
    return page


def _error_text(exc):
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("Cette action n'est pas possible.")


def _int_or_none(value):
    """A query-string id, or ``None`` when it is not one (ASCII digits, 1 … 2**63 - 1)."""
    return parse_id(value)


# --- learner actions (POST, then redirect) ---------------------------------------------------


@require_POST
def enroll(request, course_id):
    course = _visible_page(CoursePage, course_id, request)
    course_url = course.get_url(request)
    if not request.user.is_authenticated:
        return redirect_to_login(course_url)
    try:
        _enrollment, created = services.self_enroll(user=request.user, course=course)
    except ERRORS as exc:
        messages.error(request, _error_text(exc))
        return redirect(course_url)
    if created:
        messages.success(request, _("Vous êtes inscrit(e) à la formation « %(title)s ».") % {"title": course.title})
    else:
        messages.info(request, _("Vous êtes déjà inscrit(e) à cette formation."))
    return redirect(course_url)


@require_POST
def complete_lesson(request, lesson_id):
    lesson = _visible_page(LessonPage, lesson_id, request)
    lesson_url = lesson.get_url(request)
    if not request.user.is_authenticated:
        return redirect_to_login(lesson_url)
    try:
        enrollment = services.complete_lesson(user=request.user, lesson=lesson)
    except ERRORS as exc:
        messages.error(request, _error_text(exc))
        return redirect(lesson_url)
    course = enrollment.course
    if enrollment.status == EnrollmentStatus.COMPLETED:
        messages.success(request, _("Bravo : vous avez terminé la formation « %(title)s ».") % {"title": course.title})
        return redirect(course.get_url(request))
    messages.success(request, _("Leçon « %(title)s » terminée.") % {"title": lesson.title})
    next_step = selectors.course_outline(request.user, course, current=lesson)["next_todo"]
    return redirect(next_step.get_url(request) if next_step is not None else course.get_url(request))


def answers_from_post(quiz, data):
    """Build the API's answers dict from the quiz form.

    Returns ``(answers, missing, given)``: ``answers`` as ``services.submit_quiz`` takes
    it ({question id: [choice ids] | [true|false] | text}), the ids of unanswered
    questions, and the raw submitted values (to fill the form again).
    """
    answers, missing, given = {}, [], {}
    for block in quiz.questions:
        key = f"q-{block.id}"
        values = [value for value in data.getlist(key) if value]
        given[block.id] = values
        if block.block_type in ("single_choice", "multiple_choice"):
            if values:
                answers[block.id] = values
        elif block.block_type == "true_false":
            if len(values) == 1 and values[0] in ("true", "false"):
                answers[block.id] = [values[0] == "true"]
        elif block.block_type == "short_answer":
            text = (data.get(key) or "").strip()[:SHORT_ANSWER_MAX_LENGTH]
            given[block.id] = [text] if text else []
            if text:
                answers[block.id] = text
        if block.id not in answers:
            missing.append(block.id)
    return answers, missing, given


def _first_input_id(question):
    base = f"q-{question['id']}"
    if question["type"] in ("single_choice", "multiple_choice") and question["choices"]:
        return f"{base}-{question['choices'][0]['id']}"
    if question["type"] == "true_false":
        return f"{base}-true"
    return base


def _quiz_with_errors(request, quiz, missing, given):
    """The quiz page again, with an error summary and what the learner had answered."""
    context = quiz.get_context(request)
    errors = []
    for number, question in enumerate(context["questions"], start=1):
        values = given.get(question["id"], [])
        question["value"] = values[0] if values else ""
        for choice in question["choices"]:
            choice["checked"] = choice["id"] in values
        if question["id"] in missing:
            question["error"] = _("Répondez à cette question.")
            question["anchor"] = _first_input_id(question)
            errors.append({"anchor": question["anchor"], "number": number, "message": question["error"]})
    context["quiz_errors"] = errors
    return TemplateResponse(request, quiz.get_template(request), context)


@require_POST
def submit_quiz(request, quiz_id):
    quiz = _visible_page(QuizPage, quiz_id, request)
    quiz_url = quiz.get_url(request)
    if not request.user.is_authenticated:
        return redirect_to_login(quiz_url)
    answers, missing, given = answers_from_post(quiz, request.POST)
    if missing:  # no attempt is used up by an incomplete form
        return _quiz_with_errors(request, quiz, missing, given)
    try:
        attempt, _enrollment = services.submit_quiz(user=request.user, quiz=quiz, answers=answers)
    except ERRORS as exc:
        messages.error(request, _error_text(exc))
        return redirect(quiz_url)
    values = {"score": f"{attempt.score:.0f}", "pass_mark": quiz.pass_mark}
    if attempt.passed:
        messages.success(request, _("Quiz réussi : %(score)s %% (note requise : %(pass_mark)s %%).") % values)
    else:
        messages.warning(request, _("Quiz non réussi : %(score)s %% (note requise : %(pass_mark)s %%).") % values)
    return redirect(f"{quiz_url}#resultat")


# --- manager: the team's training ----------------------------------------------------------


def _team_params(request):
    if not can_view_team(request.user):
        raise PermissionDenied(_("Cette page est réservée aux encadrants."))
    agent = cms_selectors.agent_for_user(request.user)
    all_levels = request.GET.get("levels") == "all"
    course_id = _int_or_none(request.GET.get("course"))
    return agent, all_levels, course_id


@login_required
@require_GET
def team(request):
    agent, all_levels, course_id = _team_params(request)
    rows = selectors.team_enrollments(agent, all_levels=all_levels, course_id=course_id)
    page_obj = Paginator(rows, TEAM_PAGE_SIZE).get_page(request.GET.get("page"))
    courses = list(
        selectors.team_enrollments(agent, all_levels=all_levels)
        .order_by("course__title", "course_id")
        .values_list("course_id", "course__title")
        .distinct()
    )
    context = {
        "page_obj": page_obj,
        "rows": page_obj.object_list,
        "overdue_count": rows.filter(is_overdue=True).count(),
        "all_levels": all_levels,
        "course_id": course_id,
        "courses": courses,
        "export_query": request.GET.urlencode(),
        "grantable_statuses": TRANSITIONS.sources_of("grant_new_cycle"),
    }
    return render(request, "learning/team.html", context)


# A cell starting like a formula would be evaluated by a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_date(value):
    return timezone.localtime(value).date().isoformat() if value else ""


def team_csv_rows(queryset):
    """The header, then one row per enrolment (streamed: the queryset is iterated in chunks)."""
    yield [
        _("Matricule"),
        _("Nom"),
        _("Unité (code)"),
        _("Unité"),
        _("Formation"),
        _("Statut"),
        _("Progression (%)"),
        _("Échéance"),
        _("En retard"),
        _("Terminé le"),
    ]
    labels = dict(EnrollmentStatus.choices)
    yes, no = _("oui"), _("non")
    for e in queryset.iterator(chunk_size=2000):
        yield [
            _cell(e.agent.employee_number),
            _cell(e.agent.full_name),
            _cell(e.agent.org_unit.code),
            _cell(e.agent.org_unit.name),
            _cell(e.course.title),
            str(labels.get(e.status, e.status)),
            f"{e.progress * 100:.0f}",
            _csv_date(e.due_at),
            yes if e.is_overdue else no,
            _csv_date(e.completed_at),
        ]


@login_required
@require_GET
def team_export(request):
    """The team table as CSV (";" and a BOM, as French spreadsheets expect), streamed."""
    agent, all_levels, course_id = _team_params(request)
    rows = selectors.team_enrollments(agent, all_levels=all_levels, course_id=course_id)
    filename = f"formations-equipe-{timezone.localdate().isoformat()}.csv"
    return streaming_csv_response(team_csv_rows(rows), filename)


@login_required
@require_POST
def grant_new_cycle(request, enrollment_id):
    """After a failure, the agent's manager (any level) or HR opens a new cycle."""
    enrollment = Enrollment.objects.select_related("agent__user", "course").filter(pk=enrollment_id).first()
    if enrollment is None:
        raise Http404
    try:
        services.grant_new_cycle(actor=request.user, enrollment=enrollment)
    except PermissionDenied as exc:  # someone else's agent: do not confirm the enrolment exists
        raise Http404 from exc
    except ERRORS as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(
            request,
            _("Nouvelle inscription accordée à %(name)s pour « %(title)s ».")
            % {"name": enrollment.agent.full_name, "title": enrollment.course.title},
        )
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("learning:team")
    return redirect(target)


# --- HR: completion by org unit ------------------------------------------------------------------


def _hr_params(request):
    if not can_view_hr_report(request.user):
        raise PermissionDenied(_("Cette page est réservée aux ressources humaines."))
    code = (request.GET.get("unit") or "").strip()
    parent = None
    if code:
        parent = OrgUnit.objects.filter(code=code).first()
        if parent is None:
            raise Http404(_("Unité inconnue."))
    course = None
    course_id = _int_or_none(request.GET.get("course"))
    if request.GET.get("course"):
        course = selectors.published_courses().filter(pk=course_id).first() if course_id else None
        if course is None:
            raise Http404(_("Formation inconnue."))
    return parent, course


def _chart_title(parent, course):
    scope = parent.name if parent else _("directions")
    if course is not None:
        return _("Taux de complétion par unité (%(scope)s) — %(course)s") % {"scope": scope, "course": course.title}
    return _("Taux de complétion par unité (%(scope)s)") % {"scope": scope}


@login_required
@require_GET
def hr(request):
    parent, course = _hr_params(request)
    rows = selectors.completion_by_unit(parent, course_id=course.pk if course else None)
    title = _chart_title(parent, course)
    context = {
        "parent": parent,
        "ancestors": list(parent.get_ancestors()) if parent is not None else [],
        "course": course,
        "courses": selectors.published_courses().only("pk", "title"),
        "rows": rows,
        "chart_title": title,
        "chart_svg": charts.completion_rate_chart(rows, title=title) if rows else "",
        "chart_query": request.GET.urlencode(),
    }
    return render(request, "learning/hr.html", context)


@login_required
@require_GET
def hr_chart(request):
    parent, course = _hr_params(request)
    rows = selectors.completion_by_unit(parent, course_id=course.pk if course else None)
    svg = charts.completion_rate_chart(rows, title=_chart_title(parent, course), standalone=True)
    return HttpResponse(
        svg, content_type="image/svg+xml; charset=utf-8", headers={"Cache-Control": "private, no-store"}
    )


@login_required
@require_GET
def hr_export(request):
    """The table of the training dashboard as CSV (";" and a BOM, like the appraisal
    dashboard's), for the same level and course, with the same rounded rates."""
    parent, course = _hr_params(request)
    rows = selectors.completion_by_unit(parent, course_id=course.pk if course else None)

    def lines():
        yield [_("Code"), _("Unité"), _("Inscriptions"), _("Terminées"), _("Taux de complétion (%)"), _("En retard")]
        for row in rows:
            yield [
                _cell(row["unit"].code), _cell(row["unit"].name), row["total"], row["completed"],
                "" if row["percent"] is None else row["percent"], row["overdue"],
            ]

    parts = ["formations-par-unite", parent.code if parent else "", f"formation-{course.pk}" if course else ""]
    filename = "-".join(part for part in parts if part) + f"-{timezone.localdate().isoformat()}.csv"
    return streaming_csv_response(lines(), filename)

