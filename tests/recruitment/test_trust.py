"""Trust boundaries of recruitment (issue "trust boundaries"):

1. message templates are filled by placeholder substitution, never run (``cms.placeholders``,
   ``recruitment.messages``); an unknown placeholder is refused when the template is saved;
2. the candidate's self-service link reaches the candidate only: the copy kept in the
   application's history (read by recruiters and HR) masks it;
3. the application form's rate limits use the shared client address (``cms.net.client_ip``)
   and the shared cache (``cms.ratelimit``), atomically, across processes and gunicorn workers;
4. ids beyond 64 bits in forms, query strings and API calls answer 404 or a form error, not 500;
5. bidi controls and zero-width characters are stripped from candidates' names.
"""

import importlib
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from cms import placeholders, ratelimit
from recruitment import actions, messages, views
from recruitment.admin_forms import BulkRejectForm
from recruitment.choices import ApplicationStatus, MessageKind
from recruitment.models import Application, ApplicationEvent, Candidate, MessageTemplate
from tests.factories import UserFactory
from tests.recruitment.conftest import apply_directly, pdf_bytes, pdf_upload
from tests.recruitment.test_board import make_application, url

BASE_DIR = Path(settings.BASE_DIR)
BIG = "18446744073709551616"  # 2**64: beyond any bigint
HIDDEN = "[lien personnel du candidat]"
LINK = re.compile(r"https?://\S+/candidat/[A-Za-z0-9_-]+/")


def apply_url(opening_id):
    return reverse("recruitment:apply", kwargs={"opening_id": opening_id})


def form_data(**overrides):
    data = {"first_name": "Alice", "last_name": "Dupont", "email": "alice.dupont@example.org", "phone": "",
            "message": "Je suis très motivée.", "cv": pdf_upload()}
    data.update(overrides)
    return data


def set_template(kind, *, subject, body, language="fr"):
    template, _created = MessageTemplate.objects.update_or_create(
        kind=kind, language=language, defaults={"subject": subject, "body": body}
    )
    return template


# --- 1. message templates cannot run code ------------------------------------------------------


HOSTILE_BODY = (
    "Bonjour {candidat_prenom},\n"
    "{% for u in opening.org_unit.get_descendants %}{{ u.agents.all.0.user.password }}{% endfor %}\n"
    "{% load static %}{% now \"Y\" %} {{ candidate.email }} {{ settings.SECRET_KEY }}\n"
    "{{ opening.title|upper }} {{candidat_nom}}"
)


def test_template_tags_and_variables_are_sent_literally_and_read_nothing(
    openings, org, acknowledgement_template, django_capture_on_commit_callbacks
):
    victim = UserFactory(username="victim", password="un-mot-de-passe-secret")
    acknowledgement_template.subject = "{% now \"Y\" %} {{ opening.reference }} {offre_reference}"
    acknowledgement_template.body = HOSTILE_BODY
    acknowledgement_template.full_clean()  # no unknown {placeholder}: it may be saved
    acknowledgement_template.save()

    with django_capture_on_commit_callbacks(execute=True):
        application, _token = apply_directly(openings["open"], first_name="Alice", last_name="Dupont")
    sent = mail.outbox[-1]
    expected = HOSTILE_BODY.replace("{candidat_prenom}", "Alice").replace("{{candidat_nom}}", "{Dupont}")
    assert sent.body == expected
    assert sent.subject == "{% now \"Y\" %} {{ opening.reference }} 2025-DRH-001"
    assert victim.password not in sent.body and settings.SECRET_KEY not in sent.body
    assert "alice.dupont@example.org" not in sent.body  # {{ candidate.email }} stayed literal
    copy = ApplicationEvent.objects.get(application=application, kind="message")
    assert copy.message_body == expected and victim.password not in copy.message_body


def test_an_unknown_placeholder_is_refused_with_a_sentence_naming_it(db):
    template = MessageTemplate(kind=MessageKind.OFFER, language="fr", subject="Offre {offre_titre}",
                               body="Bonjour {candidat_prenom}, {inconnu} et {candidate.email}.")
    with pytest.raises(ValidationError) as error:
        template.full_clean()
    (sentence,) = error.value.message_dict["body"]
    assert sentence.startswith("Ce texte utilise des variables inconnues : {inconnu}, {candidate.email}.")
    assert "{candidat_prenom}" in sentence  # the sentence lists the possible ones
    assert "subject" not in error.value.message_dict

    template.body, template.subject = "Bonjour", "Offre {titre}"
    with pytest.raises(ValidationError) as error:
        template.full_clean()
    assert error.value.message_dict["subject"][0].startswith("Ce texte utilise une variable inconnue : {titre}.")


