"""Front-end views of the entretien professionnel (agents, evaluators, reviewers, HR).

Included under ``/entretiens/`` (namespace ``appraisal``). Every read starts from
``selectors.appraisals_visible_to``: an appraisal the caller may not see answers 404, never
403. Every state change is an action of appraisal/actions.py (``execute()``) and every draft
goes through ``services.save_draft``; these views only turn requests into calls and errors
into pages: ``Conflict`` becomes a message after a redirect (post/redirect/get),
``ValidationError`` re-renders the form with an error summary (400), ``PermissionDenied``
on a visible appraisal answers 403 (an action refused by the workflow, such as a delegation
outside the agent's management chain, re-renders the form with the sentence). Each page runs a fixed number of queries.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.formats import time_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from appraisal import content, deadlines, pdf, permissions, selectors, services, workflow
from appraisal.actions import ACTIONS, Notify, action_for, allowed_actions, offered_actions
from appraisal.choices import AppraisalState as S
from appraisal.choices import ObjectiveStatus
from appraisal.choices import RevisionState as R
from appraisal.forms import ACTION_DONE, ACTION_FORMS, ACTION_LABELS, TEXT_KINDS, ContentForm, missing_section_ids
from appraisal.models import Objective
from appraisal.permissions import AGENT, EVALUATOR, REPORT_STATES
from cms.exceptions import Conflict
from cms.selectors import agent_for_user

EDITABLE = services.DRAFT_RULES[EVALUATOR]
QUEUE_PAGE_SIZE = 100


# --- helpers ---------------------------------------------------------------------------------


def _visible(request, pk):
    """The appraisal if the caller may see it, else 404 (its existence must not leak)."""
    return get_object_or_404(selectors.appraisals_visible_to(request.user), pk=pk)


def _today():
    return timezone.localdate()


def _live_courses():
    from learning.models import CoursePage

    return list(CoursePage.objects.live().order_by("title").values_list("pk", "title"))


def _course_titles(ids):
    from learning.models import CoursePage

    ids = {i for i in ids if isinstance(i, int) and not isinstance(i, bool) and 0 < i <= content.MAX_ID}
    if not ids:
        return {}
    return dict(CoursePage.objects.filter(pk__in=ids).values_list("pk", "title"))


def _carried(appraisal):
    return list(Objective.objects.filter(assessed_in=appraisal).order_by("position", "pk"))


def _safe_next(request, default):
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _summary(form):
    """A Django form's errors as error-summary items (href to the field)."""
    items = [{"id": None, "label": "", "message": e} for e in form.non_field_errors()]
    for field in form:
        for error in field.errors:
            items.append({"id": field.id_for_label, "label": field.label, "message": error})
    return items


def _apply_validation_error(form, exc):
    """Put a ValidationError raised by the workflow on the form's fields (or the form)."""
    if hasattr(exc, "error_dict"):
        for key, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(key if key in form.fields else None, error.message % (error.params or {}))
    else:
        for message in exc.messages:
            form.add_error(None, message)


def time_limits(appraisal, today=None):
    """The time limits that matter now for an appraisal (dates from appraisal.deadlines, no query)."""
    today = today or _today()
    out = {}
    if appraisal.state == S.CREATED:
        out["convoke_by"] = deadlines.convoke_by(appraisal.campaign)
        out["convoke_late"] = today > out["convoke_by"]
    if appraisal.state == S.HELD and appraisal.held_at:
        out["notify_by"] = deadlines.notify_by(appraisal)
        out["notify_late"] = today > out["notify_by"]
    if appraisal.notified_at and appraisal.state in REPORT_STATES:
        if appraisal.revision_state == R.NONE:
            out["revision_by"] = deadlines.revision_by(appraisal)
            out["revision_late"] = today > out["revision_by"]
        elif appraisal.revision_state == R.REQUESTED:
            out["answer_by"] = deadlines.revision_answer_by(appraisal)
        elif appraisal.revision_state in (R.REJECTED, R.IMPLICITLY_REJECTED):
            out["cap_by"] = deadlines.cap_by(appraisal)
    return out


