"""The learning reminder log moves to cms.ReminderLog: the rows are copied with their kind
namespaced ("overdue" → "learning.overdue"), their recipient, their enrolment as
``object_id`` and their sending time, in one statement, then the learning table is dropped."""

from django.db import migrations

NAMESPACE = "learning."


def _tables(apps, schema_editor):
    quote = schema_editor.connection.ops.quote_name
    old = quote(apps.get_model("learning", "ReminderLog")._meta.db_table)
    new = quote(apps.get_model("cms", "ReminderLog")._meta.db_table)
    enrollments = quote(apps.get_model("learning", "Enrollment")._meta.db_table)
    return quote, old, new, enrollments


def copy_to_cms(apps, schema_editor):
    quote, old, new, _enrollments = _tables(apps, schema_editor)
    kind, key, user, obj, enrollment, sent_at = (
        quote(c) for c in ("kind", "key", "user_id", "object_id", "enrollment_id", "sent_at")
    )
    schema_editor.execute(
        f"INSERT INTO {new} ({kind}, {key}, {user}, {obj}, {sent_at}) "
        f"SELECT %s || {kind}, {key}, {user}, {enrollment}, {sent_at} FROM {old}",
        [NAMESPACE],
    )


def copy_back(apps, schema_editor):
    quote, old, new, enrollments = _tables(apps, schema_editor)
    kind, key, user, obj, enrollment, sent_at, pk = (
        quote(c) for c in ("kind", "key", "user_id", "object_id", "enrollment_id", "sent_at", "id")
    )
    start = len(NAMESPACE) + 1
    schema_editor.execute(
        f"INSERT INTO {old} ({kind}, {key}, {user}, {enrollment}, {sent_at}) "
        f"SELECT substr({kind}, {start}), {key}, {user}, "
        f"CASE WHEN {obj} IN (SELECT {pk} FROM {enrollments}) THEN {obj} END, {sent_at} "
        f"FROM {new} WHERE {kind} LIKE %s AND {user} IS NOT NULL",
        [NAMESPACE + "%"],
    )
    schema_editor.execute(f"DELETE FROM {new} WHERE {kind} LIKE %s", [NAMESPACE + "%"])


class Migration(migrations.Migration):
    dependencies = [
        ("learning", "0003_enrollment_events"),
        ("cms", "0006_reminderlog"),
    ]

    operations = [
        migrations.RunPython(copy_to_cms, copy_back),
        migrations.DeleteModel(name="ReminderLog"),
    ]
