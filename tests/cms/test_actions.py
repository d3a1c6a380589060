"""The actions layer itself (cms.actions), on an in-memory record: the order of the
protocol, the audit row and events inside/after the transaction, the log/notify flags."""

import pytest
from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction

from cms.actions import BaseAction, Transition, TransitionTable, action_executed
from cms.exceptions import Conflict


class Light(models.TextChoices):
    RED = "red", "Rouge"
    GREEN = "green", "Vert"
    AMBER = "amber", "Orange"


TABLE = TransitionTable(
    Light,
    [
        Transition("go", {Light.RED}, Light.GREEN, actors={"driver"}),
        Transition("slow", {Light.GREEN}, Light.AMBER, actors={"driver", "police"}),
        Transition("stop", {Light.AMBER, Light.GREEN}, Light.RED, actors={"police"}, reason_required=True),
        Transition("note", set(Light.values), None, actors={"police"}),
    ],
)


class Record:
    def __init__(self, state=Light.RED):
        self.pk = 1
        self.state = state
        self.saved = 0
        self.journal = []


class FakeAction(BaseAction):
    table = TABLE
    label = "Feu"

    class Params(forms.Form):
        reason = forms.CharField(required=False)

    def __init__(self, record, *, roles=(), **kwargs):
        super().__init__(record, **kwargs)
        self.record = record
        self.held = set(roles)
        self.sent = []

    def roles(self):
        return self.held

    def lock(self):
        return self.record

    def save(self):
        self.obj.saved += 1

    def apply(self):
        self.obj.journal.append(("apply", self.obj.state))

    def audit(self):
        self.obj.journal.append(("audit", self.from_state, self.to_state))
        return "row"

    def notifications(self):
        return [lambda: self.sent.append(self.name)]


USER = object()  # the fake's roles() answers for whoever acts


def action(name, record, *, user=USER, **kwargs):
    return type(name.title(), (FakeAction,), {"name": name})(record, user=user, **kwargs)


def test_the_table_refuses_unknown_states_at_declaration():
    with pytest.raises(ValueError, match="unknown"):
        TransitionTable(Light, [Transition("blink", {"blue"}, Light.RED)])


def test_the_table_answers_questions_about_itself():
    assert TABLE.names == ["go", "slow", "stop", "note"]
    assert TABLE.between(Light.RED, Light.GREEN).name == "go"
    assert TABLE.between(Light.RED, Light.AMBER) is None
    assert TABLE.targets(Light.GREEN) == [Light.AMBER, Light.RED]
    assert TABLE.sources_of("stop") == {Light.AMBER, Light.GREEN}
    assert TABLE.available(Light.GREEN, {"driver"}) == ["slow"]
    assert TABLE.available(Light.GREEN, {"police"}) == ["slow", "stop", "note"]
    assert TABLE.find("go", Light.GREEN) is None


@pytest.mark.django_db
def test_execute_applies_sets_the_declared_state_audits_and_notifies_after_commit(django_capture_on_commit_callbacks):
    record = Record()
    received = []

    def listener(sender, action, **kwargs):
        received.append((action.name, action.from_state, action.to_state))

    action_executed.connect(listener)
    try:
        go = action("go", record, roles={"driver"})
        with django_capture_on_commit_callbacks(execute=True):
            go.execute()
            assert record.state == Light.GREEN and record.saved == 1
            assert record.journal == [("apply", Light.RED), ("audit", Light.RED, Light.GREEN)]
            assert go.sent == [] and received == []  # nothing leaves before commit
        assert go.sent == ["go"]
        assert received == [("go", Light.RED, Light.GREEN)]
    finally:
        action_executed.disconnect(listener)


@pytest.mark.django_db
def test_nothing_is_dispatched_when_the_transaction_rolls_back(django_capture_on_commit_callbacks):
    record = Record()
    go = action("go", record, roles={"driver"})
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            go.execute()
            raise RuntimeError("later failure")
    assert callbacks == [] and go.sent == []


@pytest.mark.django_db
def test_log_and_notify_flags(django_capture_on_commit_callbacks):
    record = Record()
    go = action("go", record, roles={"driver"}, log=False, notify=False)
    with django_capture_on_commit_callbacks(execute=True):
        go.execute()
    assert record.state == Light.GREEN
    assert ("audit", Light.RED, Light.GREEN) not in record.journal and go.audit_row is None
    assert go.sent == []


@pytest.mark.django_db
def test_refusals_are_sentences_of_the_right_kind():
    with pytest.raises(PermissionDenied):
        action("go", Record(), roles={"police"}).execute()
    with pytest.raises(Conflict, match="Rouge"):
        action("slow", Record(Light.RED), roles={"driver"}).execute()
    with pytest.raises(ValidationError) as error:
        action("stop", Record(Light.GREEN), roles={"police"}).execute()
    assert "reason" in error.value.message_dict
    record = Record(Light.GREEN)
    action("stop", record, roles={"police"}, params={"reason": "Accident"}).execute()
    assert record.state == Light.RED


@pytest.mark.django_db
def test_a_transition_that_keeps_the_state_still_audits():
    record = Record(Light.AMBER)
    action("note", record, roles={"police"}).execute()
    assert record.state == Light.AMBER
    assert record.journal[-1] == ("audit", Light.AMBER, Light.AMBER)


def test_is_allowed_answers_for_buttons_without_raising():
    assert action("go", Record(), roles={"driver"}).is_allowed()
    assert not action("go", Record(), roles={"police"}).is_allowed()
    assert not action("slow", Record(), roles={"driver"}).is_allowed()


@pytest.mark.django_db
def test_the_system_runs_only_actions_that_allow_it():
    with pytest.raises(PermissionDenied):
        action("go", Record(), user=None).execute()
    system = type("Expire", (FakeAction,), {"name": "go", "system_allowed": True})(Record())
    system.execute()
    assert system.obj.state == Light.GREEN