def report_sections(appraisal, answers, carried, course_titles, *, observations=True):
    """The report for reading: one dict per section of the frozen template. The agent's
    observations are a draft until signed: ``observations=False`` leaves them out. Whatever
    is stored, only what follows the rules of ``appraisal.content`` is shown."""
    answers = content.readable_answers(appraisal.campaign.template_snapshot, answers)
    out = []
    for sid, kind, spec in content.template_sections(appraisal.campaign.template_snapshot):
        value = answers.get(sid)
        item = {"type": kind, "id": sid, "title": spec.get("title", ""), "help_text": spec.get("help_text", "")}
        if kind in TEXT_KINDS:
            item["text"] = value if isinstance(value, str) else ""
        elif kind == "agent_observations":
            item["text"] = appraisal.observations if observations else ""
        elif kind == "criteria_grid":
            levels = {lv["id"]: (lv.get("value") or {}).get("label", "") for lv in spec.get("scale") or []}
            value = value if isinstance(value, dict) else {}
            item["criteria"] = [
                {
                    "label": (c.get("value") or {}).get("label", ""),
                    "level": levels.get((value.get(c["id"]) or {}).get("level"), ""),
                    "comment": (value.get(c["id"]) or {}).get("comment", ""),
                }
                for c in spec.get("criteria") or []
            ]
            item["comment"] = bool(spec.get("comment"))
        elif kind == "results":
            value = value if isinstance(value, dict) else {}
            results = []
            for objective in carried:
                result = value.get(str(objective.pk)) or {}
                status = result.get("status", "")
                results.append(
                    {
                        "title": objective.title,
                        "due_on": objective.due_on,
                        "status": ObjectiveStatus(status).label if status in ObjectiveStatus.values else "",
                        "comment": result.get("comment", ""),
                    }
                )
            item["results"] = results
        elif kind == "objectives":
            item["objectives"] = [
                {
                    "title": o.get("title", ""),
                    "indicators": o.get("indicators", ""),
                    "due_on": parse_date(o.get("due_on") or ""),
                }
                for o in (value if isinstance(value, list) else [])
                if isinstance(o, dict)
            ]
        elif kind == "training_needs":
            item["needs"] = [
                {
                    "course": course_titles.get(n["course"]) if n.get("course") is not None else None,
                    "text": n.get("text", ""),
                }
                for n in (value if isinstance(value, list) else [])
                if isinstance(n, dict)
            ]
        out.append(item)
    return out


def _course_ids(appraisal, answers):
    snapshot = appraisal.campaign.template_snapshot
    readable = content.readable_answers(snapshot, answers)
    ids = []
    for sid, kind, _spec in content.template_sections(snapshot):
        if kind == "training_needs":
            ids += [n["course"] for n in readable[sid] if n["course"] is not None]
    return ids


def _timeline(appraisal):
    rows = []
    transitions = appraisal.transitions.select_related(
        "actor", "on_behalf_of__user", "from_evaluator__user", "to_evaluator__user"
    ).order_by("at", "pk")
    for t in transitions:
        label = ACTIONS[t.action].label if t.action in ACTIONS else t.action
        actor = (t.actor.get_full_name() or t.actor.get_username()) if t.actor else _("Système")
        rows.append(
            {
                "at": t.at,
                "label": label,
                "actor": actor,
                "on_behalf_of": t.on_behalf_of.full_name if t.on_behalf_of else "",
                "from_state": S(t.from_state).label if t.from_state in S.values else t.from_state,
                "to_state": S(t.to_state).label if t.to_state in S.values else t.to_state,
                "changed": t.from_state != t.to_state,
                "note": t.note,
                "version": t.version,
                "from_evaluator": _person(t.from_evaluator),
                "to_evaluator": _person(t.to_evaluator),
            }
        )
    return rows


def _person(agent):
    return {"name": agent.full_name, "employee_number": agent.employee_number} if agent is not None else None


