"""HR closes a campaign once it is over (``actions.CloseCampaign``, transition "close" of
``workflow.CAMPAIGN_TABLE``): refused while an appraisal is open or a revision request waits;
then its appraisals leave the evaluators' lists but stay on the agents' own pages."""

from html import unescape

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from wagtail.models import ModelLogEntry

from appraisal import selectors
from appraisal.actions import CloseCampaign
from appraisal.choices import AppraisalState as S
from appraisal.choices import CampaignStatus
from appraisal.choices import RevisionState as R
from appraisal.launch import CLOSE_ACTION
from appraisal.models import Appraisal
from cms import roles
from cms.exceptions import Conflict
from tests.factories import UserFactory

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


# --------------------------------------------------------------------------- the admin page


def close_url(campaign):
    return reverse("entretiens_campagnes:close", args=[campaign.pk])


def detail_url(campaign):
    return reverse("entretiens_campagnes:inspect", args=[campaign.pk])


def test_hr_closes_from_the_campaign_page_after_a_confirmation_naming_the_consequences(client, chain, campaign, appraisal):
    client.force_login(chain["hr"].user)
    page = client.get(detail_url(campaign)).content.decode()
    assert close_url(campaign) in page and "Clôturer la campagne" in page

    refused = unescape(client.get(close_url(campaign)).content.decode())  # appraisals are still open
    assert "ne peut pas encore être clôturée" in refused and "pas terminé" in refused
    assert f"?campagne={campaign.pk}" in refused and "Confirmer la clôture" not in refused
    response = client.post(close_url(campaign))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING
    assert "pas terminé" in " ".join(str(m) for m in get_messages(response.wsgi_request))

    Appraisal.objects.filter(campaign=campaign).update(state=S.FINAL)
    confirm = unescape(client.get(close_url(campaign)).content.decode())
    assert "Ce qui va se passer" in confirm and "définitive" in confirm and "Confirmer la clôture" in confirm
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING  # GET changes nothing
    response = client.post(close_url(campaign), follow=True)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CLOSED
    assert "Campagne clôturée." in response.content.decode()
    assert close_url(campaign) not in client.get(detail_url(campaign)).content.decode()  # no button once closed


@pytest.mark.parametrize("role", ["agent", "manager", "reviewer", "training_editor"])
def test_other_roles_can_neither_see_nor_close(client, chain, campaign, appraisal, role):
    Appraisal.objects.filter(campaign=campaign).update(state=S.FINAL)
    if role == "training_editor":
        user = UserFactory(groups=[roles.TRAINING_EDITORS])
    else:
        user = chain[role].user
    client.force_login(user)
    assert client.get(close_url(campaign)).status_code in (302, 403)
    assert close_url(campaign) not in client.get(detail_url(campaign)).content.decode()
    client.post(close_url(campaign))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING
