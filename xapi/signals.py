"""Hooks for what reacts to learning records (cmi5 session rules, enrolment updates).

``statements_stored`` is sent once the transaction that stored the statements has committed,
with ``statement_ids`` (the ids, as strings, in the order they were sent) and ``client`` (the
``LRSClient`` or ``None`` for Parcours itself)."""

from django.dispatch import Signal

statements_stored = Signal()
