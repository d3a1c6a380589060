"""EnrollmentEvent: the history of an enrolment's status changes (written by learning/actions.py)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("learning", "0002_role_permissions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="EnrollmentEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField(verbose_name="date")),
                (
                    "from_status",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("not_started", "Non commencé"),
                            ("in_progress", "En cours"),
                            ("completed", "Terminé"),
                            ("failed", "Échoué"),
                            ("expired", "Expiré"),
                        ],
                        max_length=20,
                        verbose_name="statut précédent",
                    ),
                ),
                (
                    "to_status",
                    models.CharField(
                        choices=[
                            ("not_started", "Non commencé"),
                            ("in_progress", "En cours"),
                            ("completed", "Terminé"),
                            ("failed", "Échoué"),
                            ("expired", "Expiré"),
                        ],
                        max_length=20,
                        verbose_name="nouveau statut",
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("self", "Inscription volontaire"),
                            ("assignment", "Assignation"),
                            ("import", "Import des agents"),
                            ("appraisal", "Entretien professionnel"),
                            ("lesson", "Leçon"),
                            ("quiz", "Quiz"),
                            ("package", "Module SCORM"),
                            ("expiry", "Expiration"),
                            ("hr_grant", "Nouvelle inscription accordée"),
                        ],
                        max_length=20,
                        verbose_name="origine",
                    ),
                ),
                ("note", models.CharField(blank=True, max_length=255, verbose_name="note")),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="auteur",
                    ),
                ),
                (
                    "enrollment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="learning.enrollment",
                        verbose_name="inscription",
                    ),
                ),
            ],
            options={
                "verbose_name": "événement d'inscription",
                "verbose_name_plural": "événements d'inscription",
                "indexes": [models.Index(fields=["enrollment", "at"], name="enrollment_event_at_idx")],
            },
        ),
    ]
