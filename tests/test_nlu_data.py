"""The training data contract: intent names, volumes, held-out separation, regexes in step with the domain."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import yaml

from bot import ticket_numbers
from bot.text import PHONE_PATTERN
from nlu.evaluate import heldout_sets, load_heldout

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "nlu" / "data"
CONTRACT = {
    "consult", "complain_network", "complain_billing", "complain_business", "complain_other", "escalate",
    "check_ticket_status", "greet", "goodbye", "thank", "affirm", "deny",
}


def training_examples():
    by_intent = defaultdict(list)
    regexes = {}
    for path in sorted(DATA.glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" in block:
                raw = block["examples"]
                lines = (
                    [line.strip()[2:].strip() for line in raw.splitlines() if line.strip().startswith("- ")]
                    if isinstance(raw, str)
                    else [item["text"] for item in raw]
                )
                by_intent[block["intent"]] += [re.sub(r"\[([^\]]+)\]\([a-z_]+\)", r"\1", line) for line in lines]
            elif "regex" in block:
                regexes[block["regex"]] = [
                    line.strip()[2:].strip() for line in block["examples"].splitlines() if line.strip()
                ]
    return by_intent, regexes


def test_contract_intents_exist():
    by_intent, _ = training_examples()
    base = {intent.split("/")[0] for intent in by_intent}
    assert CONTRACT <= base
    domain = yaml.safe_load((ROOT / "bot" / "dialogue" / "domain" / "main.yml").read_text(encoding="utf-8"))
    assert CONTRACT <= set(domain["intents"])


def test_volumes():
    by_intent, _ = training_examples()
    for intent in ("complain_network", "complain_billing", "complain_business", "complain_other", "escalate",
                   "check_ticket_status"):
        assert len(set(by_intent[intent])) >= 80, intent
    topics = {i: len(set(e)) for i, e in by_intent.items() if i.startswith("consult/")}
    assert len(topics) >= 15 and sum(topics.values()) >= 150


def test_examples_are_distinct_and_unambiguous():
    by_intent, _ = training_examples()
    owners = defaultdict(set)
    for intent, examples in by_intent.items():
        for example in examples:
            owners[example].add(intent)
    clashes = {e: i for e, i in owners.items() if len(i) > 1}
    assert not clashes


def test_every_heldout_set_is_separate_and_large_enough():
    by_intent, _ = training_examples()
    trained = {e for examples in by_intent.values() for e in examples}
    sets = heldout_sets()
    assert {"heldout", "transcript", "short", "posted", "persona"} <= set(sets)
    for name, path in sets.items():
        heldout = load_heldout(path)
        assert len(heldout) >= 140, name
        assert not [t for t, _ in heldout if t in trained], name
        assert {i for _, i in heldout} <= {i.split("/")[0] for i in by_intent}, name


def test_every_consult_topic_has_an_answer():
    by_intent, _ = training_examples()
    responses = yaml.safe_load((ROOT / "bot" / "dialogue" / "domain" / "faq.yml").read_text(encoding="utf-8"))["responses"]
    topics = {i for i in by_intent if i.startswith("consult/")}
    assert {f"utter_{t}" for t in topics} == set(responses)


def test_regex_entities_agree_with_the_domain():
    _, regexes = training_examples()
    [phone] = regexes["phone_number"]
    [ticket] = regexes["ticket_id"]
    assert PHONE_PATTERN in phone
    for text in ("电话13812345678谢谢", "13900001111"):
        assert re.search(phone, text)
    assert not re.search(phone, "138123456789")
    for number in ("TS261122-K7Q4M9XD", "ts261122k7q4m9xd"):
        assert re.search(ticket, f"查一下{number}呢")
        assert ticket_numbers.find(number) == "TS261122-K7Q4M9XD"
