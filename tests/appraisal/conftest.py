import datetime

import pytest
from django.utils import timezone

from appraisal import services
from appraisal.defaults import ensure_default_template
from appraisal.models import Appraisal, Campaign

FILLED = {
    "sec-service": "Agent rigoureux, disponible et attentif aux usagers.",
    "sec-overall": "Très bonne année : objectifs atteints, implication remarquable.",
    "sec-objectives": [{"title": "Déployer le nouveau logiciel de paie", "indicators": "100 % des agents", "due_on": ""}],
    "sec-criteria": {"crit-results": {"level": "lvl-3", "comment": ""}},
}


def make_campaign(org, *, year=None, **kwargs):
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        name="Campagne d'entretiens",
        year=year or today.year,
        template=ensure_default_template(),
        starts_on=kwargs.pop("starts_on", today - datetime.timedelta(days=10)),
        interviews_until=kwargs.pop("interviews_until", today + datetime.timedelta(days=60)),
        ends_on=kwargs.pop("ends_on", today + datetime.timedelta(days=120)),
        **kwargs,
    )
    campaign.org_units.set([org["direction"]])
    return campaign


@pytest.fixture
def campaign(chain, org):
    campaign = make_campaign(org)
    services.launch_campaign(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    return campaign


@pytest.fixture
def appraisal(campaign, chain):
    return Appraisal.objects.get(campaign=campaign, agent=chain["agent"])
