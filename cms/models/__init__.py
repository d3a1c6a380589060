from .directory import Agent, OrgUnit
from .heartbeat import TaskHeartbeat
from .pages import ContentPage, HomePage

__all__ = ["Agent", "OrgUnit", "TaskHeartbeat", "ContentPage", "HomePage"]
