"""The entretien professionnel in a browser, from the convocation to the visa.

The manager convokes (datetime-local field), holds the interview, writes the report and
notifies it through a confirmation step; the agent finds the report (and its PDF) from Mon
espace, writes observations, signs and asks for a revision; the reviewer answers the request
from the queue (rejected), then opens the report from the queue and visas it through a
confirmation step; the final report downloads as a PDF. axe finds no serious or critical violation on the list, detail and form
pages, and on Mon espace with the "Mon entretien professionnel" panel.
"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import header_link


@pytest.fixture
def launched(demo):
    """A running campaign over the demo chain's direction, with the default template."""
    from appraisal import services
    from appraisal.defaults import ensure_default_template
    from appraisal.models import Appraisal, Campaign

    today = timezone.localdate()
    campaign = Campaign.objects.create(
        name="Entretiens professionnels",
        year=today.year,
        template=ensure_default_template(),
        starts_on=today - timedelta(days=5),
        interviews_until=today + timedelta(days=60),
        ends_on=today + timedelta(days=90),
    )
    campaign.org_units.set([demo["agent"].org_unit.get_root()])
    services.launch_campaign(campaign_id=campaign.pk)
    return {**demo, "appraisal": Appraisal.objects.get(campaign=campaign, agent=demo["agent"])}


def logout(page):
    page.context.clear_cookies()


def state_line(page):
    return page.locator(".state-line")


def test_convocation_to_visa_and_pdf(page, launched, login, axe_check):
    appraisal = launched["appraisal"]
    detail_url = f"/entretiens/{appraisal.pk}/"

    # The manager: home page → Mon espace → the list → the appraisal.
    login(page, "manager")
    header_link(page, "Mon espace").click()
    expect(page.get_by_role("heading", name="Mon entretien professionnel")).to_be_visible()
    axe_check(page)  # Mon espace with the appraisal panel
    page.get_by_role("link", name=re.compile(r"1 agent à convoquer")).click()
    expect(page).to_have_url(re.compile(r"/entretiens/\?etat=created$"))
    axe_check(page)
    page.get_by_role("link", name=re.compile(launched["agent"].full_name)).first.click()
    expect(page).to_have_url(re.compile(rf"{detail_url}$"))
    axe_check(page)

    # Convoke ten days ahead (the notice is eight days).
    interview = timezone.localtime() + timedelta(days=10)
    page.get_by_label("Date et heure de l'entretien").fill(interview.strftime("%Y-%m-%dT10:00"))
    page.get_by_label("Lieu de l'entretien").fill("Bureau 412")
    page.get_by_role("button", name="Envoyer la convocation").click()
    expect(state_line(page)).to_contain_text("Convoqué")
    axe_check(page)  # the appraisal, convoked

    # The interview cannot be declared held before its date (workflow guard), and the
    # browser cannot wait ten days: move the interview to an hour ago in the database, as
    # if the date had come.
    from appraisal.models import Appraisal

    Appraisal.objects.filter(pk=appraisal.pk).update(interview_at=timezone.now() - timedelta(hours=1))
    page.reload()
    page.get_by_role("button", name="L'entretien a eu lieu").click()
    expect(state_line(page)).to_contain_text("Entretien tenu")
    axe_check(page)  # the appraisal, interview held

    # The report.
    page.get_by_role("link", name="Rédiger le compte rendu").click()
    expect(page).to_have_url(re.compile(rf"{detail_url}edit/$"))
    axe_check(page)
    page.get_by_label("Appréciation générale littérale", exact=True).fill(
        "Très bonne année : objectifs atteints, implication remarquable dans les projets du service."
    )
    page.get_by_label("Manière de servir", exact=True).fill("Agent rigoureux, disponible et attentif aux usagers.")
    first_objective = page.get_by_role("group", name="Objectif n° 1")
    first_objective.get_by_label("Intitulé").fill("Déployer le suivi dématérialisé des demandes")
    first_objective.get_by_label("Indicateurs de réussite").fill("100 % des demandes enregistrées")
    page.get_by_role("button", name="Enregistrer et notifier").click()
    # The confirmation step names what notifying does; nothing is notified before it.
    expect(page.get_by_role("heading", name="Confirmer : Signer et notifier le compte rendu")).to_be_visible()
    expect(page.get_by_text("il est figé et ne pourra plus être modifié")).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name="Confirmer : signer et notifier").click()
    expect(page).to_have_url(re.compile(rf"{detail_url}$"))
    expect(state_line(page)).to_contain_text("Compte rendu notifié")
    axe_check(page)  # the appraisal, report notified
    logout(page)

    # The agent reads, writes observations and signs (home page → Mon espace → the appraisal).
    login(page, "agent")
    header_link(page, "Mon espace").click()
    axe_check(page)
    page.get_by_role("link", name="Lire et signer mon compte rendu").click()
    expect(page).to_have_url(re.compile(rf"{detail_url}$"))
    expect(page.get_by_role("link", name=re.compile(r"Télécharger le compte rendu \(PDF")).first).to_be_visible()
    expect(page.get_by_text("Très bonne année : objectifs atteints")).to_be_visible()
    page.get_by_label("Vos observations (facultatif)").fill("Entretien constructif, merci pour cet échange.")
    page.get_by_label("Je certifie avoir pris connaissance du compte rendu").check()
    page.get_by_role("button", name="Signer : j'ai pris connaissance").click()
    expect(state_line(page)).to_contain_text("Pris connaissance")
    axe_check(page)

    # Then asks for a revision of the report (issue 13, item 10: a confirmation message).
    revision = page.locator("#action-request_revision")
    revision.get_by_label(re.compile(r"^Motif de la demande de révision")).fill(
        "L'objectif n° 1 ne tient pas compte du changement d'outil en cours d'année."
    )
    revision.get_by_role("button", name="Envoyer la demande").click()
    expect(page.get_by_text("Votre demande de révision est envoyée à l'autorité hiérarchique.")).to_be_visible()
    axe_check(page)
    logout(page)

    # The reviewer answers the revision request from the queue (the agent's motive beside
    # the answer form) and rejects it, then opens the report from the queue (no visa button
    # in the list) and visas it through the confirmation step.
    login(page, "reviewer")
    header_link(page, "Mon espace").click()
    axe_check(page)
    page.get_by_role("link", name="1 demande de révision à traiter").click()
    expect(page).to_have_url(re.compile(r"/entretiens/visa/$"))
    page.get_by_role("link", name=re.compile("^Répondre")).click()
    answer = page.locator("#action-answer_revision")
    expect(answer).to_contain_text("L'objectif n° 1 ne tient pas compte du changement d'outil")
    axe_check(page)  # the appraisal with the answer form
    answer.get_by_role("radio", name="Rejeter la demande").check()
    answer.get_by_label(re.compile(r"^Motivation de la réponse")).fill(
        "Le changement d'outil est pris en compte dans les indicateurs de l'objectif."
    )
    answer.get_by_role("button", name="Envoyer la réponse").click()
    expect(page.get_by_text("Votre réponse à la demande de révision est enregistrée.")).to_be_visible()
    expect(state_line(page)).to_contain_text("Pris connaissance")
    axe_check(page)
    header_link(page, "Mon espace").click()
    page.get_by_role("link", name="1 compte rendu à viser").click()
    expect(page).to_have_url(re.compile(r"/entretiens/visa/$"))
    axe_check(page)
    expect(page.get_by_role("button", name=re.compile("Viser"))).to_have_count(0)
    page.get_by_role("link", name=re.compile("Lire et viser")).first.click()
    expect(page).to_have_url(re.compile(rf"{detail_url}#report-title$"))
    expect(page.get_by_text("Très bonne année : objectifs atteints")).to_be_visible()
    axe_check(page)  # the report the reviewer reads before the visa
    page.get_by_role("button", name="Viser", exact=True).click()
    expect(page.get_by_role("heading", name="Confirmer : Viser le compte rendu")).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name="Confirmer le visa").click()
    expect(state_line(page)).to_contain_text("Visé (définitif)")

    appraisal.refresh_from_db()
    assert appraisal.state == "final" and appraisal.observations.startswith("Entretien constructif")
    assert appraisal.revision_state == "rejected" and appraisal.revision_answer.startswith("Le changement d'outil")
    assert list(appraisal.transitions.values_list("action", flat=True)) == [
        "convoke", "hold", "notify", "acknowledge", "request_revision", "answer_revision", "visa",
    ]

    # The final report as PDF, from the page's own link.
    axe_check(page)
    pdf_link = page.get_by_role("link", name=re.compile(r"PDF", re.IGNORECASE))
    with page.expect_download() as info:
        pdf_link.first.click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    assert Path(download.path()).read_bytes()[:4] == b"%PDF"


