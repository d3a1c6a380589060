"""Repair the stored content of the comptes rendus that the validator of
``appraisal/content.py`` would refuse today (data written before it existed, or behind the
application's back).

For each appraisal, ``appraisal.content.repair_all`` moves unknown section ids and invalid
section values under the ``_invalid`` key (the original values are kept, for HR) and keeps
what can be read of each section; it prints one line per change (``appraisal <id>: …``).
Signed versions (``AppraisalVersion``) are hashed: they are reported, never changed. Safe on
an empty database, and idempotent (a second run finds nothing to change). Nothing to undo.
"""

from django.db import migrations


def repair(apps, schema_editor):
    from appraisal.content import repair_all

    try:
        course_model = apps.get_model("learning", "CoursePage")
    except LookupError:  # learning not installed: course ids are only checked for their type
        course_model = None
    repair_all(
        apps.get_model("appraisal", "Appraisal"),
        version_model=apps.get_model("appraisal", "AppraisalVersion"),
        course_model=course_model,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("appraisal", "0003_transition_delegation_evaluators"),
        ("learning", "0001_initial"),
    ]

    operations = [migrations.RunPython(repair, migrations.RunPython.noop, elidable=True)]
