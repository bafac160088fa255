"""RulePolicy's search for the rules that apply, on rules compiled once and indexed.

RulePolicy looks for the rules that apply by re-reading each of its rules (a JSON key: parsed
once, but reversed and its lists turned into tuples again) for every state of the conversation, two
or three times a turn; here each rule is compiled once, indexed by what its newest state requires,
and matched with the same decisions.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, List, Text


@functools.lru_cache(maxsize=4096)
def _compiled_rule(rule_key: Text) -> tuple:
    """A rule of RulePolicy's lookup, ready to be matched: its states newest first, each as
    (has a previous action, the (state type, key, value, "must not be set") checks that can fail).

    Rasa parses the key (cached), reverses the list and turns JSON lists back into tuples again for
    every rule, every turn index and every prediction; the key is an immutable string, so all of
    that is done once per key. A check whose value is empty and not SHOULD_NOT_BE_SET can never
    fail in Rasa's `_does_rule_match_state` and is left out."""
    import json

    from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET

    compiled = []
    for state in reversed(json.loads(rule_key)):
        checks = []
        for state_type, sub_state in state.items():
            for key, value in sub_state.items():
                if isinstance(value, list):
                    value = tuple(value)
                if value == SHOULD_NOT_BE_SET:
                    checks.append((state_type, key, value, True))
                elif value:
                    checks.append((state_type, key, value, False))
        compiled.append((bool(state.get(PREVIOUS_ACTION)), tuple(checks)))
    return tuple(compiled)


def rule_applies(compiled: tuple, newest_first: List[Dict[Text, Any]], has_previous: List[bool]) -> bool:
    """RulePolicy's `_is_rule_applicable` at every turn index of a conversation (its states newest
    first, and whether each has a previous action), on a compiled rule: the same decisions."""
    for index in range(min(len(compiled), len(newest_first))):
        rule_has_previous, checks = compiled[index]
        if not rule_has_previous and not has_previous[index]:
            continue  # both conversation starters
        if not rule_has_previous or not has_previous[index]:
            return False
        conversation = newest_first[index]
        for state_type, key, value, must_not_be_set in checks:
            actual = conversation.get(state_type, {}).get(key)
            if must_not_be_set:
                if actual and actual != value:  # value is SHOULD_NOT_BE_SET
                    return False
            elif actual != value:
                return False
    return True


class _RuleIndex:
    """A lookup's rules by what their newest state requires of the conversation's newest state:
    the previous action's name and the user's intent (None: not required). A rule that requires
    another previous action or another intent fails at its newest state in Rasa's search, so only
    the rules filed under the conversation's own (or under None) need to be matched at all."""

    def __init__(self, keys: tuple) -> None:
        from rasa.shared.core.constants import PREVIOUS_ACTION, USER
        from rasa.shared.nlu.constants import ACTION_NAME, INTENT

        self.keys = keys
        self._by: Dict[tuple, List[Text]] = {}
        for key in keys:
            compiled = _compiled_rule(key)
            # A rule whose newest state starts a conversation is matched without checks against a
            # conversation that starts too: it is filed under no requirement.
            checks = compiled[0][1] if compiled and compiled[0][0] else ()
            required = {(state_type, name): value for state_type, name, value, must_not_be_set in checks if not must_not_be_set}
            self._by.setdefault((required.get((PREVIOUS_ACTION, ACTION_NAME)), required.get((USER, INTENT))), []).append(key)
        self._where = ((PREVIOUS_ACTION, ACTION_NAME), (USER, INTENT))

    def candidates(self, newest: Dict[Text, Any]) -> List[Text]:
        (previous_type, action_name), (user_type, intent) = self._where
        action = newest.get(previous_type, {}).get(action_name)
        said = newest.get(user_type, {}).get(intent)
        found: List[Text] = []
        for filed_under in {(action, said), (action, None), (None, said), (None, None)}:
            found.extend(self._by.get(filed_under, ()))
        return found


_rule_indexes: Dict[int, _RuleIndex] = {}


def _rule_index(lookup: Dict[Text, Text]) -> _RuleIndex:
    """The index of `lookup`, rebuilt whenever its keys are not those it was built from (RulePolicy
    fills its lookups during training and predicts in between)."""
    keys = tuple(lookup)
    index = _rule_indexes.get(id(lookup))
    if index is None or index.keys != keys:
        if len(_rule_indexes) > 64:
            _rule_indexes.clear()
        index = _rule_indexes[id(lookup)] = _RuleIndex(keys)
    return index


def install_rule_matching() -> None:
    """RulePolicy's search for the rules that apply, on rules compiled once (see `_compiled_rule`).

    Profiled under load this search was about a sixteenth of a Rasa process's CPU: 108 rules, each
    re-read for every state of the conversation, two or three predictions per turn."""
    from rasa.core.policies.rule_policy import RulePolicy

    original = RulePolicy._get_possible_keys

    from rasa.shared.core.constants import PREVIOUS_ACTION

    def _get_possible_keys(self: Any, lookup: Dict[Text, Text], states: List[Dict[Text, Any]]) -> set:
        if not states:
            return set(lookup)  # Rasa's search checks nothing then: every rule is possible
        newest_first = states[::-1]
        has_previous = [bool(state.get(PREVIOUS_ACTION)) for state in newest_first]
        candidates = _rule_index(lookup).candidates(newest_first[0])
        return {key for key in candidates if rule_applies(_compiled_rule(key), newest_first, has_previous)}

    _get_possible_keys.__wrapped__ = original  # type: ignore[attr-defined]
    RulePolicy._get_possible_keys = _get_possible_keys  # type: ignore[assignment]
