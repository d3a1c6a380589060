"""Who is calling the LRS: an ``LRSClient`` (HTTP Basic), a cmi5 AU session (HTTP Basic with the
token of its fetch URL: its own agent only, the session rules of ``xapi.cmi5``), a signed-in
Parcours user (the site session, their own statements only) or Parcours itself (Python
callers, ``client=None``)."""

import base64
import binascii
import hashlib
import hmac
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.hashers import check_password
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone

from xapi import cmi5, identity
from xapi.errors import XAPIForbidden, XAPIUnauthorized
from xapi.models import LRSClient

CHALLENGE = {"WWW-Authenticate": 'Basic realm="xAPI"'}
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_CREDENTIAL_LENGTH = 1024


@dataclass
class Principal:
    authority: dict
    client: LRSClient | None = None
    user: object = None
    read_only: bool = False
    scope_agent: dict | None = None
    scope_key: str = ""
    trusted_authority: bool = False
    session: bool = field(default=False)
    cmi5_session: object = None  # the xapi.models.Cmi5Session of a cmi5 session token

    def may_write(self):
        if self.read_only:
            raise XAPIForbidden("these credentials are read-only")


def principal_for_client(client):
    """The principal of ``client`` (an ``LRSClient``), or of Parcours itself when ``None``."""
    if client is None:
        return Principal(authority=identity.system_authority(), trusted_authority=True)
    if isinstance(client, Principal):
        return client
    return Principal(
        authority=client.authority,
        client=client,
        read_only=client.read_only,
        scope_agent=client.scope_agent,
        scope_key=client.scope_key,
        trusted_authority=client.trusted_authority,
    )


def principal_for_cmi5(key, secret):
    """The principal of a cmi5 session token (401 when unknown, wrong or expired)."""
    session = cmi5.session_for_token(key, secret)
    if session is None:
        raise XAPIUnauthorized("unknown or expired cmi5 session token", headers=CHALLENGE)
    return Principal(
        authority=cmi5.authority(), scope_agent=session.actor, scope_key=session.actor_key, cmi5_session=session
    )


def principal_for_user(user):
    actor = identity.actor_for(user)
    return Principal(
        authority=actor, user=user, scope_agent=actor, scope_key=identity.agent_key(actor), session=True
    )


class _VerifiedSecrets:
    """Remembers, per process, which (client, secret hash) pairs a presented secret matched, as a
    SHA-256 of the secret: the slow password hasher then runs once per client, not per request.
    A changed hash (new secret) or a revoked client no longer matches."""

    def __init__(self, size=256):
        self.size = size
        self.entries = {}
        self.lock = threading.Lock()

    def matches(self, client, secret):
        token = hashlib.sha256(secret.encode("utf-8")).hexdigest()
        with self.lock:
            known = self.entries.get(client.pk)
        if known and known[0] == client.secret_hash and hmac.compare_digest(known[1], token):
            return True
        if not check_password(secret, client.secret_hash):
            return False
        with self.lock:
            if len(self.entries) >= self.size:
                self.entries.clear()
            self.entries[client.pk] = (client.secret_hash, token)
        return True


_verified = _VerifiedSecrets()


def _basic_credentials(header):
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded or len(encoded) > MAX_CREDENTIAL_LENGTH:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    key, sep, secret = decoded.partition(":")
    return (key, secret) if sep else None


def authenticate(request, authorization, *, unsafe):
    """The principal of an HTTP request; raises 401 (with the Basic challenge) otherwise.

    ``authorization`` is the Authorization header (or its alternate-syntax form parameter).
    Without one, a signed-in user's session is accepted; their writes must carry Django's CSRF
    token, as any cookie-authenticated write in Parcours.
    """
    if authorization:
        credentials = _basic_credentials(authorization)
        if credentials is None:
            raise XAPIUnauthorized("the Authorization header must be HTTP Basic credentials", headers=CHALLENGE)
        key, secret = credentials
        if key.startswith(cmi5.TOKEN_PREFIX):
            return principal_for_cmi5(key, secret)
        client = LRSClient.objects.filter(key=key, is_active=True).first() if len(key) <= 64 else None
        if client is None or not _verified.matches(client, secret):
            raise XAPIUnauthorized("unknown or revoked credentials", headers=CHALLENGE)
        now = timezone.now()
        if client.last_used_at is None or now - client.last_used_at > LAST_USED_RESOLUTION:
            LRSClient.objects.filter(pk=client.pk).update(last_used_at=now)
        return principal_for_client(client)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active:
        if unsafe and CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {}) is not None:
            raise XAPIForbidden("a write with the site session needs the CSRF token (X-CSRFToken header)")
        return principal_for_user(user)
    raise XAPIUnauthorized("authentication required (HTTP Basic with LRS client credentials)", headers=CHALLENGE)
