"""The Rasa speed-ups in channels/tuning.py keep Rasa's behaviour."""

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

import channels  # noqa: F401 - installs the patch, as Rasa's channel loading does
from channels import tuning


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
