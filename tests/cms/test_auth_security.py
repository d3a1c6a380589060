"""Trust boundaries of sign-in: hashed and expiring API tokens (knox) that HR revokes, login
throttling (django-axes, sliding window, per username and client address), password-reset
limits, session lifetime, client address behind proxies, no Gravatar, invisible characters
stripped from directory names, and the deploy checks."""

import importlib
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.test import RequestFactory, override_settings
from django.urls import get_resolver, reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient
from wagtail.admin.menu import settings_menu
from wagtail.models import ModelLogEntry

from cms import auth_security, checks, importer, services
from cms.models import ApiToken, OrgUnit
from cms.net import client_ip
from tests.factories import AgentFactory, UserFactory, api_token_for

PASSWORD = "correct horse battery staple"  # UserFactory's
SITE_LOGIN = "/compte/connexion/"
ADMIN_LOGIN = "/admin/login/"
RESET = "/compte/password_reset/"
ME = "/api/v1/me/"

pytestmark = pytest.mark.django_db


def api_with(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def all_text_in(table):
    """Every value of every row of ``table``, as one string (to look for a clear key)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
        return " ".join(str(value) for row in cursor.fetchall() for value in row)


# =========================================================================== API tokens


def test_create_api_token_prints_the_key_once_with_its_expiry_and_stores_only_a_hash(capsys):
    user = UserFactory(username="sirh")
    call_command("create_api_token", "sirh", "--days", "30", "--name", "SIRH nuit")
    out = capsys.readouterr().out
    key = out.splitlines()[1]
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    expiry = timezone.localtime(timezone.now() + timedelta(days=30))
    assert expiry.strftime("%d/%m/%Y") in out.splitlines()[0] and "SIRH nuit" in out

    token = ApiToken.objects.select_related("token").get()
    assert token.name == "SIRH nuit" and token.token.user == user
    assert abs(token.token.expiry - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    # No clear key anywhere: knox keeps a SHA-512 digest and the first 15 characters.
    for table in (AuthToken._meta.db_table, ApiToken._meta.db_table):
        assert key not in all_text_in(table)
    assert token.token.digest != key and len(token.token.token_key) == 15

    api = api_with(key)
    assert api.get(ME).json()["username"] == "sirh"
    # A second run makes another key; nothing can print the first one again.
    call_command("create_api_token", "sirh")
    second = capsys.readouterr().out
    assert key not in second and ApiToken.objects.count() == 2


def test_create_api_token_refuses_unknown_accounts_and_bad_durations():
    UserFactory(username="sirh")
    with pytest.raises(CommandError, match="Aucun compte"):
        call_command("create_api_token", "personne")
    for days in ("0", "-3", "10000"):
        with pytest.raises(CommandError, match="366"):
            call_command("create_api_token", "sirh", "--days", days)
    assert not AuthToken.objects.exists()


def test_default_validity_is_api_token_days(settings):
    _, key = services.create_api_token(user=UserFactory(), name="défaut")
    token = AuthToken.objects.get()
    assert abs(token.expiry - (timezone.now() + timedelta(days=settings.API_TOKEN_DAYS))) < timedelta(minutes=1)
    assert settings.REST_KNOX["AUTO_REFRESH"] is False
    api_with(key).get(ME)
    assert AuthToken.objects.get().expiry == token.expiry  # use does not extend it


def test_token_use_is_recorded_and_authorization_token_header_still_works():
    key = api_token_for(UserFactory(username="sirh"))
    assert ApiToken.objects.get().last_used_at is None
    response = api_with(key).get(ME)
    assert response.status_code == 200 and response.json()["username"] == "sirh"
    assert ApiToken.objects.get().last_used_at is not None


def test_expired_token_gets_401_with_a_french_detail_and_stays_listed():
    key = api_token_for(UserFactory(username="sirh"))
    AuthToken.objects.update(expiry=timezone.now() - timedelta(minutes=1))
    for _ in range(2):  # every time, not only the first (knox would delete it and say "invalid")
        response = api_with(key).get(ME)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Token")
        assert "a expiré le" in response.json()["detail"]
    assert ApiToken.objects.get().expired


def test_unknown_revoked_or_malformed_tokens_get_401_json():
    for header in ("Token " + "0" * 64, "Token", "Token a b", "Token \xff\xfe\xfd"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        response = client.get(ME)
        assert response.status_code == 401, header
        assert response.json()["detail"]


def test_token_of_a_deactivated_agent_is_refused():
    agent = AgentFactory(user__username="sirh")
    key = api_token_for(agent.user)
    assert api_with(key).get(ME).status_code == 200
    agent.active = False
    agent.save()
    response = api_with(key).get(ME)
    assert response.status_code == 401 and "désactivé" in response.json()["detail"]


def test_old_drf_keys_are_migrated_into_knox_and_their_table_dropped():
    migration = importlib.import_module("cms.migrations.0005_migrate_drf_tokens")
    user = UserFactory(username="ancien")
    old_key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp, user_id integer)")
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)", [old_key, timezone.now(), user.pk])
    migration.migrate_tokens(apps, SimpleNamespace(connection=connection))  # what it uses of the schema editor
    with connection.cursor() as cursor:
        cursor.execute(migration.Migration.operations[1].sql)
    assert "authtoken_token" not in connection.introspection.table_names()

    token = ApiToken.objects.select_related("token").get()
    assert token.name == migration.MIGRATED_NAME and token.token.user == user
    assert abs(token.token.expiry - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)
    assert old_key not in all_text_in(AuthToken._meta.db_table)
    response = api_with(old_key).get(ME)
    assert response.status_code == 200 and response.json()["username"] == "ancien"


# --- HR lists and revokes in the Wagtail admin


@pytest.fixture
def tokens():
    service = UserFactory(username="sirh")
    key = api_token_for(service, name="SIRH nuit")
    return {"key": key, "token": ApiToken.objects.select_related("token").get(), "service": service}


def admin_user(role):
    groups = {"hr": ["HR"], "editor": ["Training editors"], "agent": []}
    if role == "superuser":
        return UserFactory(username="root", is_superuser=True)
    return UserFactory(username=f"role_{role}", groups=groups[role])


@pytest.mark.parametrize("role", ["hr", "superuser"])
def test_hr_lists_tokens_without_their_keys(client, tokens, role):
    client.force_login(admin_user(role))
    response = client.get(reverse("jetons_api:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "SIRH nuit" in html and "sirh" in html
    assert tokens["token"].token.token_key[:8] in html  # the first characters, to recognise it
    assert tokens["key"] not in html and tokens["token"].token.digest not in html
    assert tokens["token"].token.token_key not in html  # not even the 15 characters knox keeps
    assert "Dernière utilisation" in html and "Expire le" in html


@pytest.mark.parametrize("role", ["agent", "editor", "hr", "superuser"])
def test_token_menu_only_for_hr_and_superusers(role):
    # Admin viewsets register their menu items when the URLconf loads: load it first, as a
    # request would (run alone, the test would otherwise see an empty menu).
    get_resolver().url_patterns  # noqa: B018
    request = RequestFactory().get("/admin/")
    request.user = admin_user(role)
    names = {item.name for item in settings_menu.menu_items_for_request(request)}
    assert ("jetons-dapi" in names) is (role in {"hr", "superuser"})


@pytest.mark.parametrize("role", ["anonymous", "agent", "editor"])
def test_others_cannot_list_nor_revoke(client, tokens, role):
    if role != "anonymous":
        client.force_login(admin_user(role))
    delete_url = reverse("jetons_api:delete", args=[tokens["token"].pk])
    for response in (
        client.get(reverse("jetons_api:index")),
        client.get(delete_url),
        client.post(delete_url),
    ):
        assert response.status_code in (302, 403)
        if response.status_code == 302:  # Wagtail: to the login page, or the dashboard with an error
            assert response["Location"].startswith((reverse("wagtailadmin_login"), reverse("wagtailadmin_home")))
    assert ApiToken.objects.filter(pk=tokens["token"].pk).exists()
    assert api_with(tokens["key"]).get(ME).status_code == 200


def test_hr_revokes_after_confirmation_and_the_key_stops_working(client, tokens):
    hr = admin_user("hr")
    client.force_login(hr)
    delete_url = reverse("jetons_api:delete", args=[tokens["token"].pk])
    confirm = client.get(delete_url)
    assert confirm.status_code == 200
    assert "Révoquer le jeton « SIRH nuit »" in confirm.content.decode()
    assert api_with(tokens["key"]).get(ME).status_code == 200  # a GET changes nothing

    response = client.post(delete_url)
    assert response.status_code == 302
    assert not ApiToken.objects.exists() and not AuthToken.objects.exists()
    refused = api_with(tokens["key"]).get(ME)
    assert refused.status_code == 401 and "révoqué" in refused.json()["detail"]
    entry = ModelLogEntry.objects.get(action="wagtail.delete")
    assert entry.user_id == hr.pk and entry.label == "SIRH nuit"


def test_revoke_service_checks_the_actor(tokens):
    with pytest.raises(PermissionDenied):
        services.revoke_api_token(api_token=tokens["token"], actor=admin_user("editor"))
    assert ApiToken.objects.exists()


# =========================================================================== login throttling


def post_login(client, url, username, password, address="10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def strip_tokens(html):
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


@pytest.mark.parametrize("url", [SITE_LOGIN, ADMIN_LOGIN])
def test_fifth_failure_locks_the_pair_and_the_sixth_attempt_is_refused_even_with_the_password(client, url):
    UserFactory(username="camille", is_superuser=True)  # may open the admin too
    for attempt in range(1, 5):
        response = post_login(client, url, "camille", "mauvais")
        assert response.status_code == 200, attempt  # the form again, with its error
    locked = post_login(client, url, "camille", "mauvais")
    assert locked.status_code == 429
    sixth = post_login(client, url, "camille", PASSWORD)
    assert sixth.status_code == 429
    assert SESSION_KEY not in client.session
    html = sixth.content.decode()
    assert "Trop de tentatives" in html and "15 minutes" in html
    assert '<html lang="fr">' in html  # the site's themed page
    assert "camille" not in html  # nothing about the account
    assert int(sixth["Retry-After"]) == 15 * 60


def test_the_lockout_page_is_the_same_for_an_unknown_username(client):
    UserFactory(username="agent")
    pages = {}
    for username in ("agent", "personne"):
        for _ in range(5):
            post_login(client, SITE_LOGIN, username, "mauvais")
        response = post_login(client, SITE_LOGIN, username, "mauvais")
        assert response.status_code == 429
        pages[username] = strip_tokens(response.content.decode())
    assert pages["agent"] == pages["personne"]


def test_lockout_is_keyed_by_username_and_address(client):
    UserFactory(username="agent")
    UserFactory(username="collegue")
    for _ in range(5):
        post_login(client, SITE_LOGIN, "agent", "mauvais", address="10.0.0.1")
    assert post_login(client, SITE_LOGIN, "agent", PASSWORD, address="10.0.0.1").status_code == 429
    # the same account from another address, another account from the same address: fine
    assert post_login(client, SITE_LOGIN, "collegue", PASSWORD, address="10.0.0.1").status_code == 302
    client.logout()
    assert post_login(client, SITE_LOGIN, "agent", PASSWORD, address="10.0.0.2").status_code == 302


def age_failures(minutes):
    from axes.models import AccessFailureLog, AccessLog

    AccessFailureLog.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=minutes))
    AccessLog.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=minutes))


def test_failures_older_than_fifteen_minutes_do_not_count(client):
    """A sliding window, not axes' streak (which would count these five: each came within 15
    minutes of the previous one)."""
    UserFactory(username="agent")
    for _ in range(2):
        post_login(client, SITE_LOGIN, "agent", "mauvais")
    age_failures(10)
    for _ in range(2):
        post_login(client, SITE_LOGIN, "agent", "mauvais")
    age_failures(10)  # two failures 20 minutes ago, two 10 minutes ago
    for _ in range(2):  # the 5th and 6th failures in a row, but only the 3rd and 4th of the window
        assert post_login(client, SITE_LOGIN, "agent", "mauvais").status_code == 200
    assert post_login(client, SITE_LOGIN, "agent", "mauvais").status_code == 429  # 5 in the last 15 minutes


def test_lockout_lasts_fifteen_minutes_from_the_locking_failure_and_is_not_extended(client):
    UserFactory(username="agent")
    for _ in range(5):
        post_login(client, SITE_LOGIN, "agent", "mauvais")
    age_failures(14)
    assert post_login(client, SITE_LOGIN, "agent", "mauvais").status_code == 429  # refused, not counted
    age_failures(2)
    assert post_login(client, SITE_LOGIN, "agent", PASSWORD).status_code == 302


def test_a_successful_sign_in_starts_a_new_count(client):
    UserFactory(username="agent")
    for _ in range(4):
        post_login(client, SITE_LOGIN, "agent", "mauvais")
    assert post_login(client, SITE_LOGIN, "agent", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert post_login(client, SITE_LOGIN, "agent", "mauvais").status_code == 200


def test_axes_reset_username_unlocks(client):
    UserFactory(username="agent")
    for _ in range(5):
        post_login(client, SITE_LOGIN, "agent", "mauvais")
    call_command("axes_reset_username", "agent")
    assert post_login(client, SITE_LOGIN, "agent", PASSWORD).status_code == 302


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_the_lockout_follows_the_forwarded_address(client):
    UserFactory(username="agent")
    for _ in range(5):
        client.post(SITE_LOGIN, {"username": "agent", "password": "x"}, REMOTE_ADDR="10.9.9.9",
                    HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")  # fmt: skip
    # the client cannot escape by writing another address on the left
    response = client.post(SITE_LOGIN, {"username": "agent", "password": PASSWORD}, REMOTE_ADDR="10.9.9.9",
                           HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")  # fmt: skip
    assert response.status_code == 429
    other = client.post(SITE_LOGIN, {"username": "agent", "password": PASSWORD}, REMOTE_ADDR="10.9.9.9",
                        HTTP_X_FORWARDED_FOR="198.51.100.2")  # fmt: skip
    assert other.status_code == 302


def test_authenticate_without_a_client_address_still_works():
    user = UserFactory(username="agent")
    request = RequestFactory().post(SITE_LOGIN)
    del request.META["REMOTE_ADDR"]
    from django.contrib.auth import authenticate

    assert authenticate(request, username="agent", password=PASSWORD) == user
    assert authenticate(request, username="agent", password="mauvais") is None


# --- client address


def meta_request(remote="192.0.2.10", forwarded=None):
    request = RequestFactory().get("/")
    request.META["REMOTE_ADDR"] = remote
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


def test_client_ip_ignores_x_forwarded_for_by_default(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(meta_request(forwarded="6.6.6.6")) == "192.0.2.10"


@pytest.mark.parametrize(
    "count, forwarded, expected",
    [
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # nginx appended the address it saw
        (1, "203.0.113.7", "203.0.113.7"),
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.2", "203.0.113.7"),  # load balancer, then nginx
        (2, "203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (1, "", "192.0.2.10"),  # no header: the peer
    ],
)
def test_client_ip_honours_the_trusted_proxies(settings, count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    assert client_ip(meta_request(forwarded=forwarded)) == expected


def test_axes_gets_none_rather_than_something_that_is_not_an_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert auth_security.client_ip_for_axes(meta_request(forwarded="n'importe quoi")) is None
    assert auth_security.client_ip_for_axes(meta_request(forwarded="2001:db8::1")) == "2001:db8::1"


# =========================================================================== password reset


@pytest.fixture
def clock(monkeypatch):
    """The limits count per hour / quarter of an hour of the clock: start at the top of one."""
    now = {"t": 500_000 * 3600.0}
    monkeypatch.setattr(auth_security, "_now", lambda: now["t"])
    return now


def test_at_most_three_reset_mails_per_address_per_hour(client, clock):
    UserFactory(username="agent", email="agent@example.org")
    responses = []
    for email in ["agent@example.org", "Agent@Example.org", " agent@example.org", "AGENT@example.org"]:
        responses.append(client.post(RESET, {"email": email}))
        clock["t"] += 60
    assert [r.status_code for r in responses] == [302] * 4
    assert {r["Location"] for r in responses} == {reverse("password_reset_done")}
    assert len(mail.outbox) == 3  # the 4th was not sent, and nothing said so

    clock["t"] += 3600
    client.post(RESET, {"email": "agent@example.org"})
    assert len(mail.outbox) == 4


def test_reset_page_is_the_same_for_an_unknown_address(client, clock):
    UserFactory(username="agent", email="agent@example.org")
    known = client.post(RESET, {"email": "agent@example.org"}, follow=True)
    unknown = client.post(RESET, {"email": "personne@example.org"}, follow=True)
    assert strip_tokens(known.content.decode()) == strip_tokens(unknown.content.decode())
    assert len(mail.outbox) == 1


def test_reset_requests_are_limited_per_client_address(client, settings, clock):
    settings.PASSWORD_RESET_MAX_PER_IP = 2
    for n in range(2):
        assert client.post(RESET, {"email": f"x{n}@example.org"}, REMOTE_ADDR="10.0.0.1").status_code == 302
    refused = client.post(RESET, {"email": "x3@example.org"}, REMOTE_ADDR="10.0.0.1")
    assert refused.status_code == 429 and "Trop de demandes" in refused.content.decode()
    assert client.post(RESET, {"email": "x3@example.org"}, REMOTE_ADDR="10.0.0.2").status_code == 302


# =========================================================================== sessions, avatars


def test_agent_session_ends_when_the_browser_closes(client):
    UserFactory(username="agent")
    response = post_login(client, SITE_LOGIN, "agent", PASSWORD)
    assert response.status_code == 302
    assert client.session.get_expire_at_browser_close()
    cookie = response.cookies["sessionid"]
    assert not cookie["max-age"] and not cookie["expires"]
    assert client.session.get_expiry_age() == 8 * 3600  # still bounded on the server


def test_admin_user_session_lasts_session_hours(client, settings):
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    UserFactory(username="rh", groups=["HR"])
    response = post_login(client, SITE_LOGIN, "rh", PASSWORD)
    assert response.status_code == 302
    assert not client.session.get_expire_at_browser_close()
    assert int(response.cookies["sessionid"]["max-age"]) == 8 * 3600


def test_admin_pages_have_no_gravatar(client):
    client.force_login(UserFactory(username="root", is_superuser=True, email="root@example.org"))
    for url in ("/admin/", reverse("wagtailadmin_account")):
        html = client.get(url).content.decode()
        assert "gravatar.com" not in html


# =========================================================================== invisible characters

SPOOFED = "Da\u202evid\u200b"  # a right-to-left override and a zero-width space


def test_directory_services_strip_invisible_characters():
    unit = services.create_org_unit(code="DX", name="Direction\u2066 des\u200d achats", kind="direction")
    assert unit.name == "Direction des achats"
    agent = services.save_agent(
        employee_number="M1", first_name=SPOOFED, last_name="Mar\u200ftin", org_unit=unit, job_title="Chef\ufeff"
    )
    agent.user.refresh_from_db()
    assert (agent.user.first_name, agent.user.last_name, agent.job_title) == ("David", "Martin", "Chef")
    unit = services.update_org_unit(org_unit=unit, code="DX", name="\u202bDirection", kind="direction", parent=None)
    assert unit.name == "Direction"


def test_import_strips_invisible_characters_from_names():
    csv = (
        "employee_number,first_name,last_name,email,org_unit_code,org_unit_name,job_title\n"
        f"P1,{SPOOFED},Du\u2067pont,p1@example.org,DRH,Direction\u200b RH,Chargé\u202e de mission\n"
    ).encode()
    report = importer.import_agents(file=csv)
    assert report.ok, report.errors
    agent = AgentFactory._meta.model.objects.select_related("user", "org_unit").get(employee_number="P1")
    assert (agent.user.first_name, agent.user.last_name) == ("David", "Dupont")
    assert agent.job_title == "Chargé de mission"
    assert OrgUnit.objects.get(code="DRH").name == "Direction RH"


# =========================================================================== deploy checks


def test_deploy_checks_warn_about_unsafe_production_settings(settings):
    settings.ALLOWED_HOSTS = ["*"]
    settings.WAGTAILADMIN_BASE_URL = "http://parcours.example.org"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    ids = [warning.id for warning in checks.check_deployment_settings(None)]
    assert ids == ["cms.W001", "cms.W002", "cms.W003", "cms.W004"]


def test_deploy_checks_are_quiet_for_a_sound_configuration(settings):
    settings.ALLOWED_HOSTS = ["parcours.example.org"]
    settings.WAGTAILADMIN_BASE_URL = "https://parcours.example.org"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "t"}}
    assert checks.check_deployment_settings(None) == []