def _action_items(request, appraisal, allowed, failed=None):
    items = []
    names = list(allowed)
    if failed is not None and failed[0] not in names:
        names.append(failed[0])
    for name in names:
        if failed is not None and failed[0] == name:
            form = failed[1]
        else:
            form = ACTION_FORMS[name](appraisal=appraisal, auto_id=f"{name}-%s")
        title, button = ACTION_LABELS[name]
        items.append(
            {
                "name": name,
                "title": title,
                "button": button,
                "form": form,
                "confirm": ACTIONS[name].confirm,
                "url": reverse("appraisal:action", kwargs={"pk": appraisal.pk, "action": name}),
            }
        )
    return items


def _past_reports(appraisal):
    """The agent's reports of the other campaigns once notified, latest first (one query)."""
    return list(
        selectors.own_appraisals(appraisal.agent)
        .exclude(pk=appraisal.pk)
        .filter(state__in=REPORT_STATES)
    )


def _render_confirm(request, appraisal, action, form, *, status=200):
    """The confirmation step of an irreversible act: what will happen, then the POST (with
    ``confirm=1``) or the way back to the appraisal. Works without JavaScript."""
    action_class = ACTIONS[action]
    context = {
        "appraisal": appraisal,
        "action": action,
        "title": action_class.label,
        "consequences": action_class.consequences(appraisal),
        "form": form,
        "errors": _summary(form) if form.is_bound and form.errors else [],
        "button": action_class.confirm_button or action_class.button,
        "url": reverse("appraisal:action", kwargs={"pk": appraisal.pk, "action": action}),
        "next": _safe_next(request, ""),
        "deadlines": time_limits(appraisal),
    }
    return render(request, "appraisal/confirm.html", context, status=status)


def _render_detail(request, appraisal, *, failed=None, status=200):
    user = request.user
    mine = permissions.roles_on(user, appraisal)
    if permissions.can_view_all(user) and status == 200:
        services.log_access(appraisal=appraisal, user=user, channel="web")
    versions = list(appraisal.versions.select_related("signed_by").order_by("number"))
    answers, shown_version = appraisal.answers, None
    if not permissions.sees_draft(user, appraisal):
        # The agent reads the report once notified; after an accepted revision, the last
        # notified version until the corrected one is notified.
        shown_version = versions[-1] if versions else None
        answers = shown_version.answers if shown_version else None
    carried = _carried(appraisal) if answers is not None else []
    report = (
        report_sections(
            appraisal,
            answers,
            carried,
            _course_titles(_course_ids(appraisal, answers)),
            observations=permissions.sees_observations(user, appraisal),
        )
        if answers is not None
        else None
    )
    allowed = offered_actions(user, appraisal)
    waiting_hold = "hold" in allowed_actions(user, appraisal) and "hold" not in allowed
    context = {
        "appraisal": appraisal,
        "roles": mine,
        "is_agent": AGENT in mine,
        "is_evaluator": EVALUATOR in mine,
        "can_edit": EVALUATOR in mine and appraisal.state in EDITABLE,
        "actions": _action_items(request, appraisal, allowed, failed),
        "failed": failed[0] if failed else None,
        "errors": _summary(failed[1]) if failed else [],
        "report": report,
        "report_first": AGENT in mine and appraisal.state == S.NOTIFIED,
        "shown_version": shown_version,
        "versions": versions,
        "timeline": _timeline(appraisal),
        "deadlines": time_limits(appraisal),
        "state_label": S(appraisal.state).label,
        "revision_label": R(appraisal.revision_state).label if appraisal.revision_state else "",
        "frozen": appraisal.state in REPORT_STATES or appraisal.state == S.CANCELLED,
        "hold_from": appraisal.interview_at if waiting_hold else None,
        "pdf_url": reverse("appraisal:pdf", kwargs={"pk": appraisal.pk}) if appraisal.state in REPORT_STATES else "",
        "past_reports": _past_reports(appraisal) if AGENT in mine else [],
        "hr_view": permissions.can_view_all(user) and not (mine & {AGENT, EVALUATOR, permissions.REVIEWER}),
        "revision_pending": appraisal.revision_state == R.REQUESTED,
    }
    return render(request, "appraisal/detail.html", context, status=status)


# --- pages -----------------------------------------------------------------------------------


