"""The Rasa speed-ups in channels/tuning/ keep Rasa's behaviour."""

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
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


_NAMES = ["user", "action", "slot", "entities", "bot", "form", "active_loop", "session_started", "followup",
          "reset_slots", "restart", "undo", "rewind", "agent", "no_such_event", ""]
_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=3),
                     lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
                     max_leaves=4)
_EVENT = st.fixed_dictionaries(
    {},
    optional={
        "event": st.sampled_from(_NAMES) | _JSON,
        "name": st.text(max_size=3) | _JSON,
        "value": _JSON,
        "text": st.text(max_size=3) | _JSON,
        "entities": st.lists(st.fixed_dictionaries({"entity": st.text(max_size=2), "value": _JSON}), max_size=2) | _JSON,
        "timestamp": st.floats(allow_nan=False) | st.none() | _JSON,
        "metadata": st.dictionaries(st.text(max_size=2), _JSON, max_size=2) | st.none() | _JSON,
        "parse_data": _JSON,
        "policy": _JSON,
        "confidence": _JSON,
    },
)
_RESULT = st.fixed_dictionaries(
    {}, optional={"events": st.lists(_EVENT, max_size=3) | _JSON, "responses": st.lists(_JSON, max_size=2) | _JSON}
) | _JSON


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_RESULT)
def test_action_results_are_judged_as_rasas_schema_judges_them(result):
    """Accepted exactly when `jsonschema.validate` with Rasa's schema accepts it."""
    import jsonschema

    try:
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
        rasa_accepts = True
    except ValidationError:
        rasa_accepts = False
    try:
        tuning._action_response_validator().validate(result)
        we_accept = True
    except ValidationError:
        we_accept = False
    assert we_accept == rasa_accepts


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


def test_graph_walk_computes_each_node_once_and_passes_literals():
    calls = []

    def node(name):
        def run(*inputs):
            calls.append(name)
            return (name, inputs)
        return run

    graph = {
        "a": ("a", "input value"),  # an input: a literal tuple, as Rasa's runner adds them
        "b": (node("b"), "a"),
        "c": (node("c"), "a", "b"),
        "d": (node("d"), "b", "c", "not a key"),
    }
    d, c = tuning.run_graph(graph, ["d", "c"])
    assert calls == ["b", "c", "d"]  # b is shared by c and d, and run once
    assert c == ("c", (("a", "input value"), ("b", (("a", "input value"),))))
    assert d[1][2] == "not a key"


@pytest.fixture(scope="module")
def agent(trained_model):
    from rasa.core.agent import Agent

    return Agent.load(str(trained_model))


@pytest.mark.parametrize("text", ["你好", "我家宽带从昨天开始就断网了", "我要转人工", "查一下我的工单进度"])
def test_the_model_graph_gives_what_dask_gives(agent, text):
    """The same parse and the same next action through our walk and through Rasa's dask runner."""
    import asyncio

    from rasa.core.channels import UserMessage
    from rasa.engine.runner.dask import DaskGraphRunner

    patched = DaskGraphRunner.run
    assert patched.__wrapped__ is not None

    async def turn(run, sender):
        DaskGraphRunner.run = run
        try:
            parsed = await agent.parse_message(text)
            await agent.processor.log_message(UserMessage(text, sender_id=sender))
            prediction = await agent.processor.predict_next_for_sender_id(sender)
            return parsed, prediction["scores"], prediction["policy"], prediction["confidence"]
        finally:
            DaskGraphRunner.run = patched

    ours = asyncio.run(turn(patched, "ours"))
    theirs = asyncio.run(turn(patched.__wrapped__, "dask"))
    assert ours == theirs
    assert ours[0]["intent"]["name"]
    assert agent.processor.graph_runner._minimal_graphs  # the graph's needed part, computed once


