"""Ending a user's sessions and API tokens at once (deactivation, SCIM ``active=false``).

Sessions live in the database (``django.contrib.sessions``, the default engine); a session's
owner is inside its encoded data, so ``UserSession`` keeps the (user, session key) pairs,
filled on ``user_logged_in`` and emptied on ``user_logged_out``
(``identity.apps.IdentityConfig.ready``).

Even without these functions, a deactivated account's session no longer authenticates:
Django's ``ModelBackend.get_user`` refuses an inactive user at each request. Revoking deletes
the rows so that nothing is left to reactivate with the account.
"""

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import models, router, transaction

from identity.models import UserSession


def _user_ids(users):
    """User ids as a subquery (from a queryset of User, or of a model with a ``user`` field
    such as ``Agent``) or a list (from Users or ids)."""
    if isinstance(users, models.QuerySet):
        if users.model is get_user_model():
            return users.values("pk")
        return users.values("user_id")
    return [getattr(user, "pk", user) for user in users]


def revoke_sessions(users):
    """End every tracked session of ``users`` (a queryset of User, or an iterable of User or
    user ids): their ``django.contrib.sessions`` rows and the tracking rows are deleted in
    two queries, whatever the number of users or sessions. Returns the number of sessions
    ended."""
    ids = _user_ids(users)
    tracked = UserSession.objects.filter(user_id__in=ids)
    with transaction.atomic(using=router.db_for_write(UserSession)):
        ended, _ = Session.objects.filter(session_key__in=tracked.values("session_key")).delete()
        tracked.delete()
    return ended


def revoke_api_tokens(users):
    """Delete every API token (django-rest-knox ``AuthToken``, with its ``cms.ApiToken``
    label) of ``users``, in two queries. Returns the number of tokens deleted."""
    from knox.models import get_token_model

    from cms.models import ApiToken

    ids = _user_ids(users)
    token_model = get_token_model()
    with transaction.atomic(using=router.db_for_write(token_model)):
        ApiToken.objects.filter(token__user_id__in=ids)._raw_delete(router.db_for_write(ApiToken))
        # Labels are gone: no cascade is left, so one DELETE (the collector would fetch the
        # tokens and delete them by chunks of primary keys).
        return token_model.objects.filter(user_id__in=ids)._raw_delete(router.db_for_write(token_model)) or 0


def revoke_credentials(users):
    """End every session and delete every API token of ``users`` (see ``revoke_sessions``
    and ``revoke_api_tokens``), in one transaction and a constant number of queries.
    Returns ``{"sessions": n, "tokens": m}``. Call it when accounts are deactivated; the
    deactivation itself (``is_active``, ``Agent.active``) belongs to the caller."""
    with transaction.atomic():
        sessions = revoke_sessions(users)
        tokens = revoke_api_tokens(users)
    return {"sessions": sessions, "tokens": tokens}


def track_session(sender, request, user, **kwargs):
    """``user_logged_in``: remember the session's key for ``revoke_sessions``; forget this
    user's entries whose sessions no longer exist (expired, cycled)."""
    session = getattr(request, "session", None) if request is not None else None
    if session is None or not hasattr(session, "session_key"):
        return
    if session.session_key is None:
        session.save()
    UserSession.objects.filter(user=user).exclude(session_key__in=Session.objects.values("session_key")).delete()
    UserSession.objects.update_or_create(session_key=session.session_key, defaults={"user": user})


def untrack_session(sender, request, user, **kwargs):
    """``user_logged_out``: the session is flushed; forget its key."""
    session = getattr(request, "session", None) if request is not None else None
    key = getattr(session, "session_key", None)
    if key:
        UserSession.objects.filter(session_key=key).delete()
