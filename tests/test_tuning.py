"""The Rasa speed-ups in channels/tuning.py keep Rasa's behaviour."""

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from channels import tuning
from channels.startup import prepare_process

prepare_process()  # installs the patch, as the server's start does


def test_action_results_are_validated_with_a_compiled_validator():
    assert RemoteAction._validate_action_result.__wrapped__ is not None
    action = RemoteAction("action_x", None)
    good = {"events": [{"event": "slot", "name": "a", "value": 1}], "responses": [{"text": "hi"}]}
    assert action._validate_action_result(good) is True
    with pytest.raises(ValidationError) as error:
        action._validate_action_result({"events": [{"no_event_key": 1}]})
    assert "Failed to validate Action server response" in error.value.message
    with pytest.raises(ValidationError):
        action._validate_action_result({"events": "not a list"})


def test_install_is_idempotent():
    patched = RemoteAction._validate_action_result
    tuning.install()
    assert RemoteAction._validate_action_result is patched


def test_event_classes_are_resolved_as_rasa_does():
    from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered

    assert Event.resolve_by_type("user") is UserUttered
    assert Event.resolve_by_type("slot") is SlotSet
    assert Event.resolve_by_type("action") is ActionExecuted
    assert Event.resolve_by_type("topic") is None  # Rasa's legacy answer
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such_event")
    # A whole tracker's events still round-trip.
    events = [UserUttered("你好", {"name": "greet", "confidence": 1.0}), ActionExecuted("utter_greet"), SlotSet("a", 1)]
    assert [Event.from_parameters(e.as_dict()) for e in events] == events
