"""PostgreSQL's ``unaccent`` extension, for the accent-insensitive search of the HR list of
appraisals (``cms.text.Unaccent``). A trusted extension since PostgreSQL 13: the owner of the
database may create it. SQLite gets a Python ``unaccent`` on each connection instead
(``cms.text.register_sqlite_unaccent``): nothing to do there."""

from django.db import migrations


def create_extension(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")


class Migration(migrations.Migration):
    dependencies = [("appraisal", "0005_reminders_to_cms")]

    operations = [migrations.RunPython(create_extension, migrations.RunPython.noop, elidable=False)]
