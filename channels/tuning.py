"""Per-message costs of Rasa 3.6 that do not need to be paid on every turn.

Rasa validates every action-server response with ``jsonschema.validate(result, schema)``, which
checks the *schema itself* against the JSON-Schema meta-schema on each call before it checks the
response. With jsonschema 4.17 that meta-schema check dominated a whole customer turn (profiled
with py-spy: about 70 % of the Rasa process's CPU under load, see bench/README.md). The schema is a
constant, so we check it once and keep the compiled validators; the response is still validated in
full and a malformed one still raises a ``ValidationError``. Each event is checked against the one
branch of the schema's 23-way ``oneOf`` whose ``event`` constant it names: every other branch fails
on that constant, so "exactly one branch matches" holds exactly when that branch does (an event
naming no branch matches none and is rejected). Trying all 23 for every event, building an error
object for each miss, was still about a twelfth of a Rasa process's CPU under load.

Loading a conversation from the tracker store turns every stored event back into an object, and
Rasa finds each event's class by walking the whole Event class tree (``all_subclasses`` with an
``inspect.isabstract`` per class) once per event: about a sixth of a simple turn's CPU. The classes
do not change while serving, so the name-to-class map is built once (and rebuilt if a name is
unknown, e.g. after a custom event class was imported); the first match wins, as in Rasa.

Every message and every prediction runs a part of the model's graph through Rasa's
``DaskGraphRunner``, which first recomputes which nodes the targets need (a recursive walk that
visits shared dependencies again for every path to them) and then hands a dozen nodes to dask's
synchronous scheduler, whose bookkeeping (ordering, task keys, a callback machinery) is built for
graphs of thousands of tasks. Together about a twelfth of a Rasa process's CPU under load. The graph
does not change while serving: the needed part is computed once per set of targets, and the nodes
are called in dependency order by a plain memoized walk (each node once, results shared), which is
what dask's synchronous scheduler does for such a graph.

Rasa opens a new aiohttp ``ClientSession``, and so a new TCP connection, for every call to the action
server (``EndpointConfig.request``), and closes it after the answer: a connect, a session set-up and
a teardown per action, in both processes. Here each endpoint keeps one session per event loop, whose
connections stay open between calls for KEEPALIVE_SECONDS, less than the action server's own
keep-alive (sanic: 5 s), so a connection is not reused just as the server closes it. Should that
happen anyway the call fails before the server saw it, and `channels/action_calls.py` makes it again.

RulePolicy looks for the rules that apply by re-reading each of its rules (a JSON key: parsed
once, but reversed and its lists turned into tuples again) for every state of the conversation, two
or three times a turn; here each rule is compiled once and matched with the same decisions. And the
conversation's states, which RulePolicy asks for two or three times a turn, are computed from where the
last call on the same tracker stopped instead of replaying the conversation from its first event. The
tracker sent with each action call is written by ujson (sanic's own JSON library), not by the standard
library's encoder, which was about a twentieth of a Rasa process's CPU.

Before each action Rasa replays the whole conversation into a copy of the tracker; listening,
uttering a response and calling the action server only read it, and get the tracker itself. Once the
model is loaded and a first message parsed, the process's heap is frozen out of the garbage
collector's full collections (`warm_up_and_freeze`). And the deep copies Rasa makes of what it passes
to debug log records are made only when those records are written (`_DebugFieldCopies`).

Installed when the channel package is imported (Rasa imports the channels named in
credentials.yml before it serves anything).
"""

from __future__ import annotations

import functools
import logging
import weakref
from typing import Any, Dict, List, Optional, Text

logger = logging.getLogger(__name__)

_installed = False


class _ResponseValidator:
    """Rasa's action-response schema, with each event checked against its own ``oneOf`` branch."""

    def __init__(self, schema: Dict[Text, Any]) -> None:
        from jsonschema.validators import validator_for

        cls = validator_for(schema)
        cls.check_schema(schema)
        events = schema["properties"]["events"]
        event = dict(events["items"])
        branches = event.pop("oneOf")
        self._outer = cls({**schema, "properties": {**schema["properties"], "events": {"type": "array"}}})
        self._event = cls(event)
        self._branches = {branch["properties"]["event"]["const"]: cls(branch) for branch in branches}
        if len(self._branches) != len(branches):  # the equivalence rests on distinct constants
            raise ValueError("action response schema: oneOf branches share an event name")

    def validate(self, result: Any) -> None:
        from jsonschema import ValidationError

        self._outer.validate(result)
        for event in result.get("events") or ():
            self._event.validate(event)
            branch = self._branches.get(event["event"])
            if branch is None:
                raise ValidationError(f"{event!r} is not valid under any of the given schemas")
            branch.validate(event)


