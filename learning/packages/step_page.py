"""The context of the package step page (``learning/package_step_page.html``), added by
``PackageStepPage.get_context`` to the step's usual context (course outline, enrolment):
the package, its table of contents with the learner's progress on each SCO, the learner's
attempts, and the launch button's label or why launching is not possible.

The button posts to ``learning:package_launch`` (``learning.package_views.launch``), which
calls ``learning.services.launch_package``; the labels here follow the same rules
(``StartPackageAttempt``): resume the open attempt, open a new one when the step allows
it, else replay the last one in review mode.
"""

from django.utils.translation import gettext as _

from learning.choices import AttemptStatus, EnrollmentStatus
from learning.packages import runtime


def _toc_with_status(nodes, scos):
    return [
        {
            "identifier": node.get("identifier"),
            "title": node.get("title"),
            "sco": node.get("sco"),
            "url": None,
            "current": False,
            "status": runtime.sco_status_label(scos.get(node["sco"])) if node.get("sco") else "",
            "children": _toc_with_status(node.get("children") or [], scos),
        }
        for node in nodes
    ]


def au_status_label(state):
    """The status of a cmi5 AU from its state in ``attempt.scos`` (empty: never launched)."""
    if state.get("waived"):
        return _("Dispensé")
    if state.get("satisfied") and state.get("done"):
        return _("Validé")
    if state.get("passed"):
        return _("Réussi")
    if state.get("completed"):
        return _("Terminé")
    if state.get("failed"):
        return _("Échoué")
    return _("Non commencé") if not state else _("En cours")


def step_page_context(step, enrollment):
    """What ``learning/package_step_page.html`` shows beside the course outline: the
    package, its table of contents with the learner's progress, their attempts, and the
    launch button's label, or why launching is not possible (one query for the attempts)."""
    attempts = []
    if enrollment is not None:
        from learning.models import PackageAttempt

        attempts = list(PackageAttempt.objects.filter(enrollment=enrollment, step=step).order_by("number"))
    counted = [attempt for attempt in attempts if attempt.status != AttemptStatus.RESET]
    last = counted[-1] if counted else None
    package = step.package
    toc = _toc_with_status(package.organization if package else [], (last.scos or {}) if last else {})
    launch_label, launch_note = None, None
    if package is None:
        launch_note = _("Ce module n'a pas encore de contenu : il sera disponible après l'import du paquet.")
    elif enrollment is not None and enrollment.status == EnrollmentStatus.FAILED:
        launch_note = _(
            "Cette inscription est close (échec) : une nouvelle inscription doit vous être accordée "
            "par votre responsable ou les ressources humaines."
        )
    elif last is None:
        launch_label = _("Commencer")
    elif last.status == AttemptStatus.IN_PROGRESS:
        launch_label = _("Reprendre")
    elif step.allows_new_attempt(last.status, len(counted)):
        launch_label = _("Nouvelle tentative")
    else:
        launch_label = _("Revoir le module")
        if last.status == AttemptStatus.FAILED:
            launch_note = _("Vous n'avez plus de tentative pour ce module.")
        else:
            launch_note = _("Vous avez terminé ce module : vous pouvez le revoir, sans que cela change votre résultat.")
    cmi5_aus = []
    if package is not None and package.standard == "cmi5":
        scos = (last.scos or {}) if last is not None and last.registration is not None else {}
        for au in package.launchables or []:
            state = scos.get(au["identifier"]) or {}
            label = au_status_label(state)
            cmi5_aus.append({
                "identifier": au["identifier"], "title": au["title"], "description": au.get("description", ""),
                "status": label, "done": bool(state.get("done")),
                "browse": bool(step.cmi5_browse) and not state.get("done"),
                "button": _("Revoir") if state.get("done") else (_("Continuer") if state else _("Commencer")),
            })
    return {
        "cmi5_aus": cmi5_aus,
        "package": package,
        "package_toc": toc,
        "package_attempts": attempts,
        "last_attempt": last,
        "launch_label": launch_label,
        "launch_note": launch_note,
    }
