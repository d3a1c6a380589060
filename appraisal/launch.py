"""Where a campaign's launch stands (read from the campaign and its task's result), for
the campaign page, the launch actions (appraisal/actions.py) and the admin."""

from datetime import timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_tasks.base import TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist, TaskResultMismatch
from wagtail.permissions import policy_registry

from appraisal.choices import CampaignStatus
from appraisal.models import Campaign

LAUNCH_ACTION = "appraisal.campaign.launch"
CLOSE_ACTION = "appraisal.campaign.close"  # actions.CloseCampaign
# A launch requested this long ago and still not started or finished is considered lost
# (worker stopped, queue flushed): HR may request it again.
STALE_LAUNCH_AFTER = timedelta(minutes=30)

# Launch states shown on the campaign page.
DRAFT, QUEUED, RUNNING, FAILED, STALE, DONE, CLOSED = "draft", "queued", "running", "failed", "stale", "done", "closed"
LAUNCHABLE = {DRAFT, FAILED, STALE, DONE}


def _task_result(task_id):
    """The django_tasks result of a launch when the backend keeps results, else None."""
    from appraisal import tasks

    if not task_id or not tasks.launch_campaign.get_backend().supports_get_result:
        return None
    try:
        return tasks.launch_campaign.get_result(task_id)
    except (TaskResultDoesNotExist, TaskResultMismatch, ValueError):
        return None


def launch_state(campaign, now=None):
    """Where the launch stands: draft, queued, running, failed, stale, done or closed."""
    if campaign.status == CampaignStatus.CLOSED:
        return CLOSED
    if campaign.status == CampaignStatus.RUNNING:
        return DONE
    if campaign.status == CampaignStatus.DRAFT:
        return DRAFT
    marker = campaign.launch_report or {}
    if marker.get("task_failed"):
        return FAILED
    result = _task_result(marker.get("task_id"))
    if result is not None:
        if result.status == TaskResultStatus.FAILED:
            return FAILED
        if result.status == TaskResultStatus.READY:
            return QUEUED
        if result.status == TaskResultStatus.RUNNING:
            return RUNNING
    requested = parse_datetime(marker.get("requested_at") or "")
    if requested is None or (now or timezone.now()) - requested > STALE_LAUNCH_AFTER:
        return STALE
    return RUNNING if campaign.launch_progress > 0 else QUEUED


def can_launch(user, campaign):
    return policy_registry.get_by_type(Campaign).user_has_permission(user, "change") and (
        launch_state(campaign) in LAUNCHABLE
    )




def enqueue(campaign_id, user_id, marker):
    """Enqueue the launch task (after the commit of the request: the worker must find the
    committed row) and note its id on the campaign while the task has not finished."""
    from appraisal import tasks

    result = tasks.launch_campaign.enqueue(campaign_id, user_id)
    failed = result.status == TaskResultStatus.FAILED  # immediate backend: the task already ran
    # Only while the task has not finished: its own report must never be overwritten.
    Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.LAUNCHING).update(
        launch_report={
            **marker,
            "task_id": result.id,
            "task_failed": failed,
            "error": result.errors[-1].exception_class_path if failed and result.errors else "",
        }
    )
