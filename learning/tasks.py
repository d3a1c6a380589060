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
