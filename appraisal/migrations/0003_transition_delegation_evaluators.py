"""Delegation rows of the transition log name the evaluator before and after."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("appraisal", "0002_roles_and_default_template"),
        ("cms", "0003_hr_directory_permissions"),
    ]

    operations = [
        migrations.AddField(
            model_name="appraisaltransition",
            name="from_evaluator",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="cms.agent",
                verbose_name="évaluateur précédent",
            ),
        ),
        migrations.AddField(
            model_name="appraisaltransition",
            name="to_evaluator",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="cms.agent",
                verbose_name="nouvel évaluateur",
            ),
        ),
    ]
