"""The actions layer: the one way to change the state of a workflow's record.

In the style of Wagtail's ``wagtail/actions/`` and django-oscar's order pipeline:

- the allowed transitions of a workflow are declared as data, in a ``TransitionTable``
  (from-states, to-state, actors, whether a reason is required);
- each operation is a ``BaseAction`` subclass: its parameters are validated by a Django
  form (``Params``), ``check(user)`` refuses with a sentence (``PermissionDenied`` for the
  wrong actor, ``Conflict`` for the wrong moment, ``ValidationError`` naming the field),
  and ``execute()`` runs in one transaction: it locks the row, checks again on the locked
  row, applies the change, sets the state the table declares, writes the audit row in the
  same transaction and dispatches events and notifications after commit only;
- ``log=False`` skips the audit row and ``notify=False`` the notifications (the demo
  seeder builds history without sending mail), without touching ``on_commit`` callbacks.

Views, the API, the admin, tasks and the demo all instantiate the action and call
``execute()``; labels, "done" messages, API parameters and web forms derive from the class.
"""

from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from cms.exceptions import Conflict

#: Sent after the transaction of an executed action commits (never for a rolled-back one).
#: ``sender`` is the action class; ``action`` the executed instance (``action.obj`` is the
#: record, ``action.from_state``/``action.to_state`` the states before and after).
action_executed = Signal()


@dataclass(frozen=True)
class Transition:
    """One declared transition: ``name`` may be taken from any of ``sources`` by one of
    ``actors``; the state becomes ``target`` (``None``: the state does not change, e.g. a
    delegation or a revision overlay); ``reason_required`` makes the reason mandatory."""

    name: str
    sources: frozenset
    target: str | None
    actors: frozenset = field(default_factory=frozenset)
    reason_required: bool = False
    # an optional second state field the transition requires (e.g. the revision overlay)
    requires: frozenset = field(default_factory=frozenset)

    def __post_init__(self):
        object.__setattr__(self, "sources", frozenset(self.sources))
        object.__setattr__(self, "actors", frozenset(self.actors))
        object.__setattr__(self, "requires", frozenset(self.requires))

    def applies_to(self, state, sub_state=None):
        return state in self.sources and (not self.requires or sub_state in self.requires)


class TransitionTable:
    """The transitions of one workflow, declared as data.

    ``states`` is the ``TextChoices`` of the state field; every source and target must be
    one of its values (checked at import). Several transitions may share a name when the
    rule differs by source (e.g. "reopen" from each terminal state).
    """

    def __init__(self, states, transitions):
        self.states = states
        self.transitions = tuple(transitions)
        values = set(states.values)
        for t in self.transitions:
            unknown = (set(t.sources) | ({t.target} if t.target is not None else set())) - values
            if unknown:
                raise ValueError(f"transition {t.name!r} names unknown states: {sorted(unknown)}")

    def __iter__(self):
        return iter(self.transitions)

    @property
    def names(self):
        return list(dict.fromkeys(t.name for t in self.transitions))

    def named(self, name):
        found = [t for t in self.transitions if t.name == name]
        if not found:
            raise KeyError(name)
        return found

    def __getitem__(self, name):
        """The transition called ``name`` (the first one when several share the name)."""
        return self.named(name)[0]

    def find(self, name, state, sub_state=None):
        """The transition ``name`` that applies from ``state``, or None."""
        return next((t for t in self.transitions if t.name == name and t.applies_to(state, sub_state)), None)

    def between(self, source, target):
        """The transition that leads from ``source`` to ``target``, or None."""
        return next((t for t in self.transitions if source in t.sources and t.target == target), None)

    def targets(self, source):
        """The states reachable in one transition from ``source`` (in declaration order)."""
        return list(dict.fromkeys(t.target for t in self.transitions if source in t.sources and t.target is not None))

    def sources_of(self, name):
        return frozenset().union(*(t.sources for t in self.named(name)))

    def available(self, state, roles=None, sub_state=None):
        """Names of the transitions that may be taken from ``state`` by someone holding ``roles``."""
        return list(
            dict.fromkeys(
                t.name
                for t in self.transitions
                if t.applies_to(state, sub_state) and (roles is None or not t.actors or set(roles) & t.actors)
            )
        )


