"""Rebuilding and copying trackers less often and more cheaply.

Loading a conversation from the tracker store turns every stored event back into an object, and
Rasa finds each event's class by walking the whole Event class tree (``all_subclasses`` with an
``inspect.isabstract`` per class) once per event: about a sixth of a simple turn's CPU. The classes
do not change while serving, so the name-to-class map is built once (and rebuilt if a name is
unknown, e.g. after a custom event class was imported); the first match wins, as in Rasa.

The conversation's states, which RulePolicy asks for two or three times a turn, are computed from
where the last call on the same tracker stopped instead of replaying the conversation from its
first event. Before each action Rasa replays the whole conversation into a copy of the tracker;
listening, uttering a response and calling the action server only read it, and get the tracker
itself. Rasa's slot classes are copied without the pickle protocol.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text


def install_event_type_cache() -> None:
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    original = Event.resolve_by_type
    classes: Dict[Text, Any] = {}

    def resolve_by_type(type_name: Text, default: Optional[Any] = None) -> Optional[Any]:
        found = classes.get(type_name)
        if found is None:
            for candidate in all_subclasses(Event):
                classes.setdefault(candidate.type_name, candidate)
            found = classes.get(type_name)
        # Unknown names keep Rasa's own answer (the "topic" legacy, the default, or ValueError).
        return found if found is not None else original(type_name, default)

    resolve_by_type.__wrapped__ = original  # type: ignore[attr-defined]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[assignment]


class _StatesMemo:
    """What `past_states` computed last for one tracker: the applied events it covered, the states
    up to (not including) the final one, and the replayed tracker after those events. Copies and
    pickles of the tracker start without it (a copy's events are other objects)."""

    __slots__ = ("key", "applied", "states", "replayed")

    def __init__(self) -> None:
        self.key: Any = None
        self.applied: List[Any] = []
        self.states: List[Dict[Text, Any]] = []
        self.replayed: Any = None

    def __deepcopy__(self, _memo: Any) -> "_StatesMemo":
        return _StatesMemo()

    def __copy__(self) -> "_StatesMemo":
        return _StatesMemo()

    def __reduce__(self) -> Any:
        return (_StatesMemo, ())


def _copy_state(state: Dict[Text, Any]) -> Dict[Text, Any]:
    # A state maps a kind (user, prev_action, slots, active_loop) to a dict of immutable values;
    # callers edit those dicts (the featurizer drops the text or the intent of the last user turn).
    return {kind: dict(sub_state) for kind, sub_state in state.items()}


def past_states_incrementally(tracker: Any, domain: Any, omit_unset_slots: bool) -> List[Dict[Text, Any]]:
    """``tracker.past_states(domain, omit_unset_slots)``, computed from where the last call on this
    tracker stopped.

    Rasa replays the whole conversation for every prediction: a tracker is rebuilt from its first
    event and a state is taken before each action (``Domain.states_for_tracker_history``), two or
    three times a turn, longer with every turn. Within a turn the tracker only grows, so the states
    of the events seen before are still the states: the replay goes on from the last call's end.
    When the applied events are not the last call's plus new ones (a rewind, a restart, a form's
    steps folded together by ``applied_events``), it starts over, as Rasa does."""
    from rasa.shared.core.events import ActionExecuted

    applied = tracker.applied_events()
    memo = tracker.__dict__.get("_states_memo")
    if memo is None:
        memo = tracker.__dict__["_states_memo"] = _StatesMemo()
    key = (id(domain), omit_unset_slots)
    done = len(memo.applied)
    if (
        memo.key != key
        or memo.replayed is None
        or len(applied) < done
        or any(old is not new for old, new in zip(memo.applied, applied))
    ):
        memo.key, memo.applied, memo.states, memo.replayed = key, [], [], tracker.init_copy()
        done = 0
    replayed = memo.replayed

    def state() -> Dict[Text, Any]:
        # Copied: a state's parts can be the replayed tracker's own (its latest action's dict).
        return _copy_state(domain._clean_state(domain.get_active_state(replayed, omit_unset_slots=omit_unset_slots)))

    for event in applied[done:]:
        if isinstance(event, ActionExecuted):
            memo.states.append(state())
        replayed.update(event)
    memo.applied = applied
    return [_copy_state(kept) for kept in memo.states] + [state()]


def install_incremental_past_states() -> None:
    """`DialogueStateTracker.past_states` through `past_states_incrementally` when it applies: the
    plain history RulePolicy asks for. Turns hidden for ML policies (``ignore_rule_only_turns``)
    keep Rasa's own walk."""
    from rasa.shared.core.trackers import DialogueStateTracker

    original = DialogueStateTracker.past_states

    def past_states(
        self: Any,
        domain: Any,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: Optional[Dict[Text, Any]] = None,
    ) -> List[Dict[Text, Any]]:
        if ignore_rule_only_turns:
            return original(self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        return past_states_incrementally(self, domain, omit_unset_slots)

    past_states.__wrapped__ = original  # type: ignore[attr-defined]
    DialogueStateTracker.past_states = past_states  # type: ignore[assignment]


def install_action_tracker_reuse() -> None:
    """No replayed copy of the conversation for the actions that only read it.

    Before running an action Rasa copies the tracker (``tracker.copy()``, which replays every event
    of the conversation into a new tracker) so that the prediction's own events can be dropped if
    the action rejects, and so the action cannot change the real tracker: two or three times a
    turn, about a twentieth of a Rasa process's CPU under load. Listening, uttering a response and
    calling the action server read the tracker and never change it, and a prediction without events
    has nothing to drop: for them the action gets the tracker itself. Predictions of a follow-up
    action keep the copy (Rasa cleared the real tracker's follow-up just before; the replayed copy
    still shows it); so does every other action (forms and loops, Rasa's default actions)."""
    from rasa.core.actions.action import ActionBotResponse, ActionListen, ActionRetrieveResponse, RemoteAction
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.constants import FOLLOWUP_ACTION

    read_only = (ActionListen, ActionBotResponse, ActionRetrieveResponse, RemoteAction)
    original = MessageProcessor._run_action

    async def _run_action(self: Any, action: Any, tracker: Any, output_channel: Any, nlg: Any, prediction: Any) -> bool:
        reuse = (
            type(action) in read_only
            and not prediction.events
            and prediction.policy_name != FOLLOWUP_ACTION
            and "copy" not in tracker.__dict__
        )
        if reuse:

            def itself() -> Any:  # what Rasa's `tracker.copy()` returns this once
                tracker.__dict__.pop("copy", None)
                return tracker

            tracker.__dict__["copy"] = itself
        try:
            return await original(self, action, tracker, output_channel, nlg, prediction)
        finally:
            if reuse:
                tracker.__dict__.pop("copy", None)

    _run_action.__wrapped__ = original  # type: ignore[attr-defined]
    MessageProcessor._run_action = _run_action  # type: ignore[assignment]


def install_fast_slot_copies() -> None:
    """``copy.copy`` of Rasa's own slot classes without the pickle protocol.

    Every new tracker (a load, each replayed copy, the start of the states' replay, a form's
    temporary tracker: four to six a turn) copies each of the domain's 22 slots with ``copy.copy``,
    which goes through ``__reduce_ex__`` and ``copyreg``: about 2.5 us a slot, 70 us a tracker. A slot
    is a plain object (no ``__slots__``, no custom pickling): a new instance of its class with the
    same attribute dict is exactly what ``copy.copy`` builds. Slot classes defined elsewhere keep
    the protocol."""
    import copy

    from rasa.shared.core import slots

    def __copy__(self: Any) -> Any:
        cls = type(self)
        if cls.__module__ != slots.__name__:
            reductor = self.__reduce_ex__(4)
            return copy._reconstruct(self, None, *reductor)  # what copy.copy does for them
        new = cls.__new__(cls)
        new.__dict__.update(self.__dict__)
        return new

    slots.Slot.__copy__ = __copy__  # type: ignore[attr-defined]
