"""ReminderLog: the one log of the reminders sent by every app (cms.reminders); the apps'
own logs are copied into it by appraisal 0005 and learning 0004."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0005_migrate_drf_tokens"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ReminderLog",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=50, verbose_name="type")),
                ("key", models.CharField(max_length=150, verbose_name="clé")),
                ("object_id", models.BigIntegerField(blank=True, null=True, verbose_name="objet")),
                ("sent_at", models.DateTimeField(auto_now_add=True, verbose_name="envoyé le")),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="destinataire",
                    ),
                ),
            ],
            options={
                "verbose_name": "relance",
                "indexes": [models.Index(fields=["kind", "object_id"], name="cms_reminder_object")],
                "constraints": [models.UniqueConstraint(fields=("kind", "key"), name="cms_reminder_once")],
            },
        ),
    ]