@functools.lru_cache(maxsize=1)
def _action_response_validator() -> _ResponseValidator:
    from rasa.core.actions.action import RemoteAction

    return _ResponseValidator(RemoteAction.action_response_format_spec())


def install() -> None:
    """Patch once per process; safe to call repeatedly."""
    global _installed
    if _installed:
        return
    from jsonschema import ValidationError
    from rasa.core.actions import action as rasa_action

    original = rasa_action.RemoteAction._validate_action_result
    docs = getattr(rasa_action, "DOCS_BASE_URL", "https://rasa.com/docs/rasa")

    def _validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
        try:
            _action_response_validator().validate(result)
            return True
        except ValidationError as error:
            error.message += (
                ". Failed to validate Action server response from API, make sure your response from "
                f"the Action endpoint is valid. For more information about the format visit {docs}/custom-actions"
            )
            raise error

    _validate_action_result.__wrapped__ = original  # type: ignore[attr-defined]
    rasa_action.RemoteAction._validate_action_result = _validate_action_result
    _install_event_type_cache()
    _install_graph_runner()
    _install_shared_http_sessions()
    _install_rule_matching()
    _install_incremental_past_states()
    _install_action_tracker_reuse()
    _install_debug_only_copies()
    _install_fast_slot_copies()
    _installed = True


def _install_event_type_cache() -> None:
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


def run_graph(graph: Dict[Text, Any], targets: List[Text]) -> List[Any]:
    """The values of `targets` in a dask-style graph (``{key: (callable, *keys) or literal}``).

    Each key is computed once and its value shared; an argument that is not a key of the graph is
    passed as it is, as dask does. Only the graphs Rasa's runner builds are expected here: every
    argument of a task is a key (a node or an input name)."""
    values: Dict[Text, Any] = {}

    def value(key: Any) -> Any:
        if key in values:
            return values[key]
        if key not in graph:
            return key
        task = graph[key]
        if isinstance(task, tuple) and task and callable(task[0]):
            result = task[0](*[value(argument) for argument in task[1:]])
        else:
            result = task
        values[key] = result
        return result

    return [value(target) for target in targets]


