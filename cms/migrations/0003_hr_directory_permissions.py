"""HR manages the organisation directory in the Wagtail admin."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

HR_PERMISSIONS = [
    ("cms", "orgunit", ["add", "change", "view"]),
    ("cms", "agent", ["add", "change", "view"]),
]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("cms")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    hr = Group.objects.get(name="HR")
    for app_label, model, actions in HR_PERMISSIONS:
        for action in actions:
            hr.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, content_type__model=model, codename=f"{action}_{model}")
            )


class Migration(migrations.Migration):
    dependencies = [("cms", "0002_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
