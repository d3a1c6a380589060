"""The appraisal reminder log moves to cms.ReminderLog: the rows are copied with their kind
namespaced ("convoke" → "appraisal.convoke") and their sending time, in one statement, then
the appraisal table is dropped."""

from django.db import migrations

NAMESPACE = "appraisal."


def _tables(apps, schema_editor):
    quote = schema_editor.connection.ops.quote_name
    old = quote(apps.get_model("appraisal", "ReminderLog")._meta.db_table)
    new = quote(apps.get_model("cms", "ReminderLog")._meta.db_table)
    return quote, old, new


def copy_to_cms(apps, schema_editor):
    quote, old, new = _tables(apps, schema_editor)
    kind, key, sent_at = quote("kind"), quote("key"), quote("sent_at")
    schema_editor.execute(
        f"INSERT INTO {new} ({kind}, {key}, {sent_at}) SELECT %s || {kind}, {key}, {sent_at} FROM {old}",
        [NAMESPACE],
    )


def copy_back(apps, schema_editor):
    quote, old, new = _tables(apps, schema_editor)
    kind, key, sent_at = quote("kind"), quote("key"), quote("sent_at")
    start = len(NAMESPACE) + 1
    schema_editor.execute(
        f"INSERT INTO {old} ({kind}, {key}, {sent_at}) "
        f"SELECT substr({kind}, {start}), {key}, {sent_at} FROM {new} WHERE {kind} LIKE %s",
        [NAMESPACE + "%"],
    )
    schema_editor.execute(f"DELETE FROM {new} WHERE {kind} LIKE %s", [NAMESPACE + "%"])


class Migration(migrations.Migration):
    dependencies = [
        ("appraisal", "0004_repair_answers"),
        ("cms", "0006_reminderlog"),
    ]

    operations = [
        migrations.RunPython(copy_to_cms, copy_back),
        migrations.DeleteModel(name="ReminderLog"),
    ]