def _install_graph_runner() -> None:
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner, logger as runner_logger

    original = DaskGraphRunner.run

    def run(self: Any, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
        run_targets = list(targets if targets else self._graph_schema.target_names)
        minimal = self.__dict__.setdefault("_minimal_graphs", {})
        key = tuple(run_targets)
        if key not in minimal:
            minimal[key] = self._build_dask_graph(self._graph_schema.minimal_graph_schema(run_targets))
        graph = dict(minimal[key])
        if inputs:
            self._add_inputs_to_graph(inputs, graph)
        if runner_logger.isEnabledFor(logging.DEBUG):
            runner_logger.debug(f"Running graph with inputs: {inputs}, targets: {targets} and {self._execution_context}.")
        try:
            return dict(run_graph(graph, run_targets))
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error

    run.__wrapped__ = original  # type: ignore[attr-defined]
    DaskGraphRunner.run = run  # type: ignore[assignment]


KEEPALIVE_SECONDS = 2.0


class _Kept:
    """What ``async with endpoint.session()`` gets: the endpoint's session for this loop, left open."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *_exc: Any) -> None:
        return None


_kept_sessions: "weakref.WeakSet[Any]" = weakref.WeakSet()


async def close_http_sessions() -> None:
    """Close the kept sessions of the running loop (the server is stopping)."""
    import asyncio

    loop = asyncio.get_running_loop()
    for session in [s for s in _kept_sessions if s._loop is loop and not s.closed]:
        await session.close()


def _install_shared_http_sessions() -> None:
    import asyncio

    import aiohttp
    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
    from rasa.utils.endpoints import EndpointConfig

    original = EndpointConfig.session

    def session(self: Any) -> Any:
        loop = asyncio.get_running_loop()
        kept = self.__dict__.setdefault("_kept_sessions", {})
        for other in [other for other in kept if other.is_closed()]:
            del kept[other]  # a finished loop (tests run several) takes its session with it
        current = kept.get(loop)
        if current is None or current.closed:
            # Rasa's settings (EndpointConfig.session), with a connector that keeps connections.
            auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
            current = aiohttp.ClientSession(
                headers=self.headers,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
                json_serialize=json_dumps,
            )
            kept[loop] = current
            _kept_sessions.add(current)
        return _Kept(current)

    session.__wrapped__ = original  # type: ignore[attr-defined]
    EndpointConfig.session = session  # type: ignore[assignment]


def json_dumps(value: Any) -> Text:
    """``json.dumps`` for the body of an action call (the whole tracker), in C.

    ujson (pinned: sanic's own JSON) writes the same JSON about five times faster; the standard
    library's output differs only in spacing and in writing 汉 instead of ``\\u6c49``. Whatever
    ujson refuses or would write differently (a NaN, an integer beyond 64 bits, an unknown type) goes
    through ``json.dumps`` as before, so a body that failed before fails the same way."""
    import json

    import ujson

    try:
        return ujson.dumps(value, ensure_ascii=False, escape_forward_slashes=False, allow_nan=False)
    except (TypeError, ValueError, OverflowError):
        return json.dumps(value)


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


def _install_rule_matching() -> None:
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


def _install_incremental_past_states() -> None:
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


def _install_action_tracker_reuse() -> None:
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


# Rasa modules whose only use of the `copy` module is deep copies of fields of debug log records.
DEBUG_COPY_MODULES = ("rasa.core.processor", "rasa.core.policies.rule_policy", "rasa.core.actions.forms")


class _DebugFieldCopies:
    """The `copy` module as a Rasa module in DEBUG_COPY_MODULES sees it: a deep copy is made only
    when that module's debug records are written.

    Rasa 3.6 passes deep copies of what it logs to ``structlogger.debug(...)`` (the events of every
    action, the extracted slots, the rule policy's view of the conversation, the latest message in a
    form); Python evaluates the arguments before the call finds debug logging off, so every turn
    copied them all to throw them away, a few percent of a Rasa process's CPU. With the module's
    logger at DEBUG the copies are made as before."""

    def __init__(self, module_name: Text) -> None:
        import copy

        self._copy = copy
        self._logger = logging.getLogger(module_name)

    def deepcopy(self, value: Any, memo: Optional[Dict[int, Any]] = None) -> Any:
        if self._logger.isEnabledFor(logging.DEBUG):
            return self._copy.deepcopy(value, memo)
        return value

    def __getattr__(self, name: Text) -> Any:
        return getattr(self._copy, name)


def _install_debug_only_copies() -> None:
    import importlib

    for name in DEBUG_COPY_MODULES:
        importlib.import_module(name).copy = _DebugFieldCopies(name)  # type: ignore[attr-defined]


def _install_fast_slot_copies() -> None:
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


_frozen = False

# Parsed once before the heap is frozen: the NLU pipeline loads some of its data on the first message
# (Jieba's dictionary, the emoji tables: about 200,000 objects), which should be frozen with the model.
WARM_UP_TEXT = "喂 你好，我家宽带从昨天开始断网了😡 电话13800000000 帮我转人工"


async def warm_up_and_freeze(app: Any) -> None:
    """After the server started: one parse through the model's graph (not counted in the metrics,
    not stored in any conversation), then `freeze_startup_heap`."""
    import asyncio

    agent = getattr(app.ctx, "agent", None)
    if agent is not None and agent.is_ready() and agent.processor is not None:
        from rasa.core.channels.channel import UserMessage
        from rasa.shared.core.trackers import DialogueStateTracker

        processor = agent.processor
        message = UserMessage(WARM_UP_TEXT, sender_id="warm-up")
        tracker = DialogueStateTracker.from_events("warm-up", [])
        try:
            await asyncio.get_running_loop().run_in_executor(None, processor._parse_message_with_graph, message, tracker)
        except Exception:  # noqa: BLE001 - a warm-up failure must not stop the server; the first message pays
            logger.warning("warm-up parse failed", exc_info=True)
    freeze_startup_heap()


def freeze_startup_heap() -> None:
    """Move everything alive once the model is loaded out of the garbage collector's sight.

    A loaded model is about 750,000 Python objects (vocabularies, model weights' wrappers, Rasa's
    graph, the domain), alive for the life of the process. Python's cyclic collector walks all of
    them in each full (oldest-generation) collection, which the allocations of serving trigger every
    few seconds under load: measured at 100 customers, 11 full collections in 80 s, about 280 ms
    each and up to 510 ms, during which the process answers nobody (every turn in flight waits).
    ``gc.freeze()`` (Python 3.7+) moves them to a permanent generation that collections skip; what
    serving allocates is collected as before. Called once per process after the server started,
    i.e. after Rasa loaded the model (a ``before_server_start`` listener) and `warm_up_and_freeze`
    parsed a first message; a collection first, so that no garbage is frozen with them. Without the
    warm-up, the first message's lazy loads left full collections at about 60 ms each."""
    global _frozen
    if _frozen:
        return
    import gc

    gc.collect()
    gc.freeze()
    _frozen = True
    logger.info("startup heap frozen: %d objects out of the collector's reach", gc.get_freeze_count())
