"""Recruitment in the browser: a candidate applies with a PDF CV and sees the reference; a
text file renamed .pdf is refused with a clear message; the recruiter moves the application
to "hired" from the Wagtail admin (list of openings → board → application page), with the
keyboard from the board, several at once, and by dragging a card to another column; the
interviewer fills a scorecard from Mon espace. axe finds no serious violation on the pages
reached (listing, job notice, application form with its errors, confirmation, admin pages).

Every journey starts at the home page: the candidate follows « Offres d'emploi »; the
recruiter signs in through the site's « Se connecter » and follows « Recrutement »."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import header_link, settled

REFERENCE = re.compile(r"C-[0-9A-F]{8}")


@pytest.fixture
def jobs(site_db):
    """A published listing with an external and an internal opening, the recruiter of both,
    and an application at the offer stage (no interview: nothing stands in the way of a hire)."""
    from cms.services import ensure_home_page
    from recruitment.choices import ApplicationStatus
    from recruitment.models import Application, ApplicationEvent, Candidate, JobIndexPage
    from tests.factories import OrgUnitFactory, UserFactory
    from tests.recruitment.conftest import make_opening, publish

    cache.clear()  # the site's rate limits
    direction = OrgUnitFactory(code="DEVE", name="Direction des espaces verts et de l'environnement", kind="direction")
    index = JobIndexPage(title="Offres d'emploi", slug="offres", intro="<p>Rejoignez la Ville.</p>")
    ensure_home_page().add_child(instance=index)
    index = publish(index)
    opening = make_opening(
        index, org_unit=direction, reference="2026-DEVE-001", title="Jardinier des parcs et jardins (F/H)",
        category="C", corps="Adjoints techniques", grades="Adjoint technique",
    )  # fmt: skip
    internal = make_opening(
        index, org_unit=direction, reference="2026-DEVE-002", title="Chef d'équipe", internal_only=True
    )
    recruiter = UserFactory(username="recruiter", first_name="Rémi", last_name="Recruteur", groups=["Recruiters"])
    for page in (opening, internal):
        page.recruiters.add(recruiter)
        publish(page)
    now = timezone.now()
    candidate = Candidate.objects.create(
        first_name="Nadia", last_name="Benali", email="nadia.benali@example.org",
        email_normalised="nadia.benali@example.org", last_contact_at=now,
    )  # fmt: skip
    submitted = now - timedelta(days=20)
    application = Application.objects.create(
        opening=opening, candidate=candidate, reference="C-0FFE12AB", status=ApplicationStatus.OFFER,
        submitted_at=submitted, status_changed_at=now - timedelta(days=2),
    )  # fmt: skip
    ApplicationEvent.objects.bulk_create([
        ApplicationEvent(application=application, kind="move", to_status=ApplicationStatus.RECEIVED, at=submitted),
        ApplicationEvent(application=application, kind="move", from_status=ApplicationStatus.RECEIVED,
                         to_status=ApplicationStatus.OFFER, at=now - timedelta(days=2), actor=recruiter),
    ])  # fmt: skip
    yield {"index": index, "opening": opening, "recruiter": recruiter, "application": application}
    cache.clear()


def cv_file(content, name="cv.pdf"):
    return {"name": name, "mimeType": "application/pdf", "buffer": content}


def open_listing(page):
    """The public listing, as a visitor reaches it: the home page, « Offres d'emploi »."""
    page.goto("/")
    header_link(page, "Offres d'emploi").click()


def open_recruitment(page, login, username="recruiter"):
    """Sign in through the site's login (home page, « Se connecter »), then « Recrutement »
    in the header: the Wagtail admin's list of the openings the user manages."""
    login(page, username)
    header_link(page, "Recrutement").click()
    expect(page).to_have_url(re.compile(r"/admin/recrutement/$"))
    settled(page)


def fill_identity(page, email):
    page.get_by_label(re.compile(r"^Prénom\b")).fill("Jeanne")
    page.get_by_label(re.compile(r"^Nom\b")).fill("Moreau")
    page.get_by_label(re.compile(r"^Adresse e-mail\b")).fill(email)


