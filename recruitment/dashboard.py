"""The "Mes évaluations à remplir" panel of Mon espace: an interviewer's pending scorecards
(two queries: the count, then the first rows with their application, opening and candidate)."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cms.dashboard import Panel
from recruitment import permissions, selectors
from recruitment.text import of

PANEL_ROWS = 5


def pending_scorecards(user):
    return selectors.scorecards_of(user).filter(submitted_at__isnull=True)


class PendingScorecardsPanel(Panel):
    key = "recruitment.pending_scorecards"
    title = _("Mes évaluations à remplir")
    order = 60
    template_name = "recruitment/panels/pending_scorecards.html"

    def is_visible(self, request):
        return request.user.is_authenticated and permissions.can_use_scorecards(request.user)

    def get_context(self, request):
        pending = pending_scorecards(request.user)
        rows = list(pending[:PANEL_ROWS])
        now = timezone.now()
        for scorecard in rows:
            application = scorecard.application
            scorecard.display_name = selectors.display_name(application, application.opening)
            scorecard.of_name = of(scorecard.display_name)
            scorecard.ready = scorecard.interview_at is None or scorecard.interview_at <= now
        count = len(rows) if len(rows) < PANEL_ROWS else pending.count()
        return {"scorecards": rows, "count": count, "more": max(count - len(rows), 0),
                "list_url": reverse("recruitment_admin:my_scorecards")}