@login_required
def my_appraisals(request):
    """ "Mes entretiens": one's own appraisals, the ones one conducts (by state, with the
    time limits) and, for a reviewer, the visa queue's size. A fixed number of queries."""
    me = agent_for_user(request.user)
    state_filter = request.GET.get("etat", "")
    if state_filter not in S.values or state_filter == S.CANCELLED:
        state_filter = ""
    own, groups, counts, visa_count, revision_count, reviewer = [], [], {}, 0, 0, False
    if me is not None:
        own = list(selectors.own_appraisals(me))
        counts = selectors.evaluator_state_counts(me)
        queue = selectors.evaluator_queue(me)
        if state_filter:
            queue = queue.filter(state=state_filter)
        today = _today()
        by_state = {}
        for appraisal in queue:
            by_state.setdefault(appraisal.state, []).append(
                {"appraisal": appraisal, "deadlines": time_limits(appraisal, today)}
            )
        groups = [
            {"state": value, "label": label, "rows": by_state[value]} for value, label in S.choices if value in by_state
        ]
        visa_count = selectors.reviewer_queue(me).count()
        revision_count = selectors.revision_requests_to_answer(me).count()
        reviewer = bool(visa_count or revision_count) or selectors.is_reviewer(me)
    states = [{"value": v, "label": label, "count": counts.get(v, 0)} for v, label in S.choices if v != S.CANCELLED]
    context = {
        "me": me,
        "own": own,
        "groups": groups,
        "states": states,
        "state_filter": state_filter,
        "conducts": bool(counts),
        "visa_count": visa_count,
        "revision_count": revision_count,
        "reviewer": reviewer,
    }
    return render(request, "appraisal/my_appraisals.html", context)


@login_required
def detail(request, pk):
    appraisal = _visible(request, pk)
    return _render_detail(request, appraisal)


@login_required
@require_POST
def action(request, pk, action):
    appraisal = _visible(request, pk)
    action_class = action_for(action)
    if action_class is None:
        raise Http404(_("Action inconnue."))
    action_class(appraisal, user=request.user).check_permission()  # 403 before reading the form
    detail_url = reverse("appraisal:detail", kwargs={"pk": appraisal.pk})
    form = ACTION_FORMS[action](request.POST, appraisal=appraisal, auto_id=f"{action}-%s")
    confirming = action_class.confirm and request.POST.get("confirm") != "1"
    if not form.is_valid():
        if action_class.confirm and not confirming:
            return _render_confirm(request, appraisal, action, form, status=400)
        return _render_detail(request, appraisal, failed=(action, form), status=400)
    try:
        operation = action_class(appraisal.pk, user=request.user, params=form.params())
        if confirming:  # the confirmation step: every check, nothing done yet
            operation.check()
            return _render_confirm(request, appraisal, action, form)
        done = operation.execute()
    except Conflict as exc:
        messages.error(request, str(exc))
        return redirect(_safe_next(request, detail_url))
    except ValidationError as exc:
        _apply_validation_error(form, exc)
        appraisal.refresh_from_db()
        if action_class.confirm and not confirming:
            return _render_confirm(request, appraisal, action, form, status=400)
        return _render_detail(request, appraisal, failed=(action, form), status=400)
    except PermissionDenied as exc:  # e.g. a delegation outside the agent's management chain
        form.add_error("evaluator" if action == "delegate" else None, str(exc))
        appraisal.refresh_from_db()
        return _render_detail(request, appraisal, failed=(action, form), status=403)
    messages.success(request, ACTION_DONE[action])
    if not permissions.can_view(request.user, done):
        return redirect("appraisal:list")  # e.g. a manager who delegated the interview
    return redirect(_safe_next(request, detail_url))


