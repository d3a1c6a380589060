"""Training editors and HR assign courses; service accounts get view_all_completions
explicitly (no group has it by default)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {"Training editors": ["add_assignment", "view_assignment"], "HR": ["add_assignment", "view_assignment"]}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("learning")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        Group.objects.get(name=name).permissions.add(
            *Permission.objects.filter(content_type__app_label="learning", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [("learning", "0001_initial"), ("cms", "0002_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
