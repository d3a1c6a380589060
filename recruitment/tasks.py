"""Background tasks of the recruitment app (django_tasks)."""

from django_tasks import task


@task()
def purge_candidates_task():
    """Daily: apply the retention rules (see ``recruitment.gdpr.purge``). Schedule it once a
    day (or run ``manage.py purge_candidates`` from cron); returns the number of candidate
    records erased and their application references."""
    from recruitment import gdpr

    entries = gdpr.purge()
    return {"erased": len(entries), "references": [ref for entry in entries for ref in entry.references]}


@task()
def close_openings_past_deadline_task():
    """Daily: openings whose application deadline has passed are closed to applications
    (``recruitment.actions.CloseOpening`` without a user); returns their references."""
    from recruitment import actions

    return {"closed": actions.close_openings_past_deadline()}
