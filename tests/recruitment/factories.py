"""factory_boy factories of recruitment, from what ``tests/recruitment/conftest.py`` builds.

- ``JobIndexFactory()``: a published "Offres d'emploi" listing under the home page.
- ``OpeningFactory(index=…, org_unit=…, **fields)``: a published ``JobOpeningPage`` (added
  under ``index``, then ``save_revision().publish()``), open, deadline in 20 days;
  ``recruiters=[user, …]`` lists its recruiters.
- ``CandidateFactory()``, ``ApplicationFactory(opening=…, status=…)``: written straight to
  the database (no upload check, no e-mail), with the "received" event (and, for another
  status, the move to it) as the history.
- ``set_opening_state(opening, state)``: writes the opening's ``OpeningStatus`` row directly
  (a fixture shortcut; the application code closes an opening only through
  ``recruitment.actions.CloseOpening``).
"""

from datetime import timedelta

import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from cms.services import ensure_home_page
from recruitment.choices import TERMINAL, ApplicationStatus, EmploymentType, OpeningState
from recruitment.models import Application, ApplicationEvent, Candidate, JobIndexPage, JobOpeningPage, OpeningStatus
from tests.factories import OrgUnitFactory


def _publish(page):
    page.save_revision().publish()
    page.refresh_from_db()
    return page


class JobIndexFactory(factory.Factory):
    class Meta:
        model = JobIndexPage

    title = "Offres d'emploi"
    slug = factory.Sequence(lambda n: f"offres-{n}")
    intro = "<p>Rejoignez la collectivité.</p>"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        index = model_class(**kwargs)
        ensure_home_page().add_child(instance=index)
        return _publish(index)


class OpeningFactory(factory.Factory):
    class Meta:
        model = JobOpeningPage

    index = factory.SubFactory(JobIndexFactory)  # not a field: where the page goes
    recruiters = ()  # not a field: added after the page is created
    reference = factory.Sequence(lambda n: f"F-{n:04d}")
    title = factory.LazyAttribute(lambda o: f"Poste {o.reference}")
    slug = factory.LazyAttribute(lambda o: o.reference.lower())
    org_unit = factory.SubFactory(OrgUnitFactory)
    category = "B"
    corps = "Secrétaires administratifs"
    grades = "Secrétaire administratif de classe normale"
    employment_type = EmploymentType.FULL_TIME
    location_name = "Hôtel de Ville"
    street_address = "Place de l'Hôtel de Ville"
    postal_code = "75004"
    locality = "Paris"
    missions = "<p>Gérer les dossiers de formation des agents.</p>"
    profile = "<p>Rigueur, sens du service public.</p>"
    vacancy_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))
    application_deadline = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=20))

    @classmethod
    def _create(cls, model_class, *args, index, recruiters=(), **kwargs):
        opening = model_class(**kwargs)
        index.add_child(instance=opening)
        for user in recruiters:
            opening.recruiters.add(user)
        return _publish(opening)

    @classmethod
    def _build(cls, model_class, *args, index=None, recruiters=(), **kwargs):
        return model_class(**kwargs)


class CandidateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Candidate

    first_name = "Alice"
    last_name = factory.Sequence(lambda n: f"Dupont{n}")
    email = factory.LazyAttribute(lambda c: f"{c.first_name}.{c.last_name}@example.org".lower())
    email_normalised = factory.LazyAttribute(lambda c: c.email)
    phone = "06 12 34 56 78"
    phone_normalised = "0612345678"
    last_contact_at = factory.LazyFunction(timezone.now)


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application
        skip_postgeneration_save = True

    cv_file = True  # not a field: give the application a (tiny) CV
    candidate = factory.SubFactory(CandidateFactory)
    reference = factory.Sequence(lambda n: f"C-F{n:05d}")
    status = ApplicationStatus.RECEIVED
    message = "Bonjour, je suis motivée."
    submitted_at = factory.LazyFunction(timezone.now)
    status_changed_at = factory.LazyAttribute(lambda a: a.submitted_at)
    closed_at = factory.LazyAttribute(lambda a: a.status_changed_at if a.status in TERMINAL else None)

    @classmethod
    def _create(cls, model_class, *args, cv_file=True, **kwargs):
        application = model_class(**kwargs)
        if cv_file:
            application.cv.save(f"{application.reference}.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=False)
        application.save()
        events = [ApplicationEvent(application=application, kind="move", to_status=ApplicationStatus.RECEIVED,
                                   at=application.submitted_at, reason="Candidature déposée")]
        if application.status != ApplicationStatus.RECEIVED:
            events.append(ApplicationEvent(application=application, kind="move", from_status=ApplicationStatus.RECEIVED,
                                           to_status=application.status, at=application.status_changed_at))
        ApplicationEvent.objects.bulk_create(events)
        return application


def set_opening_state(opening, state):
    """Write the opening's recruitment state directly (no cancellation, no event)."""
    if state == OpeningState.OPEN:
        OpeningStatus.objects.filter(pk=opening.pk).delete()
    else:
        OpeningStatus.objects.update_or_create(
            opening_id=opening.pk, defaults={"state": state, "closed_at": timezone.now()}
        )
    related = JobOpeningPage.recruitment_status.related
    if isinstance(opening, JobOpeningPage) and related.is_cached(opening):
        related.delete_cached_value(opening)
    return opening
