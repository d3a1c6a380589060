"""Background tasks of the learning app (django_tasks)."""

from django_tasks import task


@task()
def render_certificate(enrollment_id):
    """Render and store the certificate PDF of a completed enrolment."""
    from learning import certificates

    return certificates.ensure_certificate_file(enrollment_id).certificate_file.name or None


@task()
def apply_assignment(assignment_id):
    """Enrol the whole subtree of an assignment in bulk."""
    from learning import services
    from learning.models import Assignment

    return services.apply_assignment(assignment=Assignment.objects.select_related("org_unit").get(pk=assignment_id))  # an int


@task()
def expire_enrollments():
    from learning import services

    return services.expire_enrollments()


@task()
def send_reminders():
    """Hourly: expire what is due, then send the reminders not yet sent (idempotent)."""
    from learning import reminders, services

    services.expire_enrollments()
    return reminders.send_all()


@task()
def import_package_upload(import_uuid, new_course_title=None, publish=True):
    """Import a large package uploaded in the admin (a ``PackageImport`` row): progress as it
    extracts, then ``step`` or ``error`` and ``finished_at``; the uploaded zip is deleted.
    ``new_course_title``: the course to create when the row names no course nor step;
    ``publish``: whether the step the row updates is published with its package."""
    from learning.packages import importer

    return importer.run_upload(import_uuid, new_course_title=new_course_title, publish=publish)