def test_a_candidate_applies_with_a_pdf_cv_and_gets_a_reference(page, jobs, axe_check):
    from recruitment.models import Application
    from tests.recruitment.conftest import pdf_bytes

    open_listing(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Offres d'emploi")
    axe_check(page)
    page.get_by_role("link", name=re.compile("Jardinier des parcs et jardins")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jardinier des parcs et jardins")
    axe_check(page)

    fill_identity(page, "jeanne.moreau@example.org")
    page.get_by_label(re.compile(r"^CV\b")).set_input_files(cv_file(pdf_bytes("CV de Jeanne Moreau")))
    page.get_by_role("button", name="Envoyer ma candidature").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Votre candidature a bien été envoyée")
    axe_check(page)  # the confirmation, with the reference
    reference = REFERENCE.search(page.locator(".reference").inner_text()).group(0)
    application = Application.objects.select_related("candidate").get(reference=reference)
    assert application.opening_id == jobs["opening"].pk and application.candidate.email == "jeanne.moreau@example.org"
    assert application.cv.name.endswith(".pdf")


def test_a_text_file_renamed_pdf_is_refused_with_a_clear_message(page, jobs, axe_check):
    from recruitment.models import Application

    open_listing(page)
    page.get_by_role("link", name=re.compile("Jardinier des parcs et jardins")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jardinier des parcs et jardins")
    axe_check(page)
    fill_identity(page, "texte.renomme@example.org")
    page.get_by_label(re.compile(r"^CV\b")).set_input_files(cv_file(b"Je suis un simple fichier texte.\n" * 20))
    page.get_by_role("button", name="Envoyer ma candidature").click()

    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("n'est pas un PDF, un DOCX ou un ODT")
    expect(summary).to_contain_text("quel que soit son nom")
    expect(page.locator(".field-error").first).to_contain_text("cv.pdf")
    axe_check(page)  # the application form with its error summary
    assert not Application.objects.filter(candidate__email="texte.renomme@example.org").exists()


def test_an_internal_opening_is_not_listed_for_the_public(page, jobs, axe_check):
    open_listing(page)
    axe_check(page)
    expect(page.get_by_role("link", name=re.compile("Jardinier des parcs"))).to_have_count(1)
    expect(page.get_by_role("link", name="Chef d'équipe")).to_have_count(0)


def hire_from_the_application_page(page, jobs, axe_check):
    """The list of openings → the board → the application page → « Recrutée »."""
    application = jobs["application"]
    axe_check(page)
    page.get_by_role("link", name="Jardinier des parcs et jardins (F/H)").click()
    expect(page).to_have_url(re.compile(rf"/admin/recrutement/offres/{jobs['opening'].pk}/$"))
    settled(page)
    axe_check(page)
    page.get_by_role("link", name="Nadia Benali").first.click()
    expect(page).to_have_url(re.compile(rf"/admin/recrutement/candidatures/{application.pk}/$"))
    settled(page)
    axe_check(page)

    page.get_by_label("Nouvelle étape").select_option("hired")
    page.get_by_role("button", name="Enregistrer le changement d'étape").click()

    expect(page.get_by_text(re.compile(r"placée à l'étape « Recrutée »"))).to_be_visible()
    settled(page)
    axe_check(page)


def test_the_recruiter_hires_from_the_wagtail_admin(page, jobs, login, axe_check):
    application = jobs["application"]
    open_recruitment(page, login)
    hire_from_the_application_page(page, jobs, axe_check)
    application.refresh_from_db()
    assert application.status == "hired" and application.closed_at is not None
    event = application.events.filter(kind="move").last()
    assert event.to_status == "hired" and event.actor_id == jobs["recruiter"].pk


def test_the_recruiter_hires_then_reads_the_report(page, jobs, login, axe_check):
    open_recruitment(page, login)
    hire_from_the_application_page(page, jobs, axe_check)

    # The same session opens the report page: the hire is in the funnel and the time-to-hire.
    page.get_by_role("link", name="Recrutement").first.click()
    page.get_by_role("link", name="Rapport de recrutement").click()  # the list of openings' header button
    expect(page.get_by_role("heading", level=1)).to_have_text("Rapport de recrutement")
    expect(page.locator("figure.chart svg")).to_be_visible()
    expect(page.get_by_role("table").first).to_contain_text("Recrutée")
    expect(page.locator("main")).to_contain_text("1 recrutement prononcé sur la période.")
    axe_check(page)


def test_the_recruiter_moves_a_card_from_the_board_with_the_keyboard(page, jobs, login, axe_check):
    """From the admin's list of openings to the board; the card's "Vers « Recrutée »" button is
    reached with Tab and pressed with Enter; back on the board, the card is in its new column."""
    application = jobs["application"]
    open_recruitment(page, login)
    axe_check(page)
    page.get_by_role("link", name="Jardinier des parcs et jardins (F/H)").click()
    expect(page.get_by_role("region", name="Candidatures par étape")).to_be_visible()
    axe_check(page)

    card = page.locator(f"#application-{application.pk}")
    card.get_by_role("link", name="Nadia Benali").focus()
    button = card.get_by_role("button", name=re.compile(r"^Vers « Recrutée »"))
    for _i in range(10):  # Tab through the card's controls up to the move button
        if button.evaluate("element => element === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(button).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_text(re.compile(r"placée à l'étape « Recrutée »"))).to_be_visible()
    expect(page.locator('[data-status="hired"]')).to_contain_text("Nadia Benali")
    settled(page)
    axe_check(page)
    application.refresh_from_db()
    assert application.status == "hired"


def test_the_recruiter_moves_several_cards_at_once_after_a_confirmation(page, jobs, login, axe_check):
    """Issue 13, item 16: two cards ticked on the board, « Déplacer la sélection… », the stages
    allowed for both, the step naming how many move where, then the board with the message."""
    from recruitment.models import Application
    from tests.recruitment.test_board import make_application

    first = make_application(jobs["opening"], first_name="Léa", last_name="Girard", cv=False)
    second = make_application(jobs["opening"], first_name="Omar", last_name="Haddad", cv=False)
    open_recruitment(page, login)
    page.get_by_role("link", name="Jardinier des parcs et jardins (F/H)").click()
    settled(page)
    axe_check(page)
    page.get_by_label("Sélectionner Léa Girard").check()
    page.get_by_label("Sélectionner Omar Haddad").check()
    page.get_by_role("button", name="Déplacer la sélection…").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Déplacer la sélection")
    settled(page)
    axe_check(page)
    page.get_by_role("group", name=re.compile("Nouvelle étape")).get_by_label("Présélection").check()
    page.get_by_label("Note interne").fill("Dossiers complets")
    page.get_by_role("button", name="Continuer").click()

    expect(page.get_by_text(re.compile(r"Vous allez placer 2 candidatures .* à l'étape « Présélection »"))).to_be_visible()
    axe_check(page)
    assert {a.status for a in Application.objects.filter(pk__in=[first.pk, second.pk])} == {"received"}
    page.get_by_role("button", name="Confirmer : 2 candidatures vers « Présélection »").click()

    expect(page.get_by_text("2 candidatures placées à l'étape « Présélection ».")).to_be_visible()
    expect(page.locator('[data-status="screening"]')).to_contain_text("Léa Girard")
    expect(page.locator('[data-status="screening"]')).to_contain_text("Omar Haddad")
    settled(page)
    axe_check(page)
    assert {a.status for a in Application.objects.filter(pk__in=[first.pk, second.pk])} == {"screening"}

    # Drag-and-drop (board.js): Léa's card dropped on the « Retenue » column submits the
    # card's own move; the board comes back with the message and the card in its new column.
    shortlisted = page.locator('[data-status="shortlisted"]')
    shortlisted.scroll_into_view_if_needed()  # the board scrolls sideways: both columns in view
    page.locator(f"#application-{first.pk}").drag_to(shortlisted)
    expect(page.get_by_text(re.compile(rf"{first.reference} placée à l'étape « Retenue »"))).to_be_visible()
    expect(page.locator('[data-status="shortlisted"]')).to_contain_text("Léa Girard")
    expect(page.locator('[data-status="screening"]')).not_to_contain_text("Léa Girard")
    settled(page)
    axe_check(page)
    first.refresh_from_db()
    assert first.status == "shortlisted"
    assert first.events.filter(kind="move").last().actor_id == jobs["recruiter"].pk


def test_the_interviewer_fills_a_scorecard_from_mon_espace(page, jobs, login, axe_check):
    """Issue 13, item 19: the interviewer's main job. Home page → « Mon espace », whose panel
    lists the pending scorecard → « Remplir la grille d'… » → the six criteria, the opinion and
    a comment → « Soumettre ma grille » → « Mes évaluations », the scorecard submitted."""
    from recruitment import interviews
    from recruitment.models import Interview, Scorecard
    from tests.recruitment.test_board import jury_member, make_application

    application = make_application(jobs["opening"], status="interview", first_name="Émilie", last_name="Millet",
                                   cv=False)
    jury = jury_member("interviewer", first_name="Inès", last_name="Jury")
    interview = Interview.objects.create(application=application, starts_at=timezone.now() - timedelta(hours=2),
                                         location="Hôtel de Ville, salle 101")
    interview.interviewers.add(jury)
    scorecard = Scorecard.objects.create(application=application, interviewer=jury)

    login(page, "interviewer")  # back on the home page, signed in
    header_link(page, "Mon espace").click()
    panel = page.get_by_role("region", name="Mes évaluations à remplir")
    expect(panel).to_contain_text("1 grille d'évaluation à remplir")
    axe_check(page)  # Mon espace with the pending scorecards panel
    panel.get_by_role("link", name=re.compile(r"^Remplir la grille d.*Émilie Millet")).click()
    expect(page.get_by_role("button", name="Soumettre ma grille (définitif)")).to_be_visible()
    settled(page)
    axe_check(page)  # the scorecard form

    for _name, label, _sentence in interviews.criteria():  # « 4 — Très satisfaisant » on each of the six
        criterion = page.get_by_role("group", name=re.compile(rf"^{re.escape(str(label))}"))
        criterion.get_by_role("radio", name=re.compile(r"^4\W")).check()
    page.get_by_role("group", name=re.compile(r"^Avis")).get_by_role("radio", name="Favorable", exact=True).check()
    page.get_by_label("Commentaire").fill("Connaît bien la gestion différenciée des espaces verts.")
    page.get_by_role("button", name="Soumettre ma grille (définitif)").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Mes évaluations")
    expect(page.get_by_text(re.compile(r"Grille d'évaluation d.*Émilie Millet soumise\. Merci !"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Émilie Millet"))).to_contain_text("Soumise le")
    settled(page)
    axe_check(page)  # « Mes évaluations », the scorecard submitted
    scorecard.refresh_from_db()
    assert scorecard.submitted_at is not None and scorecard.recommendation == "yes"
    assert [getattr(scorecard, name) for name in Scorecard.CRITERIA] == [4] * 6


def test_the_recruiters_field_of_an_opening_is_searched_by_name_or_unit(page, jobs, login, axe, axe_check):
    """Issue 13, item 17: the page editor lists the people who may be recruiters with their
    units; typing in the search box narrows the list and says how many remain."""
    from django.contrib.auth.models import Group, Permission
    from wagtail.models import GroupPagePermission

    from cms import roles
    from tests.factories import AgentFactory, OrgUnitFactory

    for codename in ("add_page", "change_page", "publish_page"):  # as the seed grants on the job listing
        GroupPagePermission.objects.create(group=Group.objects.get(name=roles.RECRUITERS), page=jobs["index"],
                                           permission=Permission.objects.get(codename=codename))
    unit = OrgUnitFactory(code="DRH-REC", name="Bureau du recrutement", kind="bureau")
    AgentFactory(user__username="sophie", user__first_name="Sophie", user__last_name="Lemaire",
                 user__groups=[roles.RECRUITERS], org_unit=unit)
    AgentFactory(user__username="hugo", user__first_name="Hugo", user__last_name="Morel",
                 user__groups=[roles.HR], org_unit=jobs["opening"].org_unit)
    open_recruitment(page, login)
    axe_check(page)
    open_page_editor(page, jobs["opening"])
    search = page.get_by_label("Rechercher une personne (nom, unité, adresse e-mail)")
    expect(search).to_be_visible()
    expect(page.get_by_label(re.compile(r"Sophie Lemaire — Bureau du recrutement"))).to_be_visible()
    search.fill("recrutement")
    expect(page.get_by_label(re.compile(r"Hugo Morel"))).to_be_hidden()
    expect(page.get_by_label(re.compile(r"Sophie Lemaire"))).to_be_visible()
    expect(page.get_by_label(re.compile(r"Rémi Recruteur"))).to_be_visible()  # already chosen: always shown
    expect(page.get_by_role("status").filter(has_text="personnes affichées")).to_have_text("2 personnes affichées")
    expect(page.get_by_label("Étape « Entretien »")).to_be_visible()
    settled(page)
    # Wagtail's rich text editors (Draftail, not ours) have an unnamed ARIA textbox: left out.
    results = axe.run(page, context={"exclude": [[".Draftail-Editor"]]})
    serious = [v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], serious


def open_page_editor(page, opening):
    """The Wagtail explorer, opened from the sidebar's « Pages », lists the openings the
    recruiter may edit; « Modifier '<title>' » opens the page editor."""
    sidebar = page.locator("[data-wagtail-sidebar]")
    sidebar.get_by_role("button", name="Pages", exact=True).click()
    sidebar.get_by_role("link", name=f"Modifier '{opening.title}'").click()
    expect(page).to_have_url(re.compile(rf"/admin/pages/{opening.pk}/edit/$"))
