import pytest

from appraisal.models import Appraisal
from tests.appraisal.factories import FILLED, CampaignFactory

__all__ = ["FILLED", "make_campaign"]


def make_campaign(org, *, year=None, **kwargs):
    """A draft campaign over the ``org`` direction (see ``factories.CampaignFactory``)."""
    if year is not None:
        kwargs["year"] = year
    return CampaignFactory(org_units=[org["direction"]], **kwargs)


@pytest.fixture
def campaign(chain, org):
    return CampaignFactory(org_units=[org["direction"]], launched=True)


@pytest.fixture
def appraisal(campaign, chain):
    return Appraisal.objects.get(campaign=campaign, agent=chain["agent"])
