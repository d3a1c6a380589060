"""Wagtail admin: package attempts (list, reset by HR). Filled by the runtime work."""
