"""Background tasks of the LRS (django_tasks)."""

from django_tasks import task


@task()
def close_cmi5_sessions():
    """Hourly: ``abandoned`` for the cmi5 AU sessions left open past their lifetime (idempotent)."""
    from xapi import cmi5

    return cmi5.abandon_expired_sessions()
