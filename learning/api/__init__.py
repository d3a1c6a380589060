"""Completion API of the learning app (``/api/v1/``, see docs/api.md)."""