def test_action_server_calls_share_one_kept_connection():
    """Two calls through an endpoint reuse one connection (the server sees one peer port); the
    connection is not kept longer than the server keeps it, and the session closes with the server."""
    import asyncio

    from aiohttp import web
    from rasa.utils.endpoints import EndpointConfig

    async def scenario():
        peers = []

        async def webhook(request):
            peers.append(request.transport.get_extra_info("peername"))
            return web.json_response({"events": [], "responses": []})

        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
        try:
            for _ in range(3):
                assert await endpoint.request(json={"next_action": "x"}) == {"events": [], "responses": []}
            kept = endpoint._kept_sessions[asyncio.get_running_loop()]
            assert kept.connector._keepalive_timeout == tuning.KEEPALIVE_SECONDS < 5
            assert kept._json_serialize is tuning.json_dumps
            await tuning.close_http_sessions()
            assert kept.closed
            await endpoint.request(json={"next_action": "y"})  # a closed session is replaced
        finally:
            await tuning.close_http_sessions()
            await runner.cleanup()
        return peers

    peers = asyncio.run(scenario())
    assert len(peers) == 4 and len(set(peers[:3])) == 1 and peers[3] != peers[0]


_STATE_VALUE = st.sampled_from(["greet", "affirm", "utter_x", "action_listen", "form_a", "should_not_be_set", "", 1.0, 0.0]) | st.lists(
    st.sampled_from([1.0, 0.0, "a"]), max_size=2
).map(tuple)


def _state(with_lists):
    value = _STATE_VALUE | (st.lists(st.sampled_from([1.0, 0.0]), max_size=2) if with_lists else st.nothing())
    sub = st.dictionaries(st.sampled_from(["action_name", "intent", "slot_a", "slot_b", "name"]), value, max_size=2)
    return st.dictionaries(st.sampled_from(["prev_action", "user", "slots", "active_loop"]), sub, max_size=3)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_state(True), max_size=4), max_size=5), st.lists(_state(False), max_size=5))
def test_rules_apply_exactly_when_rasa_says_they_do(rules, states):
    """The compiled rule search finds the same rules as RulePolicy's own, on any states (lists in
    rule keys, SHOULD_NOT_BE_SET, empty values, conversation starters without a previous action)."""
    import json

    from rasa.core.policies.rule_policy import RulePolicy

    policy = object.__new__(RulePolicy)  # the search uses no state of the policy
    lookup = {json.dumps(rule): "utter_x" for rule in rules}
    original = RulePolicy._get_possible_keys.__wrapped__
    assert RulePolicy._get_possible_keys(policy, lookup, states) == original(policy, lookup, states)


def test_a_lookup_that_changes_is_searched_with_its_new_rules():
    """RulePolicy fills its lookups during training and predicts in between: the index follows."""
    import json

    from rasa.core.policies.rule_policy import RulePolicy

    policy = object.__new__(RulePolicy)
    listen_greet = [{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}]
    lookup = {json.dumps(listen_greet): "utter_x"}
    states = [{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "deny"}}]
    assert RulePolicy._get_possible_keys(policy, lookup, states) == set()
    listen_deny = json.dumps([{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "deny"}}])
    lookup[listen_deny] = "utter_y"
    assert RulePolicy._get_possible_keys(policy, lookup, states) == {listen_deny}
    del lookup[listen_deny]
    assert RulePolicy._get_possible_keys(policy, lookup, states) == set()


def test_the_trained_rules_match_as_rasa_matches_them(agent):
    """Every learned rule, replayed as a conversation (whole, without its oldest states, with
    another rule's states before it), selects the same rules through both searches."""
    import json

    from rasa.core.policies.rule_policy import RulePolicy

    policy = next(node for node in _graph_nodes(agent) if isinstance(node, RulePolicy))
    original = RulePolicy._get_possible_keys.__wrapped__
    lookups = [table for table in policy.lookup.values() if isinstance(table, dict)]
    keys = [key for table in lookups for key in table]
    assert len(keys) > 50
    checked = 0
    for position, key in enumerate(keys):
        states = json.loads(key)
        before = json.loads(keys[position - 1])
        for conversation in (states, states[1:], states[-1:], before + states):
            for table in lookups:
                found = RulePolicy._get_possible_keys(policy, table, conversation)
                assert found == original(policy, table, conversation), key
                checked += bool(found)
    assert checked > len(keys)  # the comparisons include many rules that do apply


