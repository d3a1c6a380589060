"""Factories of the appraisal tests (factory_boy), built from what conftest.py does: a
campaign over the ``org`` direction with the default template, launched; an appraisal put
directly in any state of the workflow (``AppraisalFactory(state=…)``, with the dates that
state implies), and ``act()`` to run an action as a user."""

import datetime

import factory
from django.utils import timezone

from appraisal import services
from appraisal.actions import ACTIONS
from appraisal.choices import AppraisalState as S
from appraisal.choices import RevisionState as R
from appraisal.defaults import ensure_default_template
from appraisal.models import Appraisal, Campaign

FILLED = {
    "sec-service": "Agent rigoureux, disponible et attentif aux usagers.",
    "sec-overall": "Très bonne année : objectifs atteints, implication remarquable.",
    "sec-objectives": [
        {"title": "Déployer le nouveau logiciel de paie", "indicators": "100 % des agents", "due_on": ""}
    ],
    "sec-criteria": {"crit-results": {"level": "lvl-3", "comment": ""}},
}


def days(n):
    return datetime.timedelta(days=n)


class CampaignFactory(factory.django.DjangoModelFactory):
    """A campaign (draft) over ``org_units`` (a list), dates around today. ``launched=True``
    runs ``services.launch_campaign`` (one appraisal per agent with a manager)."""

    class Meta:
        model = Campaign
        skip_postgeneration_save = True

    name = "Campagne d'entretiens"
    year = factory.LazyFunction(lambda: timezone.localdate().year)
    template = factory.LazyFunction(ensure_default_template)
    starts_on = factory.LazyFunction(lambda: timezone.localdate() - days(10))
    interviews_until = factory.LazyFunction(lambda: timezone.localdate() + days(60))
    ends_on = factory.LazyFunction(lambda: timezone.localdate() + days(120))

    @factory.post_generation
    def org_units(self, create, extracted, **kwargs):
        if create and extracted:
            self.org_units.set(extracted)

    @factory.post_generation
    def launched(self, create, extracted, **kwargs):
        if create and extracted:
            services.launch_campaign(campaign_id=self.pk)
            self.refresh_from_db()


def state_fields(state, *, now=None, revision_state=R.NONE):
    """The fields an appraisal has in ``state`` (dates consistent with the workflow)."""
    now = now or timezone.now()
    fields = {"state": state, "revision_state": revision_state}
    order = [S.CREATED, S.CONVOKED, S.HELD, S.NOTIFIED, S.ACKNOWLEDGED, S.FINAL]
    rank = order.index(state) if state in order else 0
    if rank >= 1:
        fields.update(convoked_at=now - days(20), interview_at=now - days(10))
    if rank >= 2:
        fields.update(held_at=now - days(10), answers=FILLED)
    if rank >= 3:
        fields.update(notified_at=now - days(5), evaluator_signed_at=now - days(5))
    if rank >= 4:
        fields.update(agent_signed_at=now - days(4))
    if rank >= 5:
        fields.update(visa_at=now - days(3))
    if revision_state in (R.REQUESTED, R.REJECTED, R.IMPLICITLY_REJECTED, R.CAP_REFERRED, R.CAP_OPINION):
        fields["revision_requested_at"] = now - days(2)
    if revision_state in (R.REJECTED, R.CAP_REFERRED, R.CAP_OPINION):
        fields["revision_answered_at"] = now - days(1)
    if revision_state in (R.CAP_REFERRED, R.CAP_OPINION):
        fields["cap_referred_at"] = now - days(1)
    return fields


def put_in(appraisal, state, *, now=None, revision_state=R.NONE, **extra):
    """Put ``appraisal`` directly in ``state`` (an UPDATE, no action, no audit row)."""
    Appraisal.objects.filter(pk=appraisal.pk).update(
        **{**state_fields(state, now=now, revision_state=revision_state), **extra}
    )
    appraisal.refresh_from_db()
    return appraisal


def act(appraisal, action, user, *, now=None, log=True, notify=True, **params):
    """Run the action ``action`` on ``appraisal`` as ``user`` (None: the system)."""
    pk = getattr(appraisal, "pk", appraisal)
    return ACTIONS[action](pk, user=user, params=params, now=now, log=log, notify=notify).execute()