def test_the_snippet_editor_refuses_an_unknown_placeholder(client, recruiter, acknowledgement_template):
    client.force_login(recruiter)
    edit = reverse("wagtailsnippets_recruitment_messagetemplate:edit", args=[acknowledgement_template.pk])
    response = client.post(edit, {"kind": MessageKind.ACKNOWLEDGEMENT, "language": "fr", "subject": "Reçu",
                                  "body": "Bonjour {inconnu}"})
    assert response.status_code == 200
    assert "Ce texte utilise une variable inconnue : {inconnu}." in response.content.decode()
    acknowledgement_template.refresh_from_db()
    assert acknowledgement_template.subject == "Votre candidature {offre_reference}"  # unchanged

    response = client.post(edit, {"kind": MessageKind.ACKNOWLEDGEMENT, "language": "fr", "subject": "Reçu {{ x }}",
                                  "body": "Bonjour {candidat_prenom} {% if x %}"})
    assert response.status_code == 302
    acknowledgement_template.refresh_from_db()
    assert acknowledgement_template.body == "Bonjour {candidat_prenom} {% if x %}"


def test_substitution_is_one_pass_over_plain_strings():
    values = {"offre_titre": "Chef {candidat_nom}", "candidat_nom": "Dupont"}
    assert placeholders.substitute("{offre_titre} / {candidat_nom}", values) == "Chef {candidat_nom} / Dupont"
    for literal in ("{offre_titre.upper}", "{offre_titre[0]}", "{offre_titre:>30}", "{0}", "{{ offre_titre }}",
                    "{Offre_titre}", "{inconnu}", "{% offre_titre %}"):
        assert placeholders.substitute(literal, values) == literal
    assert placeholders.substitute("{{offre_titre}}", values) == "{Chef {candidat_nom}}"
    assert placeholders.unknown_placeholders("{a} {b} {a} {{ c }} {x.y}", {"b"}) == ["a", "x.y"]


