"""HR closes a campaign once it is over (``actions.CloseCampaign``, transition "close" of
``workflow.CAMPAIGN_TABLE``): refused while an appraisal is open or a revision request waits;
then its appraisals leave the evaluators' lists but stay on the agents' own pages."""

import pytest
from django.core.exceptions import PermissionDenied
from wagtail.models import ModelLogEntry

from appraisal import selectors
from appraisal.actions import CloseCampaign
from appraisal.choices import AppraisalState as S
from appraisal.choices import CampaignStatus
from appraisal.choices import RevisionState as R
from appraisal.launch import CLOSE_ACTION
from appraisal.models import Appraisal
from cms.exceptions import Conflict

pytestmark = pytest.mark.django_db


def test_close_is_refused_while_appraisals_are_open_then_closes(chain, campaign, appraisal):
    hr, manager = chain["hr"].user, chain["manager"]
    with pytest.raises(PermissionDenied):
        CloseCampaign(campaign.pk, user=chain["agent"].user).execute()
    open_count = Appraisal.objects.filter(campaign=campaign).count()
    with pytest.raises(Conflict, match=f"{open_count} entretien"):
        CloseCampaign(campaign.pk, user=hr).execute()

    Appraisal.objects.filter(campaign=campaign).exclude(pk=appraisal.pk).update(state=S.CANCELLED)
    Appraisal.objects.filter(pk=appraisal.pk).update(state=S.FINAL, revision_state=R.REQUESTED)
    with pytest.raises(Conflict, match="1 entretien de cette campagne n'est pas terminé"):
        CloseCampaign(campaign.pk, user=hr).execute()  # the reviewer has a revision request to answer

    Appraisal.objects.filter(pk=appraisal.pk).update(revision_state=R.REJECTED)
    assert appraisal in selectors.evaluator_queue(manager)
    assert selectors.evaluator_state_counts(manager) == {S.FINAL: 1}
    closed = CloseCampaign(campaign.pk, user=hr).execute()
    assert closed.status == CampaignStatus.CLOSED
    assert ModelLogEntry.objects.filter(action=CLOSE_ACTION, object_id=str(campaign.pk)).exists()
    assert appraisal not in selectors.evaluator_queue(manager)
    assert selectors.evaluator_state_counts(manager) == {}
    assert appraisal in selectors.own_appraisals(chain["agent"])  # the agent keeps the report
    with pytest.raises(Conflict, match="déjà clôturée"):
        CloseCampaign(campaign.pk, user=hr).execute()
