"""Background tasks of the appraisal app."""

from django_tasks import task


@task()
def launch_campaign(campaign_id, actor_id=None):
    from django.contrib.auth import get_user_model

    from appraisal import services

    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None

    def progress(done, total):
        from appraisal.models import Campaign

        Campaign.objects.filter(pk=campaign_id).update(launch_progress=round(done / total, 4) if total else 1.0)

    return services.launch_campaign(campaign_id=campaign_id, actor=actor, progress=progress).launch_report


@task()
def archive_appraisal(appraisal_id):
    """At ``final``: archive the PDF and turn linked training needs into enrolments."""
    from appraisal import pdf, services

    pdf.archive(appraisal_id)
    return services.training_needs_to_enrollments(appraisal_id=appraisal_id)


@task()
def daily():
    """Implicit rejections of unanswered revision requests, HR told of leavers' open appraisals
    that no import listener saw, then reminders."""
    from appraisal import actions, leavers, reminders

    actions.expire_revision_requests()
    leavers.notify_pending()
    return reminders.send_all()


@task(takes_context=True)
def export_zip_task(context, *, campaign_id, org_unit_code, requested_by_id):
    """ZIP of the final reports of an org unit subtree: cuts the export in chunks and
    enqueues one ``export_zip_chunk`` task per chunk (rendered in parallel by the workers);
    the last chunk enqueues ``export_zip_assemble``. Returns the export's storage name.

    The task result id names the export: its progress is in ``pdf.export_status(id)``."""
    from appraisal import pdf

    return pdf.export_zip(
        campaign_id=campaign_id,
        org_unit_code=org_unit_code,
        requested_by_id=requested_by_id,
        export_id=context.task_result.id,
        parallel=True,
    )


@task()
def export_zip_chunk(*, export_id, index, ids):
    """One chunk of an export: its reports rendered (or read from their archive) into a part ZIP."""
    from appraisal import pdf

    return pdf.export_chunk(export_id=export_id, index=index, ids=ids)


@task()
def export_zip_assemble(*, export_id):
    """The final step of an export: the part ZIPs assembled into one file."""
    from appraisal import pdf

    return pdf.assemble_export(export_id)
