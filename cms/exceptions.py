"""Exceptions shared by every app's services and actions.

- ``django.core.exceptions.ValidationError``: bad input, naming the field (API 400).
- ``django.core.exceptions.PermissionDenied``: wrong actor (API 403, or 404 where existence
  must not leak).
- ``Conflict``: a valid request that cannot apply now (wrong state, a deadline passed, a
  concurrent change won): API 409; its message is a sentence saying why.
"""


class Conflict(Exception):
    """Valid request, impossible in the current state (API: 409). The message says why."""