def test_hr_finds_an_appraisal_from_the_home_page(page, launched, login, axe_check):
    """HR's main job: from the home page, through « Pilotage entretiens », search the
    list of every appraisal by matricule, open the appraisal, where HR's actions are
    offered, and cancel it with a motive; axe is clean on each page reached (no URL typed)."""
    from django.contrib.auth.models import Group

    from cms import roles
    from tests.factories import AgentFactory

    hr = AgentFactory(user__username="drh", org_unit=launched["reviewer"].org_unit)
    hr.user.groups.add(Group.objects.get(name=roles.HR))
    login(page, "drh")  # back on the home page, signed in
    page.locator(".site-nav").get_by_role("link", name="Pilotage entretiens").click()
    axe_check(page)
    page.get_by_role("link", name=re.compile("^Rechercher un entretien")).click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    axe_check(page)
    agent = launched["agent"]
    page.get_by_label("Nom ou matricule").fill(agent.employee_number)
    page.get_by_label("Nom ou matricule").press("Enter")
    results = page.get_by_role("link", name=re.compile(re.escape(agent.full_name)))
    expect(results).to_have_count(1)
    axe_check(page)  # the search results
    results.click()
    appraisal = launched["appraisal"]
    expect(page).to_have_url(re.compile(rf"/entretiens/{appraisal.pk}/$"))
    expect(page.get_by_role("button", name="Déléguer", exact=True)).to_be_visible()
    axe_check(page)

    # HR cancels the appraisal: the motive is required, then shown on the page.
    cancel = page.locator("#action-cancel")
    cancel.get_by_role("button", name="Annuler l'entretien").click()
    expect(page.locator("#error-summary")).to_contain_text("Le motif est obligatoire.")
    expect(state_line(page)).not_to_contain_text("Annulé")
    axe_check(page)  # the page with the motive's error
    cancel.get_by_label(re.compile("^Motif de l'annulation")).fill("Agent en disponibilité depuis le 1er mars.")
    cancel.get_by_role("button", name="Annuler l'entretien").click()
    expect(state_line(page)).to_contain_text("Annulé")
    expect(page.locator(".appraisal-facts")).to_contain_text("Agent en disponibilité depuis le 1er mars.")
    axe_check(page)  # the appraisal, cancelled
    appraisal.refresh_from_db()
    assert appraisal.state == "cancelled" and appraisal.cancelled_reason.startswith("Agent en disponibilité")
    assert appraisal.transitions.get().action == "cancel"