@login_required
def confirm(request, pk, action):
    """GET: the confirmation page of an irreversible act (visa, notify), reached by a link;
    its form POSTs to ``appraisal:action`` with ``confirm=1``. 404 for another action or an
    appraisal the caller may not see, 403 for the wrong actor; at the wrong moment, back to
    the appraisal with the sentence that says why."""
    appraisal = _visible(request, pk)
    action_class = action_for(action)
    if action_class is None or not action_class.confirm:
        raise Http404(_("Action inconnue."))
    operation = action_class(appraisal, user=request.user)
    operation.check_permission()
    try:
        operation.check_moment()
    except Conflict as exc:
        messages.error(request, str(exc))
        return redirect("appraisal:detail", pk=appraisal.pk)
    form = ACTION_FORMS[action](appraisal=appraisal, auto_id=f"{action}-%s")
    return _render_confirm(request, appraisal, action, form)


@login_required
def report_pdf(request, pk):
    """The compte rendu as a PDF attachment, once notified (the archived copy once final). A
    read by HR of someone else's report is logged."""
    appraisal = _visible(request, pk)
    if appraisal.state not in REPORT_STATES:
        raise PermissionDenied(_("Le compte rendu est disponible en PDF une fois signé et notifié par l'évaluateur."))
    if permissions.can_view_all(request.user) and AGENT not in permissions.roles_on(request.user, appraisal):
        services.log_access(appraisal=appraisal, user=request.user, channel="pdf")
    filename = f"compte-rendu-{appraisal.campaign.year}-{appraisal.agent.employee_number}-v{appraisal.version}.pdf"
    if appraisal.pdf and appraisal.pdf.storage.exists(appraisal.pdf.name):  # archived at final
        response = FileResponse(
            appraisal.pdf.open("rb"), as_attachment=True, filename=filename, content_type="application/pdf"
        )
    else:
        data = pdf.render_pdf(appraisal)
        response = HttpResponse(data.read() if hasattr(data, "read") else data, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def edit(request, pk):
    """The evaluator's form (states created, convoked, held)."""
    appraisal = _visible(request, pk)
    if EVALUATOR not in permissions.roles_on(request.user, appraisal):
        raise PermissionDenied(_("Seul l'évaluateur rédige le compte rendu."))
    detail_url = reverse("appraisal:detail", kwargs={"pk": appraisal.pk})
    if appraisal.state not in EDITABLE:
        messages.info(request, _("Le compte rendu est figé depuis sa notification : il ne peut plus être modifié."))
        return redirect(detail_url)
    snapshot = appraisal.campaign.template_snapshot
    carried, courses = _carried(appraisal), _live_courses()
    if request.method != "POST":
        form = ContentForm(snapshot=snapshot, carried=carried, courses=courses, answers=appraisal.answers)
        return _render_edit(request, appraisal, form)

    form = ContentForm(snapshot=snapshot, carried=carried, courses=courses, data=request.POST)
    if not form.is_valid():
        return _render_edit(request, appraisal, form, status=400)
    try:
        services.save_draft(appraisal_id=appraisal.pk, actor=request.user, answers=form.answers)
    except Conflict as exc:
        messages.error(request, str(exc))
        return redirect(detail_url)
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, "", message)
        return _render_edit(request, appraisal, form, status=400)
    if request.POST.get("intent") != "notify":
        messages.success(request, _("Brouillon enregistré."))
        return redirect("appraisal:edit", pk=appraisal.pk)
    late_reason = request.POST.get("late_reason", "")
    try:  # every check of the notification; the act itself follows the confirmation step
        Notify(appraisal.pk, user=request.user, params={"reason": late_reason}).check()
    except Conflict as exc:
        messages.error(
            request, _("Brouillon enregistré, mais le compte rendu n'est pas notifié : %(why)s") % {"why": exc}
        )
        return redirect("appraisal:edit", pk=appraisal.pk)
    except ValidationError as exc:
        appraisal.refresh_from_db()
        for message in exc.messages:
            form.add_error(None, "", message)
        missing = workflow.missing_required_sections(appraisal)
        titles = {s["id"]: (s.get("value") or {}).get("title", "") for s in snapshot}
        for sid in missing_section_ids(snapshot, missing):
            form.add_error(f"s__{sid}", titles[sid], _("Cette section est obligatoire pour notifier le compte rendu."))
        return _render_edit(request, appraisal, form, status=400, notify_refused=True)
    appraisal.refresh_from_db()
    messages.success(request, _("Brouillon enregistré."))
    notify_form = ACTION_FORMS["notify"](initial={"reason": late_reason}, appraisal=appraisal, auto_id="notify-%s")
    return _render_confirm(request, appraisal, "notify", notify_form)