def _graph_nodes(agent):
    return [node._component for node in agent.processor.graph_runner._instantiated_nodes.values()]


@settings(max_examples=300, deadline=None)
@given(_JSON)
def test_action_call_bodies_are_the_same_json(value):
    import json

    assert json.loads(tuning.json_dumps(value)) == json.loads(json.dumps(value))


def test_action_call_bodies_ujson_refuses_are_written_as_before():
    import json

    for value in ({"x": float("nan")}, {"big": 2**70}, {"汉/": "宽带"}, {"t": "a\ud800b\x00\u2028"}):
        body = tuning.json_dumps(value)
        body.encode("utf-8")  # what aiohttp sends: a lone surrogate must be escaped, not written raw
        assert json.loads(body) == json.loads(json.dumps(value))
    assert tuning.json_dumps({"x": float("nan")}) == json.dumps({"x": float("nan")})


# Any code point, with lone surrogates often enough to matter (Hypothesis rarely draws them otherwise).
_ANY_CHARACTER = st.characters(blacklist_categories=()) | st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF,
                                                                        blacklist_categories=())


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(_ANY_CHARACTER, max_size=4), st.text(_ANY_CHARACTER, max_size=8), max_size=3))
def test_action_call_bodies_encode_whatever_customers_type(value):
    """Any text, lone surrogates and control characters included, gives a body aiohttp can send
    that reads back as `json.dumps`'s does."""
    import json

    body = tuning.json_dumps(value)
    assert json.loads(body.encode("utf-8")) == json.loads(json.dumps(value))


@pytest.fixture(scope="module")
def dialogue_trackers():
    """The rules' trackers (forms, unhappy paths, conversation starts) and the domain, as Rasa's
    training builds them from bot/dialogue."""
    from pathlib import Path

    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.importers.importer import TrainingDataImporter

    root = Path(__file__).resolve().parents[1]
    importer = TrainingDataImporter.load_from_dict(
        domain_path=str(root / "bot" / "dialogue" / "domain"),
        training_data_paths=[str(root / "bot" / "dialogue" / "rules.yml")],
    )
    domain = importer.get_domain()
    trackers = TrainingDataGenerator(importer.get_stories(), domain, augmentation_factor=0).generate()
    assert len(trackers) > 30
    return domain, trackers


def _replayed_step_by_step(domain, events, check, every=1):
    """A tracker built one event at a time, `check`ed after every `every` events (as a turn grows
    it: a user message and its parse, then an action and its events)."""
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker("replay", domain.slots)
    for number, event in enumerate(events, 1):
        tracker.update(event)
        if number % every == 0 or number == len(events):
            check(tracker)
    return tracker


