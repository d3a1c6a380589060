"""Wagtail's default moderation workflow and its task are created with the English name
"Moderators approval" (wagtailcore 0048), shown as is in the French admin: give them a
French name. Names changed by the site's administrators are left alone."""

from django.db import migrations

ENGLISH = "Moderators approval"
FRENCH = "Validation par les modérateurs"


def rename(apps, schema_editor, old=ENGLISH, new=FRENCH):
    for model in ("Workflow", "Task"):
        apps.get_model("wagtailcore", model).objects.filter(name=old).update(name=new)


def rename_back(apps, schema_editor):
    rename(apps, schema_editor, old=FRENCH, new=ENGLISH)


class Migration(migrations.Migration):
    dependencies = [("cms", "0006_reminderlog"), ("wagtailcore", "0048_add_default_workflows")]
    operations = [migrations.RunPython(rename, rename_back)]
