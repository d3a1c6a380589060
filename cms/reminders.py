"""Idempotent reminders by e-mail: one log (``cms.models.ReminderLog``) and one send loop
for every app.

An app collects its reminders (objects with ``kind``, ``key`` and ``message(connection)``,
optionally ``user_id`` and ``object_id``) and hands them to :func:`deliver` with its
namespace: the log row's kind is ``"<namespace>.<kind>"`` (``learning.overdue``,
``appraisal.visa``), so the apps' keys never collide.

Why a reminder cannot go out twice. For each batch, the keys are *claimed* in one
statement, ``INSERT INTO … ON CONFLICT (kind, key) DO NOTHING RETURNING kind, key``
(SQLite ≥ 3.35 and PostgreSQL; one savepoint per key elsewhere), and a message is sent only
for a key that this statement returned, i.e. that this run inserted. A key logged by an
earlier run is not returned; two concurrent runs cannot both insert the same key (on
PostgreSQL the second insert waits on the unique index for the first transaction, then
does nothing if it committed), so exactly one of them sends it. A message the mail server
refuses gives its key back (the row is deleted): the next run tries it again.

What a crash costs depends on ``at_most_once``:

- ``True`` (default): the claims are committed, then the messages sent. A process that
  dies between the two loses those few reminders rather than duplicating them.
- ``False``: the batch is claimed, sent and committed in one transaction. A crash between a
  message being accepted by the mail server and the commit un-logs it: it may be sent again
  on the next run (a rare duplicate rather than a lost reminder).

Query budget: one claim per batch, plus one delete per batch with a refused message.
"""

import logging

from django.core.mail import get_connection
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cms.models import ReminderLog

logger = logging.getLogger("parcours.reminders")

BATCH = 500


def log_kind(namespace, kind):
    """The kind as logged: ``learning.overdue``."""
    return f"{namespace}.{kind}"


def _row(namespace, reminder):
    return (
        log_kind(namespace, reminder.kind),
        reminder.key,
        getattr(reminder, "user_id", None),
        getattr(reminder, "object_id", None),
    )


def claim(namespace, reminders, now=None):
    """Log the reminders' keys; return the (kind, key) pairs (kinds as the app names them)
    that this call inserted. Run it inside a transaction."""
    if not reminders:
        return set()
    now = now or timezone.now()
    rows = [_row(namespace, r) for r in reminders]
    prefix = f"{namespace}."
    if connection.vendor in ("postgresql", "sqlite"):
        quote = connection.ops.quote_name
        table = quote(ReminderLog._meta.db_table)
        kind, key, user, obj, sent_at = (quote(c) for c in ("kind", "key", "user_id", "object_id", "sent_at"))
        at = ReminderLog._meta.get_field("sent_at").get_db_prep_value(now, connection)
        params = []
        for row in rows:
            params += [*row, at]
        values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({kind}, {key}, {user}, {obj}, {sent_at}) VALUES {values} "
                f"ON CONFLICT ({kind}, {key}) DO NOTHING RETURNING {kind}, {key}",
                params,
            )
            return {(k.removeprefix(prefix), v) for k, v in cursor.fetchall()}
    inserted = set()  # other databases: one savepoint per key, same guarantee
    for (kind, key, user_id, object_id), reminder in zip(rows, reminders, strict=True):
        try:
            with transaction.atomic():
                ReminderLog.objects.create(kind=kind, key=key, user_id=user_id, object_id=object_id, sent_at=now)
            inserted.add((reminder.kind, reminder.key))
        except IntegrityError:
            pass
    return inserted


def release(namespace, reminders):
    """Give the reminders' keys back (their message was not sent): the next run retries them."""
    if reminders:
        ReminderLog.objects.filter(
            kind__in={log_kind(namespace, r.kind) for r in reminders}, key__in=[r.key for r in reminders]
        ).delete()


def _send(namespace, batch, claimed, mail):
    sent, failed = [], []
    for reminder in batch:
        if (reminder.kind, reminder.key) not in claimed:
            continue  # logged by an earlier or a concurrent run
        try:
            ok = mail.send_messages([reminder.message(mail)])
        except Exception:
            logger.exception("Relance non envoyée : %s.%s", namespace, reminder.key)
            ok = 0
        (sent if ok else failed).append(reminder)
    release(namespace, failed)
    return sent, failed


def deliver(reminders, *, namespace, now=None, batch_size=BATCH, at_most_once=True):
    """Claim and send ``reminders`` over one mail connection, ``batch_size`` at a time;
    return (sent, failed). See the module docstring for ``at_most_once``."""
    sent, failed = [], []
    if not reminders:
        return sent, failed
    now = now or timezone.now()
    with get_connection() as mail:
        for start in range(0, len(reminders), batch_size):
            batch = reminders[start : start + batch_size]
            with transaction.atomic():
                claimed = claim(namespace, batch, now)
                if not at_most_once:
                    batch_sent, batch_failed = _send(namespace, batch, claimed, mail)
            if at_most_once:
                batch_sent, batch_failed = _send(namespace, batch, claimed, mail)
            sent += batch_sent
            failed += batch_failed
    return sent, failed


def counts(reminders, kinds):
    """The number of reminders of each kind (every kind of ``kinds`` present, 0 by default)."""
    result = dict.fromkeys(kinds, 0)
    for reminder in reminders:
        result[reminder.kind] += 1
    return result


def send_all(collect, kinds, *, namespace, now=None, dry_run=False, **options):
    """Send every reminder ``collect(now)`` returns. The count per kind, plus ``failed``.
    With ``dry_run`` nothing is sent nor written: the counts are what would be sent."""
    now = now or timezone.now()
    reminders = collect(now)
    if dry_run:
        return {**counts(reminders, kinds), "failed": 0}
    sent, failed = deliver(reminders, namespace=namespace, now=now, **options)
    return {**counts(sent, kinds), "failed": len(failed)}