def test_past_states_grow_as_rasa_computes_them(dialogue_trackers):
    """At every step of every rule's conversation, and after rewinds and restarts spliced in, the
    incremental states equal Rasa's full replay (with and without unset slots)."""
    from rasa.shared.core.events import ActionReverted, Restarted, UserUtteranceReverted
    from rasa.shared.core.trackers import DialogueStateTracker

    domain, trackers = dialogue_trackers
    original = DialogueStateTracker.past_states.__wrapped__
    compared = 0

    def checker(omit):
        def check(tracker):
            nonlocal compared
            ours = tracker.past_states(domain, omit_unset_slots=omit)
            assert ours == original(tracker, domain, omit_unset_slots=omit)
            for state in ours:  # a caller editing what it got does not change the next answer
                for sub_state in state.values():
                    sub_state.clear()
            compared += 1

        return check

    for number, trained in enumerate(trackers):
        events = list(trained.events)
        if number % 3 == 1:
            events.insert(len(events) // 2, UserUtteranceReverted())
        elif number % 3 == 2:
            events[len(events) // 2:len(events) // 2] = [ActionReverted(), Restarted()]
        for every in (1, 2, 3):
            for omit in (False, True):
                _replayed_step_by_step(domain, events, checker(omit), every)
    assert compared > 1200
    memo = _replayed_step_by_step(domain, list(trackers[0].events), lambda t: t.past_states(domain)).__dict__["_states_memo"]
    assert memo.states  # the incremental path was the one taken


def test_tracker_copies_do_not_share_the_states_memo(dialogue_trackers):
    import copy
    import pickle

    domain, trackers = dialogue_trackers
    tracker = _replayed_step_by_step(domain, list(trackers[0].events), lambda t: t.past_states(domain))
    for other in (copy.deepcopy(tracker), pickle.loads(pickle.dumps(tracker))):
        assert other.__dict__["_states_memo"].replayed is None
        assert other.past_states(domain) == tracker.past_states(domain)


def test_the_loaded_model_is_frozen_out_of_the_collectors_sight(trained_model):
    """After the warm-up parse and the freeze, the model and what the first message loads lazily are
    in the permanent generation: a full collection then walks a few thousand objects, not ~750,000.
    In a child process: freezing is once per process, and this test's own would stay frozen."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = f"""
import asyncio, gc, json, types
from channels.startup import prepare_process
prepare_process()
from rasa.core.agent import Agent
from channels import tuning
agent = Agent.load({str(trained_model)!r})
app = types.SimpleNamespace(ctx=types.SimpleNamespace(agent=agent))
asyncio.run(tuning.warm_up_and_freeze(app))
asyncio.run(agent.parse_message("帮我查一下这个月的话费 谢谢🙏"))
gc.collect()
print(json.dumps({{"frozen": gc.get_freeze_count(), "tracked": len(gc.get_objects())}}))
"""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts["frozen"] > 300_000
    assert counts["tracked"] < 50_000, counts  # without the warm-up parse: about 200,000


def test_read_only_actions_run_on_the_tracker_itself_with_rasas_outcome(agent):
    """Listening and uttering a response (and action-server calls) get the tracker itself, not a
    replayed copy, and leave the same events as Rasa's `_run_action`; a prediction with events, a
    follow-up and an action that fails keep Rasa's copy and leave no trace on the tracker."""
    import asyncio

    from rasa.core.actions.action import ActionBotResponse, ActionListen
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.policies.policy import PolicyPrediction
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.constants import FOLLOWUP_ACTION
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    processor, domain = agent.processor, agent.domain
    utter = next(name for name in domain.responses if name.startswith("utter_") and "/" not in name)
    seen = []

    def spied(action, fail=False):
        run = action.run

        async def spy(output_channel, nlg, tracker, domain):
            seen.append(tracker)
            if fail:
                raise RuntimeError("the action broke")
            return await run(output_channel, nlg, tracker, domain)

        action.run = spy  # on the instance: the action's type stays Rasa's
        return action

    def conversation():
        return DialogueStateTracker.from_events(
            "reuse", [ActionExecuted("action_listen"), UserUttered("你好", {"name": "greet", "confidence": 1.0})], domain.slots
        )

    def outcome(tracker):
        return [(type(e).__name__, getattr(e, "action_name", None), getattr(e, "text", None)) for e in tracker.events]

    async def run(how, action, prediction):
        tracker = conversation()
        again = await how(processor, action, tracker, CollectingOutputChannel(), processor.nlg, prediction)
        assert "copy" not in tracker.__dict__
        return tracker, seen[-1] is tracker, again, outcome(tracker)

    ours, theirs = MessageProcessor._run_action, MessageProcessor._run_action.__wrapped__
    for action, name in ((spied(ActionBotResponse(utter)), utter), (spied(ActionListen()), "action_listen")):
        prediction = PolicyPrediction.for_action_name(domain, name, "RulePolicy")
        mine, rasas = asyncio.run(run(ours, action, prediction)), asyncio.run(run(theirs, action, prediction))
        assert mine[1] is True and rasas[1] is False  # the tracker itself; Rasa: a copy
        assert mine[2:] == rasas[2:]  # the same answer and the same events
    # Rasa's copy: the prediction brings events, a follow-up, an action that fails
    with_events = PolicyPrediction.for_action_name(domain, utter, "RulePolicy")
    with_events.events = [SlotSet("requested_slot", None)]
    followup = PolicyPrediction.for_action_name(domain, utter, FOLLOWUP_ACTION)
    for action, prediction in ((spied(ActionBotResponse(utter)), with_events), (spied(ActionBotResponse(utter)), followup),
                               (spied(ActionBotResponse(utter), fail=True), PolicyPrediction.for_action_name(domain, utter, "RulePolicy"))):
        mine, rasas = asyncio.run(run(ours, action, prediction)), asyncio.run(run(theirs, action, prediction))
        assert mine[2:] == rasas[2:]
        if prediction.events or prediction.policy_name == FOLLOWUP_ACTION:
            assert mine[1] is False


@pytest.mark.parametrize("name", tuning.DEBUG_COPY_MODULES)
def test_rasa_modules_copy_only_for_debug_records(name):
    """Every use of `copy` in these Rasa modules is an argument of a `structlogger.debug(...)` call
    (so skipping it when debug records are dropped changes nothing); and the copy is still made
    when the module's debug logging is on."""
    import ast
    import importlib
    import inspect
    import logging

    module = importlib.import_module(name)
    tree = ast.parse(inspect.getsource(module))
    inside_debug = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "structlogger.debug":
            inside_debug.update(id(inner) for inner in ast.walk(node))
    uses = [node for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "copy"]
    assert uses and all(id(use) in inside_debug for use in uses), name

    value = {"events": [{"event": "bot", "text": "您好"}]}
    logger = logging.getLogger(name)
    level = logger.level
    try:
        logger.setLevel(logging.INFO)
        assert module.copy.deepcopy(value) is value
        logger.setLevel(logging.DEBUG)
        copied = module.copy.deepcopy(value)
        assert copied == value and copied is not value and copied["events"] is not value["events"]
    finally:
        logger.setLevel(level)


def test_slot_copies_are_what_copy_copy_made(dialogue_trackers):
    """Each of Rasa's slot classes (and the domain's slots), set or not, copies to an object of the
    same class with the same attributes, independent of the original; another class keeps the
    pickle protocol."""
    import copy

    from rasa.shared.core import slots

    domain, _ = dialogue_trackers
    made = [
        slots.TextSlot("t", []), slots.FloatSlot("f", [], max_value=5.0), slots.BooleanSlot("b", []),
        slots.ListSlot("l", []), slots.CategoricalSlot("c", [], values=["a", "b"]), slots.AnySlot("a", []),
    ]
    for slot in made + list(domain.slots):
        for value in (None, "x"):
            if value is not None:
                slot.value = {"t": "文本", "f": 2.0, "b": True, "l": ["x"], "c": "a"}.get(slot.name, value)
            ours = copy.copy(slot)
            reductor = slot.__reduce_ex__(4)
            protocol = copy._reconstruct(slot, None, *reductor)
            assert type(ours) is type(slot) and vars(ours) == vars(protocol) == vars(slot)
            ours.value = "changed"
            assert slot.value != "changed" or value == "changed"

    class Custom(slots.TextSlot):
        __module__ = "elsewhere"

    custom = Custom("custom", [])
    assert vars(copy.copy(custom)) == vars(custom)
