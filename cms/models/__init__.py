from .directory import Agent, OrgUnit
from .heartbeat import TaskHeartbeat
from .pages import ContentPage, HomePage
from .tokens import ApiToken

__all__ = ["Agent", "ApiToken", "OrgUnit", "TaskHeartbeat", "ContentPage", "HomePage"]