class BaseAction:
    """One operation on one record. Subclasses declare:

    - ``name``, ``label`` (a button), ``done_message`` (after success), ``model`` (the
      locked row's model), ``table`` (their workflow's ``TransitionTable``; the transition
      named ``transition`` or ``name`` is read from it), ``state_field``;
    - ``Params``: a ``forms.Form`` validating the parameters (``self.params`` afterwards);
    - ``roles()``: the actor roles ``self.user`` holds on ``self.obj`` (matched against the
      transition's ``actors``; ``None`` as the user means the system, e.g. a daily task);
    - ``guard()``: the checks of the moment (raise ``Conflict`` or ``ValidationError``);
    - ``apply()``: the change itself (the state is set by ``execute`` from the table);
    - ``audit()``: the audit row; ``notifications()``: callables run after commit.
    """

    name = ""
    label = ""
    done_message = ""
    model = None
    table = None
    transition = None  # defaults to ``name``
    state_field = "state"
    sub_state_field = None  # the field matched against ``Transition.requires``
    select_related = ()
    Params = None
    system_allowed = False  # may run with user=None (tasks)
    denied_message = ""

    def __init__(self, target, *, user=None, params=None, now=None, log=True, notify=True):
        self.pk = getattr(target, "pk", target)
        self.obj = target if hasattr(target, "pk") else None
        self.user = user
        self.raw_params = dict(params or {})
        self.params = None
        self.now = now or timezone.now()
        self.log = log
        self.notify = notify
        self.from_state = self.to_state = None
        self.note = ""
        self.audit_row = None

    # --- declared data --------------------------------------------------------------------

    @classmethod
    def transition_name(cls):
        return cls.transition or cls.name

    def declared(self):
        """The transition that applies to the record's current state, or None. Override it
        when the outcome depends on a parameter (e.g. a revision accepted or rejected is
        declared as two transitions): ``self.params`` is validated by then."""
        if self.table is None:
            return None
        sub_state = getattr(self.obj, self.sub_state_field) if self.sub_state_field else None
        return self.table.find(self.transition_name(), getattr(self.obj, self.state_field), sub_state)

    # --- hooks ----------------------------------------------------------------------------

    def roles(self):
        return set()

    def guard(self):
        """Checks of the moment, on the locked row; raise Conflict or ValidationError."""

    def apply(self):
        raise NotImplementedError

    def audit(self):
        """Write the audit row (only called when ``log``); may use self.from_state/to_state/note."""

    def notifications(self):
        """Callables run after commit when ``notify`` is true."""
        return ()

    def refused(self, state):
        return _("Action « %(action)s » impossible : l'état actuel est « %(state)s ».") % {
            "action": self.label or self.name,
            "state": self._state_label(state),
        }

    def refused_sub_state(self, sub_state):
        return _("Action « %(action)s » impossible à ce stade (%(state)s).") % {
            "action": self.label or self.name,
            "state": sub_state or _("aucun"),
        }

    def _state_label(self, value):
        if self.table is None:
            return value
        try:
            return self.table.states(value).label
        except ValueError:
            return value

    # --- the protocol ---------------------------------------------------------------------

    def clean_params(self):
        """Validate the parameters with ``Params``; a ValidationError names each field."""
        if self.params is not None:
            return self.params
        if self.Params is None:
            self.params = dict(self.raw_params)
            return self.params
        form = self.Params(data=self.raw_params)
        if not form.is_valid():
            raise ValidationError({name: [str(e) for e in errs] for name, errs in form.errors.items()})
        self.params = form.cleaned_data
        return self.params

    def check_permission(self):
        if self.user is None:
            if self.system_allowed:
                return
            raise PermissionDenied(self.denied_message or _("Action réservée."))
        declared_actors = None
        if self.table is not None:
            declared_actors = set().union(*(t.actors for t in self.table.named(self.transition_name())))
        mine = self.roles()
        if declared_actors and not (mine & declared_actors):
            raise PermissionDenied(self.denied_message or _("Vous n'êtes pas autorisé à effectuer cette action."))

    def check_state(self):
        if self.table is None:
            return
        transition = self.declared()
        if transition is None:
            raise Conflict(self.refused(getattr(self.obj, self.state_field)))
        if transition.actors and self.user is not None and not (self.roles() & transition.actors):
            raise PermissionDenied(self.denied_message or _("Vous n'êtes pas autorisé à effectuer cette action."))
        if transition.reason_required and not (self.params or {}).get("reason", "").strip():
            raise ValidationError({"reason": _("Le motif est obligatoire.")})

    def check(self, user=None, *, params=True):
        """Permission, state and guards; each refusal is an exception carrying a sentence.
        ``check(user)`` checks for another user (e.g. to show or hide a button)."""
        if user is not None:
            self.user = user
        if self.obj is None:
            self.obj = self.get_queryset().get(pk=self.pk)
        self.check_permission()
        self.check_moment()
        if params:
            self.clean_params()
        self.check_state()
        self.guard()

    def check_moment(self):
        """Whether any transition of this action's name leaves the current state: checked
        before the parameters, so a request at the wrong moment answers with the sentence
        that says why (409) whatever its body. Actions whose transition depends on a
        parameter (a move to a status) check in ``check_state`` instead."""
        if self.table is None or self.transition_name() not in self.table.names:
            return
        state = getattr(self.obj, self.state_field)
        sub_state = getattr(self.obj, self.sub_state_field) if self.sub_state_field else None
        transitions = self.table.named(self.transition_name())
        if not any(state in t.sources for t in transitions):
            raise Conflict(self.refused(state))
        if not any(t.applies_to(state, sub_state) for t in transitions):
            raise Conflict(self.refused_sub_state(sub_state))

    def is_allowed(self, user=None):
        """Whether permission and state allow the action now (parameters are not checked)."""
        if user is not None:
            self.user = user
        try:
            if self.obj is None:
                self.obj = self.get_queryset().get(pk=self.pk)
            self.check_permission()
        except (PermissionDenied, ObjectDoesNotExist):
            return False
        if self.table is None:
            return True
        transition = self.declared()
        if transition is None:
            return False
        return not (transition.actors and self.user is not None and not self.roles() & transition.actors)

    def get_queryset(self):
        return self.model._default_manager.select_related(*self.select_related)

    def lock(self):
        """The record, locked for the transaction (``SELECT … FOR UPDATE`` on PostgreSQL)."""
        return self.get_queryset().select_for_update(of=("self",)).get(pk=self.pk)

    def save(self):
        self.obj.save()

    def execute(self):
        """Lock, check, apply, set the declared state, audit; events after commit."""
        with transaction.atomic():
            self.obj = self.lock()
            self.check()
            self.from_state = getattr(self.obj, self.state_field, None)
            transition = self.declared()
            self.apply()
            if transition is not None and transition.target is not None:
                setattr(self.obj, self.state_field, transition.target)
            self.to_state = getattr(self.obj, self.state_field, None)
            self.save()
            if self.log:
                self.audit_row = self.audit()
            if self.notify:
                for callback in self.notifications():
                    transaction.on_commit(callback)
            transaction.on_commit(lambda: action_executed.send(sender=type(self), action=self))
        return self.obj


def params_form(fields):
    """A ``forms.Form`` class from a dict of fields (for short ``Params`` declarations)."""
    return type("Params", (forms.Form,), dict(fields))