def _render_edit(request, appraisal, form, *, status=200, notify_refused=False):
    dl = time_limits(appraisal)
    context = {
        "appraisal": appraisal,
        "form": form,
        "sections": form.sections(),
        "courses": form.courses,
        "objective_statuses": ObjectiveStatus.choices,
        "deadlines": dl,
        "can_notify": appraisal.state == S.HELD,
        "late": bool(dl.get("notify_late")),
        "late_reason": request.POST.get("late_reason", "") if request.method == "POST" else "",
        "notify_refused": notify_refused,
        "state_label": S(appraisal.state).label,
    }
    return render(request, "appraisal/form.html", context, status=status)


@require_POST
def autosave(request, pk):
    """JSON: {saved_at, message} or {detail} with 400/401/403/404/409."""
    if not request.user.is_authenticated:
        return JsonResponse({"detail": _("Votre session a expiré : reconnectez-vous.")}, status=401)
    appraisal = selectors.appraisals_visible_to(request.user).filter(pk=pk).first()
    if appraisal is None:
        return JsonResponse({"detail": _("Entretien introuvable.")}, status=404)
    mine = permissions.roles_on(request.user, appraisal)
    content = any(key.startswith("s__") for key in request.POST)
    try:
        if content:
            if EVALUATOR not in mine:
                raise PermissionDenied(_("Seul l'évaluateur rédige le compte rendu."))
            if appraisal.state not in EDITABLE:
                raise Conflict(_("Le compte rendu est figé depuis sa notification : il ne peut plus être modifié."))
            form = ContentForm(
                snapshot=appraisal.campaign.template_snapshot,
                carried=_carried(appraisal),
                courses=_live_courses(),
                data=request.POST,
            )
            if not form.is_valid():
                return JsonResponse(
                    {
                        "detail": _("Brouillon non enregistré : %(error)s")
                        % {"error": "; ".join(f"{e['label']} : {e['message']}" for e in form.errors)},
                        "errors": form.errors,
                    },
                    status=400,
                )
            saved = services.save_draft(appraisal_id=appraisal.pk, actor=request.user, answers=form.answers)
        elif "observations" in request.POST:
            saved = services.save_draft(
                appraisal_id=appraisal.pk, actor=request.user, observations=request.POST.get("observations", "")
            )
        else:
            return JsonResponse({"detail": _("Rien à enregistrer.")}, status=400)
    except PermissionDenied as exc:
        return JsonResponse({"detail": str(exc)}, status=403)
    except Conflict as exc:
        return JsonResponse({"detail": str(exc)}, status=409)
    except ValidationError as exc:
        return JsonResponse({"detail": " ".join(exc.messages)}, status=400)
    at = timezone.localtime(saved.updated_at)
    return JsonResponse(
        {
            "saved_at": at.isoformat(),
            "message": _("Brouillon enregistré à %(time)s") % {"time": time_format(at, "H:i")},
        },
    )


@login_required
@require_POST
def observations(request, pk):
    """The agent's observations saved as a draft before signing (no JavaScript needed)."""
    appraisal = _visible(request, pk)
    try:
        services.save_draft(
            appraisal_id=appraisal.pk, actor=request.user, observations=request.POST.get("observations", "")
        )
    except Conflict as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("Vos observations sont enregistrées (brouillon) : signez le compte rendu pour les transmettre.")
        )
    return redirect("appraisal:detail", pk=appraisal.pk)


@login_required
def reviewer_queue(request):
    """The reviewer's (N+2) reports to visa, and revision requests to answer."""
    me = agent_for_user(request.user)
    rows, revisions, page = [], [], None
    if me is not None:
        page = Paginator(selectors.reviewer_queue(me), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
        rows = list(page.object_list)
        revisions = list(selectors.revision_requests_to_answer(me))
    context = {"rows": rows, "page_obj": page, "revisions": revisions}
    return render(request, "appraisal/reviewer_queue.html", context)
