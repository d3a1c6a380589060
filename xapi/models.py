"""Storage of the Learning Record Store (xAPI 1.0.3).

Statements are append-only: the one change a stored row ever sees is ``voided`` set by a
voiding statement. Long identifiers (IRIs, inverse functional identifiers, document ids) are
indexed through their SHA-256 (``*_key`` columns, see ``xapi.validation.digest``): a B-tree
cannot index an IRI of any length, a fixed-width key can.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class LRSClient(models.Model):
    """Credentials of a Learning Record Provider or Consumer (HTTP Basic: key and secret)."""

    name = models.CharField(_("nom"), max_length=200)
    key = models.CharField(_("clé"), max_length=64, unique=True)
    secret_hash = models.CharField(max_length=256)
    read_only = models.BooleanField(_("lecture seule"), default=False)
    scope_agent = models.JSONField(_("agent autorisé"), null=True, blank=True)
    scope_key = models.CharField(max_length=64, blank=True, default="", db_index=True)
    trusted_authority = models.BooleanField(_("autorité fournie acceptée"), default=False)
    authority = models.JSONField(_("autorité"))
    is_active = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)

    class Meta:
        verbose_name = _("client LRS")
        verbose_name_plural = _("clients LRS")
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name


class AgentIdentity(models.Model):
    """The opaque, stable xAPI account name of a Parcours user (never their name or e-mail)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="xapi_identity")
    account_name = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        verbose_name = _("identité xAPI")
        verbose_name_plural = _("identités xAPI")

    def __str__(self):
        return str(self.account_name)


class Statement(models.Model):
    statement_id = models.UUIDField(unique=True)
    data = models.JSONField()  # the statement as stored ("exact" format)
    content_hash = models.CharField(max_length=64)  # SHA-256 of the comparable form (immutability)
    stored = models.DateTimeField()
    timestamp = models.DateTimeField()
    voided = models.BooleanField(default=False)
    authority_client = models.ForeignKey(LRSClient, null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="statements")  # fmt: skip
    actor_ifi = models.TextField()
    actor_key = models.CharField(max_length=64)
    verb_id = models.TextField()
    verb_key = models.CharField(max_length=64)
    object_type = models.CharField(max_length=16)
    object_activity_key = models.CharField(max_length=64, blank=True, default="")
    object_agent_key = models.CharField(max_length=64, blank=True, default="")
    object_statement_id = models.UUIDField(null=True, blank=True, db_index=True)  # StatementRef target
    registration = models.UUIDField(null=True, blank=True)
    is_voiding = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["stored", "id"], name="xapi_stmt_stored"),
            models.Index(fields=["actor_key", "stored"], name="xapi_stmt_actor"),
            models.Index(fields=["verb_key", "stored"], name="xapi_stmt_verb"),
            models.Index(fields=["object_activity_key", "stored"], name="xapi_stmt_activity"),
            models.Index(fields=["object_agent_key", "stored"], name="xapi_stmt_object_agent"),
            models.Index(fields=["registration", "stored"], name="xapi_stmt_registration"),
        ]

    def __str__(self):
        return str(self.statement_id)


class StatementAgent(models.Model):
    """An agent a statement mentions. ``direct``: the actor or the object (or a member of either
    group), what the ``agent`` filter matches; the others (authority, instructor, team,
    SubStatement parts) match only with ``related_agents``."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="agents")
    agent_key = models.CharField(max_length=64)
    direct = models.BooleanField()

    class Meta:
        indexes = [models.Index(fields=["agent_key", "direct"], name="xapi_stmt_agent_key")]

    def __str__(self):
        return self.agent_key


class StatementActivity(models.Model):
    """An activity a statement mentions. ``direct``: the object; the others (context activities,
    SubStatement object and context) match only with ``related_activities``."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="activities")
    activity_key = models.CharField(max_length=64)
    direct = models.BooleanField()

    class Meta:
        indexes = [models.Index(fields=["activity_key", "direct"], name="xapi_stmt_activity_key")]

    def __str__(self):
        return self.activity_key


