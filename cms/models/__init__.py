from .directory import Agent, OrgUnit
from .heartbeat import TaskHeartbeat
from .pages import ContentPage, HomePage
from .reminders import ReminderLog
from .tokens import ApiToken

__all__ = ["Agent", "ApiToken", "OrgUnit", "ReminderLog", "TaskHeartbeat", "ContentPage", "HomePage"]
