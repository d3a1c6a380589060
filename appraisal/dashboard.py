"""Panel of "Mon espace" contributed by the appraisal app: "Mon entretien professionnel".

* For every agent with an appraisal: the state of their latest one, the next step (who acts,
  by when) and a link to it.
* For evaluators (N+1 or delegates): how many interviews are to convoke, to declare held and
  to notify, with links to the filtered list "Mes entretiens".
* For reviewers (N+2): how many reports wait for their visa, and the revision requests to
  answer, with a link to the visa queue.

Three queries whatever the number of appraisals: the agent (cached on the user for the
request), the latest own appraisal, and one aggregate for the evaluator and reviewer counts.
The panel is hidden when there is nothing to show (no own appraisal, nothing to conduct).
"""

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from appraisal import deadlines
from appraisal.choices import AppraisalState as S
from appraisal.choices import CampaignStatus
from appraisal.choices import RevisionState as R
from appraisal.models import Appraisal
from cms.dashboard import Panel
from cms.selectors import agent_for_user

CACHE_ATTRIBUTE = "_appraisal_panel"


def own_step(appraisal, today):
    """What happens next on the agent's own appraisal (dates only, no query)."""
    step = {
        "state": appraisal.state,
        "state_label": S(appraisal.state).label,
        "revision_state": appraisal.revision_state,
        "action_needed": False,
    }
    if appraisal.state == S.NOTIFIED:
        sign_by = deadlines.sign_by(appraisal)
        step.update(action_needed=True, sign_by=sign_by, sign_late=today > sign_by)
    if appraisal.notified_at and appraisal.state in (S.NOTIFIED, S.ACKNOWLEDGED, S.FINAL):
        if appraisal.revision_state == R.NONE:
            revision_by = deadlines.revision_by(appraisal)
            if today <= revision_by:
                step["revision_by"] = revision_by
        elif appraisal.revision_state == R.REQUESTED:
            step["answer_by"] = deadlines.revision_answer_by(appraisal)
        elif appraisal.revision_state in (R.REJECTED, R.IMPLICITLY_REJECTED):
            cap_by = deadlines.cap_by(appraisal)
            if today <= cap_by:
                step.update(action_needed=True, cap_by=cap_by)
    return step


def _counts(agent, now):
    """Evaluator and reviewer counts in one aggregate query (open campaigns only)."""
    as_evaluator, as_reviewer = Q(evaluator=agent), Q(reviewer=agent)
    return (
        Appraisal.objects.filter(as_evaluator | as_reviewer)
        .exclude(state=S.CANCELLED)
        .exclude(campaign__status=CampaignStatus.CLOSED)
        .aggregate(
            conducted=Count("pk", filter=as_evaluator),
            to_convoke=Count("pk", filter=as_evaluator & Q(state=S.CREATED)),
            convoked=Count("pk", filter=as_evaluator & Q(state=S.CONVOKED)),
            to_hold=Count("pk", filter=as_evaluator & Q(state=S.CONVOKED, interview_at__lte=now)),
            to_notify=Count("pk", filter=as_evaluator & Q(state=S.HELD)),
            with_agent=Count("pk", filter=as_evaluator & Q(state=S.NOTIFIED)),
            reviewed=Count("pk", filter=as_reviewer),
            to_visa=Count("pk", filter=as_reviewer & Q(state=S.ACKNOWLEDGED)),
            revisions=Count("pk", filter=as_reviewer & Q(revision_state=R.REQUESTED)),
        )
    )


def panel_data(request, now=None):
    """The panel's context, computed once per request (``None`` without an agent profile)."""
    if hasattr(request, CACHE_ATTRIBUTE):
        return getattr(request, CACHE_ATTRIBUTE)
    data = None
    agent = agent_for_user(request.user) if request.user.is_authenticated else None
    if agent is not None:
        now = now or timezone.now()
        today = timezone.localdate(now)
        own = (
            Appraisal.objects.filter(agent=agent)
            .exclude(state=S.CANCELLED)
            .select_related("campaign", "evaluator__user", "reviewer__user")
            .order_by("-campaign__year", "-created_at", "-pk")
            .first()
        )
        counts = _counts(agent, now)
        list_url = reverse("appraisal:list")
        data = {
            "own": own,
            "step": own_step(own, today) if own is not None else None,
            "own_url": reverse("appraisal:detail", kwargs={"pk": own.pk}) if own is not None else None,
            "counts": counts,
            "is_evaluator": bool(counts["conducted"]),
            "is_reviewer": bool(counts["reviewed"]),
            "list_url": list_url,
            "convoke_url": f"{list_url}?{urlencode({'etat': S.CREATED})}",
            "hold_url": f"{list_url}?{urlencode({'etat': S.CONVOKED})}",
            "notify_url": f"{list_url}?{urlencode({'etat': S.HELD})}",
            "visa_url": reverse("appraisal:reviewer_queue"),
            "notice_days": own.campaign.notice_days if own is not None else None,
        }
        data["show"] = own is not None or data["is_evaluator"] or data["is_reviewer"]
    setattr(request, CACHE_ATTRIBUTE, data)
    return data


class MyAppraisalPanel(Panel):
    key = "appraisal.my_appraisal"
    title = _("Mon entretien professionnel")
    order = 40
    template_name = "appraisal/panels/my_appraisal.html"

    def is_visible(self, request):
        if not request.user.is_authenticated:
            return False
        data = panel_data(request)
        return bool(data and data["show"])

    def get_context(self, request):
        return panel_data(request)