class StatementAttachment(models.Model):
    """Raw attachment data, stored once per SHA-2 and referenced from statements by it."""

    sha2 = models.CharField(max_length=128, unique=True)
    content_type = models.CharField(max_length=255)
    length = models.BigIntegerField()
    content = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.sha2


class Activity(models.Model):
    """The canonical definition of an activity, merged from the statements that define it."""

    key = models.CharField(max_length=64, unique=True)
    activity_id = models.TextField()
    definition = models.JSONField(default=dict)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "activities"

    def __str__(self):
        return self.activity_id


class Document(models.Model):
    content = models.BinaryField()
    content_type = models.CharField(max_length=255)
    etag = models.CharField(max_length=40)  # SHA-1 of the content, as Part Three 3.1 says
    updated = models.DateTimeField()

    class Meta:
        abstract = True


class StateDocument(Document):
    activity_id = models.TextField()
    activity_key = models.CharField(max_length=64)
    agent = models.JSONField()
    agent_key = models.CharField(max_length=64)
    registration = models.CharField(max_length=36, blank=True, default="")  # "" when none
    state_id = models.TextField()
    doc_key = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["activity_key", "agent_key", "registration", "doc_key"],
                                    name="xapi_state_unique"),  # fmt: skip
        ]

    def __str__(self):
        return self.state_id


class ActivityProfileDocument(Document):
    activity_id = models.TextField()
    activity_key = models.CharField(max_length=64)
    profile_id = models.TextField()
    doc_key = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["activity_key", "doc_key"], name="xapi_activity_profile_unique"),
        ]

    def __str__(self):
        return self.profile_id


class AgentProfileDocument(Document):
    agent = models.JSONField()
    agent_key = models.CharField(max_length=64)
    profile_id = models.TextField()
    doc_key = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agent_key", "doc_key"], name="xapi_agent_profile_unique"),
        ]

    def __str__(self):
        return self.profile_id


class Cmi5Session(models.Model):
    """One AU session of a cmi5 registration (cmi5 "Quartz" §8, §9.3), opened by the LMS at
    each launch (``xapi.cmi5.open_session``) or for a waiver.

    ``fetch_key`` is the one-time part of the fetch URL; the first POST to it creates the
    Basic credential of the session (``token_key`` and the SHA-256 of its secret) and sets
    ``fetched_at``; it never answers a token again. The session rules (initialized first,
    terminated last, passed/failed/completed by the launch mode and the mastery score…) are
    checked against this row, locked, before statements are stored; ``verbs`` lists the
    cmi5 defined verbs recorded in the session."""

    session_id = models.UUIDField(unique=True)
    registration = models.UUIDField(db_index=True)
    activity_id = models.TextField()  # the LMS-generated AU activity id
    activity_key = models.CharField(max_length=64)
    publisher_id = models.TextField()  # the AU id of the course structure
    actor = models.JSONField()
    actor_key = models.CharField(max_length=64)
    launch_mode = models.CharField(max_length=8, default="Normal")
    move_on = models.CharField(max_length=20, default="NotApplicable")
    mastery_score = models.FloatField(null=True, blank=True)
    fetch_key = models.CharField(max_length=64, unique=True)
    token_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    token_hash = models.CharField(max_length=64, blank=True, default="")
    waiver = models.BooleanField(default=False)
    verbs = models.JSONField(default=list, blank=True)
    launched_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    fetched_at = models.DateTimeField(null=True, blank=True)
    initialized_at = models.DateTimeField(null=True, blank=True)
    terminated_at = models.DateTimeField(null=True, blank=True)
    abandoned_at = models.DateTimeField(null=True, blank=True)
    last_statement_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("session cmi5")
        verbose_name_plural = _("sessions cmi5")
        indexes = [
            models.Index(fields=["registration", "launched_at"], name="xapi_cmi5_session_reg"),
            # the periodic close of expired sessions (xapi.cmi5.abandon_expired_sessions) reads the open ones only
            models.Index(
                fields=["expires_at"], name="xapi_cmi5_session_open",
                condition=models.Q(waiver=False, terminated_at=None, abandoned_at=None),
            ),
        ]  # fmt: skip

    def __str__(self):
        return str(self.session_id)

    @property
    def is_open(self):
        return not (self.waiver or self.terminated_at or self.abandoned_at)
