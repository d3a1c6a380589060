"""The state of an opening's recruitment leaves the page's revisioned fields.

``JobOpeningPage.state`` was a page field: Wagtail copies every page field into each
revision, so publishing a revision saved before the opening was closed (or any later
``save_revision().publish()`` of a page object read before the closing) wrote "open" back.
The state now lives in ``OpeningStatus`` (one row per closed opening: state, when, by whom,
why), written only by ``recruitment.actions.CloseOpening``; no row means open.

Data: each opening whose state is not "open" gets its row, dated by the latest cancellation
its closing wrote (else the migration's time), without author or reason (unknown). Reversing
puts the states back on the pages.

The functions are frozen here (not imported from the app) so that the migration keeps its
meaning when the app changes.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Max
from django.utils import timezone


def move_states_to_rows(apps, schema_editor):
    JobOpeningPage = apps.get_model("recruitment", "JobOpeningPage")
    OpeningStatus = apps.get_model("recruitment", "OpeningStatus")
    ApplicationEvent = apps.get_model("recruitment", "ApplicationEvent")
    now = timezone.now()
    rows = []
    for opening_id, state in JobOpeningPage.objects.exclude(state="open").values_list("pk", "state").iterator():
        closed_at = ApplicationEvent.objects.filter(
            application__opening_id=opening_id, kind="move", to_status="cancelled"
        ).aggregate(at=Max("at"))["at"]
        rows.append(OpeningStatus(opening_id=opening_id, state=state, closed_at=closed_at or now))
    OpeningStatus.objects.bulk_create(rows, batch_size=500)
    if schema_editor.connection.vendor == "postgresql":
        # The rows' deferred foreign key checks run now, before the page table is altered.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def move_rows_to_states(apps, schema_editor):
    JobOpeningPage = apps.get_model("recruitment", "JobOpeningPage")
    OpeningStatus = apps.get_model("recruitment", "OpeningStatus")
    for opening_id, state in OpeningStatus.objects.values_list("opening_id", "state").iterator():
        JobOpeningPage.objects.filter(pk=opening_id).update(state=state)


class Migration(migrations.Migration):

    dependencies = [
        ("recruitment", "0003_placeholder_messages"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="OpeningStatus",
            fields=[
                (
                    "opening",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="recruitment_status",
                        serialize=False,
                        to="recruitment.jobopeningpage",
                        verbose_name="offre d'emploi",
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[("open", "Ouverte"), ("filled", "Pourvue"), ("cancelled", "Annulée")],
                        default="open",
                        max_length=20,
                        verbose_name="état du recrutement",
                    ),
                ),
                ("closed_at", models.DateTimeField(blank=True, null=True, verbose_name="clos le")),
                ("reason", models.TextField(blank=True, verbose_name="motif")),
                (
                    "closed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="clos par",
                    ),
                ),
            ],
            options={
                "verbose_name": "état du recrutement",
                "verbose_name_plural": "états des recrutements",
            },
        ),
        migrations.RunPython(move_states_to_rows, move_rows_to_states),
        migrations.RemoveField(model_name="jobopeningpage", name="state"),
    ]