def test_a_candidate_name_holding_a_placeholder_is_not_expanded(openings, acknowledgement_template,
                                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        application, token = apply_directly(openings["open"], first_name="{lien_suivi}")
    sent = mail.outbox[-1]
    assert sent.body.startswith("Bonjour {lien_suivi},\n")
    assert sent.body.count(token) == 1  # only where the template puts the link


def test_bulk_rejection_label_previews_the_subject_without_running_it(openings):
    set_template(MessageKind.REJECTION, subject="{% now \"Y\" %} Réponse — {offre_titre} {candidat_prenom}",
                 body="Bonjour")
    form = BulkRejectForm(opening=openings["open"])
    label = dict(form.fields["message"].choices)[BulkRejectForm.SEND]
    assert "{% now \"Y\" %} Réponse — Gestionnaire formation {candidat_prenom}" in label


def test_interview_placeholders_are_french_plain_strings(openings):
    application = make_application(openings["open"], first_name="Inès", last_name="Martin")
    starts = timezone.make_aware(timezone.datetime(2031, 7, 1, 9, 5))
    interview = type("Interview", (), {"starts_at": starts, "duration_minutes": 45, "location": "Salle 3"})()
    values = messages.values_for(application, interview=interview, self_service_url="https://x/suivi/")
    assert set(values) == set(messages.PLACEHOLDERS)
    assert all(type(value) is str for value in values.values())
    assert values["date_entretien"] == "mardi 1er juillet 2031" and values["heure_entretien"] == "9 h 05"
    assert values["offre_service"] == openings["open"].org_unit.name
    assert messages.values_for(application, language="en", interview=interview)["date_entretien"] == "Tuesday 1 July 2031"
    assert messages.values_for(application)["date_entretien"] == ""


def test_help_text_and_documentation_list_every_placeholder():
    doc = (BASE_DIR / "docs" / "recruitment-messages.md").read_text(encoding="utf-8")
    with translation.override("fr"):  # the documentation is French, whatever an earlier test activated
        help_text = str(MessageTemplate._meta.get_field("body").help_text)
        for name, description in messages.PLACEHOLDERS.items():
            assert f"{{{name}}} : {description}" in help_text
            assert f"| `{{{name}}}` | {description} |" in doc


def test_migration_rewrites_django_template_texts_and_leaves_the_rest_literal(db):
    migration = importlib.import_module("recruitment.migrations.0003_placeholder_messages")
    MessageTemplate.objects.all().delete()
    old = MessageTemplate.objects.create(
        kind=MessageKind.INTERVIEW, language="fr", subject="Entretien – {{ opening.title }} (réf. {{ opening.reference }})",
        body="Bonjour {{ candidate.first_name }} {{candidate.last_name}},\n"
             "le {{ interview.starts_at|date:\"l j F Y\" }} à {{ interview.starts_at|time:\"H:i\" }} "
             "({{ interview.duration_minutes }} min, {{ interview.location }}) ; {{ interview.starts_at }}.\n"
             "{% if self_service_url %}Suivi : {{ self_service_url }}{% endif %}\n"
             "{{ candidate.email }} {{ opening.title|upper }} {% now \"Y\" %}",
    )
    migration.rewrite_templates(django_apps, None)
    old.refresh_from_db()
    assert old.subject == "Entretien – {offre_titre} (réf. {offre_reference})"
    assert old.body == (
        "Bonjour {candidat_prenom} {candidat_nom},\n"
        "le {date_entretien} à {heure_entretien} ({duree_entretien} min, {lieu_entretien}) ; "
        "{date_entretien} à {heure_entretien}.\n"
        "Suivi : {lien_suivi}\n"
        "{{ candidate.email }} {{ opening.title|upper }} {% now \"Y\" %}"
    )
    old.full_clean()  # what is left is literal text, which may be saved as is


# The French acknowledgement and interview invitation as the first version of migration 0002
# seeded them (Django-template syntax).
FIRST_SEED = [
    ("acknowledgement", 'Votre candidature au poste « {{ opening.title }} » (réf. {{ opening.reference }}) a bien été reçue',
     "Bonjour {{ candidate.first_name }} {{ candidate.last_name }},\n\nNous vous remercions de l'intérêt que vous portez à notre collectivité. Votre candidature au poste « {{ opening.title }} » (référence {{ opening.reference }}) nous est bien parvenue.\n\nElle va être étudiée avec attention par l'équipe chargée du recrutement. Vous serez informé·e par courriel de la suite qui lui sera donnée.\n{% if self_service_url %}\nVous pouvez à tout moment suivre votre candidature, la retirer ou demander l'effacement de vos données personnelles à l'adresse suivante :\n{{ self_service_url }}\n{% endif %}\nNous vous prions d'agréer l'expression de nos salutations distinguées.\n\nLe service du recrutement"),
    ("interview", 'Invitation à un entretien – {{ opening.title }} (réf. {{ opening.reference }})',
     'Bonjour {{ candidate.first_name }} {{ candidate.last_name }},\n\nVotre candidature au poste « {{ opening.title }} » (référence {{ opening.reference }}) a retenu notre attention, et nous avons le plaisir de vous inviter à un entretien :\n\n- date : le {{ interview.starts_at|date:"l j F Y" }} à {{ interview.starts_at|time:"H:i" }} ;\n- durée prévue : {{ interview.duration_minutes }} minutes ;\n- lieu : {{ interview.location }}.\n\nVous trouverez en pièce jointe une invitation à ajouter à votre agenda. Merci de vous munir d\'une pièce d\'identité.\n\nSi cette date ne vous convient pas, ou si vous avez besoin d\'un aménagement particulier pour cet entretien (notamment en raison d\'un handicap), merci de nous le faire savoir dès que possible en répondant à ce message.\n\nNous vous prions d\'agréer l\'expression de nos salutations distinguées.\n\nLe service du recrutement'),
]


def test_migration_turns_the_first_seed_into_the_current_seed(db):
    rewrite = importlib.import_module("recruitment.migrations.0003_placeholder_messages").rewrite_templates
    seed = {(t["kind"], t["language"]): t for t in importlib.import_module("recruitment.migrations.0002_defaults").TEMPLATES}
    for kind, subject, body in FIRST_SEED:
        set_template(kind, subject=subject, body=body)
    rewrite(django_apps, None)
    for kind, _subject, _body in FIRST_SEED:
        template = MessageTemplate.objects.get(kind=kind, language="fr")
        assert (template.subject, template.body) == (seed[kind, "fr"]["subject"], seed[kind, "fr"]["body"])


# --- 2. the self-service link stays the candidate's -------------------------------------------


def test_the_history_copy_masks_the_link_which_works_for_the_candidate(client, openings, recruiter,
                                                                        acknowledgement_template,
                                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(apply_url(openings["open"].pk), form_data())
    assert response.status_code == 302
    application = Application.objects.get()
    (sent,) = mail.outbox
    link = LINK.search(sent.body).group(0)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert link.startswith(settings.WAGTAILADMIN_BASE_URL.rstrip("/"))
    assert application.self_service_token_hash not in (token, "") and token not in application.self_service_token_hash

    copy = ApplicationEvent.objects.get(application=application, kind="message")
    assert token not in copy.message_body + copy.message_subject
    assert copy.message_body.endswith("Suivre votre candidature : " + HIDDEN)

    # The candidate's link works (from another browser, without the session).
    page = Client().get(link.removeprefix(settings.WAGTAILADMIN_BASE_URL.rstrip("/")))
    assert page.status_code == 200 and application.reference in page.content.decode()
    assert page["Referrer-Policy"] == "no-referrer"

    # The recruiter sees the masked copy: in the admin, in the API, nowhere the token.
    client.force_login(recruiter)
    admin_page = client.get(url("application", application.pk)).content.decode()
    assert HIDDEN in admin_page and token not in admin_page
    api = client.get("/api/v1/applications/")
    assert api.status_code == 200 and token not in api.content.decode()
    assert application.self_service_token_hash not in admin_page + api.content.decode()


def test_no_other_message_carries_a_link(openings, recruiter, acknowledgement_template,
                                         django_capture_on_commit_callbacks):
    set_template(MessageKind.REJECTION, subject="Réponse", body="Bonjour {candidat_prenom}. Suivi : {lien_suivi}.")
    application, token = apply_directly(openings["open"])
    with django_capture_on_commit_callbacks(execute=True):
        actions.move(application_id=application.pk, to_status=ApplicationStatus.REJECTED, actor=recruiter,
                      reason="Profil éloigné")
    assert mail.outbox[-1].body == "Bonjour Alice. Suivi : ."
    copy = ApplicationEvent.objects.filter(application=application, kind="message").last()
    assert copy.message_body == "Bonjour Alice. Suivi : ."


def test_migration_masks_links_already_kept_in_the_history(openings):
    migration = importlib.import_module("recruitment.migrations.0003_placeholder_messages")
    application = make_application(openings["open"])
    token = "Zq3-_" + "a" * 38
    body = (f"Bonjour,\nSuivre : https://emploi.ville.example/recrutement/candidat/{token}/\n"
            f"Ou : /recrutement/candidat/{token}/ (lien personnel).\nLe service du recrutement")
    ApplicationEvent.objects.create(application=application, kind="message", at=timezone.now(),
                                    message_subject="Votre candidature", message_body=body, message_to="a@example.org")
    untouched = ApplicationEvent.objects.create(application=application, kind="note", at=timezone.now(),
                                                reason="Voir le candidat/dossier")
    migration.hide_self_service_links(django_apps, None)
    copy = ApplicationEvent.objects.get(application=application, kind="message")
    assert token not in copy.message_body
    assert copy.message_body == (f"Bonjour,\nSuivre : {HIDDEN}\nOu : {HIDDEN} (lien personnel).\n"
                                 "Le service du recrutement")
    assert ApplicationEvent.objects.get(pk=untouched.pk).reason == "Voir le candidat/dossier"


# --- 3. rate limits: shared client address, shared cache, atomic ----------------------------------


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_the_form_limit_counts_the_client_behind_the_trusted_proxy(client, openings):
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for number in range(5):
        response = client.post(apply_url(openings["open"].pk), form_data(email=f"p{number}@example.org"),
                               HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
        assert response.status_code == 302, number
    # What the client writes in front of the proxy's entry does not open a new allowance.
    response = client.post(apply_url(openings["open"].pk), form_data(email="p5@example.org"),
                           HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7", **proxy)
    assert response.status_code == 429
    # Another client behind the same proxy has its own allowance.
    response = client.post(apply_url(openings["open"].pk), form_data(email="p6@example.org"),
                           HTTP_X_FORWARDED_FOR="203.0.113.8", **proxy)
    assert response.status_code == 302


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_the_api_limit_counts_the_client_behind_the_trusted_proxy(openings):
    api = APIClient()
    endpoint = f"/api/v1/openings/{openings['open'].pk}/applications/"

    def post(email, forwarded):
        data = {"first_name": "Jeanne", "last_name": "Moreau", "email": email, "cv": pdf_upload()}
        return api.post(endpoint, data, format="multipart", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)

    for number in range(5):
        assert post(f"j{number}@example.org", "203.0.113.7").status_code == 201
    response = post("j5@example.org", "203.0.113.7")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert post("j6@example.org", "203.0.113.9").status_code == 201


def test_counters_live_in_the_cache(db):
    assert ratelimit.take_rate("unit", "x", limit=1, period=60) == (True, 0)
    assert ratelimit.take_rate("unit", "x", limit=1, period=60)[0] is False
    ratelimit.give_back_rate("unit", "x", limit=1, period=60)
    assert ratelimit.take_rate("unit", "x", limit=1, period=60) == (True, 0)
    cache.clear()  # nothing is remembered anywhere else
    assert ratelimit.take_rate("unit", "x", limit=1, period=60) == (True, 0)


REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_or_skip():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: this test needs a running Redis")
    return client


RACE_SCRIPT = r"""
import sys, time
import django
from django.conf import settings

backend, location, mode = sys.argv[1], sys.argv[2], sys.argv[3]
if backend == "db":
    databases = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": location,
                             "OPTIONS": {"timeout": 60, "transaction_mode": "IMMEDIATE"}}}
    caches = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "race_cache",
                          "OPTIONS": {"MAX_ENTRIES": 100000}}}
else:
    databases = {}
    caches = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location,
                          "KEY_PREFIX": sys.argv[4]}}
settings.configure(DATABASES=databases, CACHES=caches, INSTALLED_APPS=[], USE_TZ=True)
django.setup()
if mode == "setup":
    from django.core.management import call_command
    call_command("createcachetable", verbosity=0)
    sys.exit(0)
from cms import ratelimit
start, limit, tries = float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
while time.time() < start:
    time.sleep(0.001)
print(sum(ratelimit.take_rate("race", "203.0.113.1", limit=limit, period=3600)[0] for _ in range(tries)))
"""


@pytest.mark.parametrize("backend", ["db", "redis"])
def test_take_rate_is_atomic_across_processes(backend, tmp_path):
    """Four processes hammer the same counter: exactly ``limit`` uses get through. (Django's
    ``DatabaseCache.incr`` is a read then a write: counted that way, more would.)"""
    script = tmp_path / "race.py"
    script.write_text(RACE_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(BASE_DIR)}
    prefix = f"race-{uuid.uuid4().hex[:8]}"
    if backend == "db":
        location = str(tmp_path / "cache.sqlite3")
        subprocess.run([sys.executable, str(script), backend, location, "setup", prefix], check=True, cwd=BASE_DIR,
                       env=env, timeout=60)
    else:
        redis_client = _redis_or_skip()
        location = REDIS_URL
    start = time.time() + 1.5
    processes = [
        subprocess.Popen([sys.executable, str(script), backend, location, "race", prefix, str(start), "12", "10"],
                         cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    results = [process.communicate(timeout=120) for process in processes]
    assert all(process.returncode == 0 for process in processes), [err for _out, err in results]
    assert sum(int(out) for out, _err in results) == 12
    if backend == "redis":
        for key in redis_client.scan_iter(match=f"{prefix}:*"):
            redis_client.delete(key)


# --- the application form's limit across two gunicorn workers -----------------------------------


SETUP_SCRIPT = r"""
from datetime import timedelta
from django.core.management import call_command
from django.utils import timezone
call_command("migrate", verbosity=0)
from cms.models import OrgUnit
from cms.services import ensure_home_page
from recruitment.models import JobIndexPage, JobOpeningPage
unit = OrgUnit.add_root(code="DRH", name="Direction des ressources humaines", kind="direction")
index = JobIndexPage(title="Offres d'emploi", slug="offres")
ensure_home_page().add_child(instance=index)
index.save_revision().publish()
today = timezone.localdate()
opening = JobOpeningPage(
    title="Gestionnaire formation", slug="gestionnaire", reference="GUNICORN-1", org_unit=unit, category="B",
    corps="Secrétaires administratifs", location_name="Hôtel de Ville", street_address="Place de l'Hôtel de Ville",
    postal_code="75004", missions="<p>Missions</p>", profile="<p>Profil</p>",
    vacancy_date=today + timedelta(days=30), application_deadline=today + timedelta(days=20),
)
index.add_child(instance=opening)
opening.save_revision().publish()
print("OPENING", opening.pk)
"""

def _forget_form_counters(client):
    for key in client.scan_iter(match="*ratelimit:apply-*"):
        client.delete(key)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _hold_a_worker(port):
    """A connection that sends half a request: the sync worker that accepts it waits for the
    rest, so the other worker answers everything until it is closed."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"GET /health-partial HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    time.sleep(0.5)  # let a worker accept it
    return sock


@pytest.fixture(scope="module")
def migrated_database(tmp_path_factory, django_db_setup, django_db_blocker):
    """A file holding the migrated test database (SQLite's backup API), which saves the
    subprocess a full ``migrate``. Module-scoped, so it is made before the test's own
    transaction opens (a backup would wait forever on the tables that transaction locks).
    On another database an empty file: the subprocess then migrates it."""
    path = tmp_path_factory.mktemp("gunicorn") / "db.sqlite3"
    with django_db_blocker.unblock():
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            target = sqlite3.connect(path)
            try:
                connection.connection.backup(target)
            finally:
                target.close()
    return path


def test_application_form_limit_holds_across_two_gunicorn_workers(migrated_database, db, tmp_path):
    """The real thing: gunicorn with 2 sync workers (``--threads 1``: the checkout's
    gunicorn.conf.py, read by default, asks for threads, which would make them gthread workers),
    the dev settings with the Redis cache. One worker at a time is kept busy by a half-sent
    request, so the five allowed applications are answered by both workers (2 + 3); the sixth,
    answered by either, is refused (429)."""
    import requests

    if shutil.which("gunicorn", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("gunicorn is not installed in this environment")
    redis_client = _redis_or_skip()
    _forget_form_counters(redis_client)
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PYTEST_CURRENT_TEST")},
        "DJANGO_SETTINGS_MODULE": "cms.settings.dev",
        "DATABASE_URL": f"sqlite:///{migrated_database}",
        "CACHE_BACKEND": "redis",
        "REDIS_URL": REDIS_URL,
        "TASKS_BACKEND": "immediate",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PRIVATE_ROOT": str(tmp_path / "private"),
        "TRUSTED_PROXY_COUNT": "0",
    }
    setup = subprocess.run([sys.executable, "manage.py", "shell", "-c", SETUP_SCRIPT], cwd=BASE_DIR, env=env,
                           capture_output=True, text=True, timeout=120)
    assert setup.returncode == 0, setup.stderr[-3000:]
    opening_id = int(re.search(r"OPENING (\d+)", setup.stdout).group(1))

    port = _free_port()
    log = tmp_path / "access.log"
    errors = (tmp_path / "gunicorn.err").open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "cms.wsgi:application", "-w", "2", "-k", "sync", "--threads", "1", "--preload",
         "-b", f"127.0.0.1:{port}", "--timeout", "60", "--access-logfile", str(log),
         "--access-logformat", "%(p)s %(s)s %(m)s %(U)s"],
        cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=errors, start_new_session=True,
    )
    held = []
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 30
        while True:
            try:
                requests.get(f"{base}/", timeout=10)
                break
            except requests.RequestException:
                assert server.poll() is None and time.time() < deadline, (tmp_path / "gunicorn.err").read_text()
                time.sleep(0.2)
        time.sleep(1)  # both workers booted

        csrf = uuid.uuid4().hex  # a 32-character secret: the cookie and the field must match
        session = requests.Session()
        session.cookies.set("csrftoken", csrf, domain="127.0.0.1")
        run = uuid.uuid4().hex[:8]

        def post(number):
            response = session.post(
                f"{base}{apply_url(opening_id)}", allow_redirects=False, timeout=20,
                data={"csrfmiddlewaretoken": csrf, "first_name": "Alice", "last_name": f"Dupont{number}",
                      "email": f"alice.{run}.{number}@example.org", "phone": "", "message": ""},
                files={"cv": ("cv.pdf", pdf_bytes(), "application/pdf")},
            )
            time.sleep(0.2)  # the access log line is written after the response
            pids = [line.split()[0] for line in log.read_text().splitlines() if "/candidater/" in line]
            return response.status_code, pids[-1]

        held.append(_hold_a_worker(port))  # worker X busy: worker Y answers
        first = [post(number) for number in range(2)]
        held.append(_hold_a_worker(port))  # the only free worker is Y: now both are busy
        held.pop(0).close()  # X is free again, Y stays busy
        second = [post(number) for number in range(2, 6)]

        statuses = [status for status, _pid in first + second]
        assert statuses == [302, 302, 302, 302, 302, 429], statuses
        assert len({pid for _s, pid in first}) == 1 and len({pid for _s, pid in second}) == 1
        assert first[0][1] != second[0][1], "both workers answered"
        # And the other worker refuses too.
        held.append(_hold_a_worker(port))  # the free worker (X) is now busy
        held.pop(0).close()  # Y is free again
        status, pid = post(6)
        assert (status, pid) == (429, first[0][1])
    finally:
        for sock in held:
            sock.close()
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        errors.close()
        _forget_form_counters(redis_client)


# --- 4. ids beyond 64 bits ------------------------------------------------------------------------


def test_huge_ids_in_the_admin_forms_are_form_errors_not_500(client, openings, recruiter):
    client.force_login(recruiter)
    opening = openings["open"]
    application = make_application(opening, status=ApplicationStatus.SHORTLISTED)
    response = client.post(url("bulk_reject", opening.pk), {"applications": [BIG], "reason": "Non", "message": "none"})
    assert response.status_code == 200
    assert BIG in response.content.decode()  # « … » n'est pas une valeur correcte
    response = client.post(url("schedule", application.pk), {
        "starts_at": (timezone.localtime() + timedelta(days=9)).strftime("%Y-%m-%d %H:%M"), "duration_minutes": 45,
        "location": "Salle 3", "interviewers": [BIG, "-1", "0"],
    })
    assert response.status_code == 200 and not application.interviews.exists()
    assert client.get(url("board", opening.pk), {"p": BIG}).status_code == 200
    for name in ("board", "application", "scorecard"):
        path = url(name, 1).replace("/1/", f"/{BIG}/")
        assert client.get(path).status_code == 404, path


def test_huge_ids_on_the_public_side_and_the_api_are_404(client, openings, recruiter):
    request = RequestFactory().post(apply_url(openings["open"].pk), form_data())
    request.user = recruiter
    with pytest.raises(Http404):
        views.apply(request, int(BIG))
    assert client.get(openings["open"].get_parent().url, {"page": BIG}).status_code == 200
    api = APIClient()
    assert api.post(f"/api/v1/openings/{BIG}/applications/", {}, format="multipart").status_code == 404
    api.force_login(recruiter)
    assert api.post(f"/api/v1/applications/{BIG}/actions/move/", {"status": "screening"}, format="json").status_code == 404
    response = api.get("/api/v1/applications/", {"opening": BIG})
    assert response.status_code == 400 and "opening" in response.json()["errors"]
    response = api.get("/api/v1/recruitment/report/", {"opening": BIG})
    assert response.status_code == 400


# --- 5. invisible characters in names -----------------------------------------------------------


def test_bidi_and_zero_width_characters_are_stripped_from_names(client, openings):
    response = client.post(apply_url(openings["open"].pk),
                           form_data(first_name="\u202eAlice\u200b", last_name="Du\u200dpont\u2066"))
    assert response.status_code == 302
    candidate = Candidate.objects.get()
    assert (candidate.first_name, candidate.last_name) == ("Alice", "Dupont")

    api = APIClient()
    response = api.post(f"/api/v1/openings/{openings['open'].pk}/applications/",
                        {"first_name": "\u2067Jeanne", "last_name": "Mo\ufeffreau", "email": "jeanne@example.org",
                         "cv": pdf_upload()}, format="multipart")
    assert response.status_code == 201
    candidate = Candidate.objects.get(email="jeanne@example.org")
    assert (candidate.first_name, candidate.last_name) == ("Jeanne", "Moreau")

    response = client.post(apply_url(openings["open"].pk),
                           form_data(first_name="\u200b\u202e", email="invisible@example.org"))
    assert response.status_code == 400 and not Candidate.objects.filter(email="invisible@example.org").exists()
