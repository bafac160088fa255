"""The compositional NLU data generator (nlu/generate/) and its committed output.

The generated file is training data, so it is held to the same rules as hand-written data and to a
few of its own: it must be what the generator produces now (so that template changes are reviewed
as diffs), the same on every run and machine, traceable to a template, a bounded share of each
label, and disjoint from the held-out evaluation set. No model is needed; the tests read YAML only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import yaml

from nlu.generate import __main__ as cli
from nlu.generate.build import GENERATED_PATH, generate
from nlu.generate.templates import TEMPLATES

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "nlu" / "data"
HELDOUT_DIR = ROOT / "nlu" / "heldout"
DOMAIN_DIR = ROOT / "bot" / "dialogue" / "domain"
NEW_TOPICS = {"lost_phone", "broadband_move", "points", "data_packs", "call_features", "general"}
ENTITY = re.compile(r"\[([^\]]+)\]\([^)]*\)")


def _examples(text: str):
    return [ENTITY.sub(r"\1", line.strip()[2:].strip()) for line in text.splitlines() if line.strip().startswith("- ")]


@pytest.fixture(scope="module")
def generated():
    """(label, text, template) for every committed generated example."""
    doc = yaml.safe_load(GENERATED_PATH.read_text(encoding="utf-8"))
    assert doc["version"] == "3.1"
    rows = []
    for item in doc["nlu"]:
        assert isinstance(item["examples"], list), "generated examples must carry per-example metadata"
        for example in item["examples"]:
            rows.append((item["intent"], example["text"], (example.get("metadata") or {}).get("template")))
    return rows


@pytest.fixture(scope="module")
def hand_written():
    """Label -> hand-written texts, read independently of the generator's own reader."""
    out = {}
    for path in sorted(DATA_DIR.glob("*.yml")):
        if path == GENERATED_PATH:
            continue
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if "intent" in item:
                examples = item["examples"]
                texts = _examples(examples) if isinstance(examples, str) else [e["text"] for e in examples]
                out.setdefault(item["intent"], []).extend(texts)
    return out


def test_committed_file_is_up_to_date(capsys):
    assert GENERATED_PATH.read_text(encoding="utf-8") == generate(), (
        "nlu/data/generated.yml is stale: run `python -m nlu.generate` and review the diff"
    )
    assert cli.main(["--check"]) == 0


def test_check_fails_on_a_stale_file(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "generated.yml"
    stale.write_text(GENERATED_PATH.read_text(encoding="utf-8") + "# edited by hand\n", encoding="utf-8")
    monkeypatch.setattr(cli, "GENERATED_PATH", stale)
    monkeypatch.setattr(cli, "ROOT", tmp_path)
    assert cli.main(["--check"]) == 1


def test_generation_is_deterministic_across_runs_and_hash_seeds():
    first = generate()
    assert generate() == first
    code = "import sys; from nlu.generate.build import generate; sys.stdout.write(generate())"
    for seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, check=True)
        assert out.stdout.decode("utf-8") == first, f"output differs with PYTHONHASHSEED={seed}"


def test_every_example_names_its_template(generated):
    labels = {t.id: t.label for t in TEMPLATES}
    assert len(labels) == len(TEMPLATES), "template ids must be unique"
    for label, text, template in generated:
        assert template, f"no template id on {text!r}"
        assert labels.get(template) == label, f"{text!r}: template {template} does not produce {label}"


def test_share_cap_and_variant_limits(generated, hand_written):
    per_label = Counter(label for label, _, _ in generated)
    per_template = Counter(template for _, _, template in generated)
    for label, count in per_label.items():
        topic = label.split("/", 1)[1] if label.startswith("consult/") else None
        if topic in NEW_TOPICS:
            cap = 12
        else:
            cap = max(8, int(len(hand_written.get(label, [])) * 0.3))
        assert count <= cap, f"{label}: {count} generated lines, cap {cap}"
        assert count >= 8, f"{label}: only {count} generated lines"
    assert max(per_template.values()) <= 6
    assert not [t.id for t in TEMPLATES if per_template[t.id] == 0], "templates that produce nothing"


def test_lines_are_unique_new_and_well_formed(generated, hand_written):
    texts = [text for _, text, _ in generated]
    assert len(texts) == len(set(texts)), "duplicate generated lines"
    labels_of = {}
    for label, text, _ in generated:
        labels_of.setdefault(text, set()).add(label)
    assert not [t for t, ls in labels_of.items() if len(ls) > 1], "same text under two labels"
    hand = {t for texts_ in hand_written.values() for t in texts_}
    assert not [t for t in texts if t in hand], "generated lines that repeat hand-written lines"
    assert all(2 <= len(t) <= 120 for t in texts)


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in text if not unicodedata.category(c).startswith(("P", "S", "Z", "C")))


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _heldout_texts():
    """Every line, list item, table cell and string value found in the held-out files."""
    found = set()

    def add(value: str) -> None:
        for line in value.splitlines():
            line = line.strip()
            for candidate in (line, re.sub(r"^([-*>]|\d+[.)])\s*", "", line)):
                candidate = ENTITY.sub(r"\1", candidate).strip().strip('"').strip("'")
                if candidate:
                    found.add(_normalise(candidate))
            for cell in re.split(r"\t|\|", line):
                cell = ENTITY.sub(r"\1", cell).strip().strip('"').strip("'").strip()
                if cell:
                    found.add(_normalise(cell))

    for path in sorted(p for p in HELDOUT_DIR.rglob("*") if p.is_file()):
        raw = path.read_text(encoding="utf-8", errors="replace")
        add(raw)
        if path.suffix in (".yml", ".yaml"):
            try:
                for value in _strings(yaml.safe_load(raw)):
                    add(value)
            except yaml.YAMLError:
                pass
        for line in raw.splitlines():
            if line.strip().startswith(("{", "[")):
                try:
                    for value in _strings(json.loads(line)):
                        add(value)
                except ValueError:
                    pass
    found.discard("")
    return found


def test_no_generated_line_is_in_the_heldout_set(generated):
    """Generated lines must not leak into the evaluation set (compared by text, punctuation-blind).

    The failure message names only template ids, never the held-out text, so that people writing
    training data keep not seeing the held-out set.
    """
    if not HELDOUT_DIR.exists():
        pytest.skip("no held-out set")
    heldout = _heldout_texts()
    leaks = sorted({template for _, text, template in generated if _normalise(text) in heldout})
    assert not leaks, f"{len(leaks)} template(s) produce held-out lines; rewrite them: {', '.join(leaks)}"


def test_every_label_is_known_to_the_domain(generated):
    main = yaml.safe_load((DOMAIN_DIR / "main.yml").read_text(encoding="utf-8"))
    intents = {i if isinstance(i, str) else next(iter(i)) for i in main["intents"]}
    faq = yaml.safe_load((DOMAIN_DIR / "faq.yml").read_text(encoding="utf-8"))
    topics = {key.split("/", 1)[1] for key in faq["responses"] if key.startswith("utter_consult/")} | NEW_TOPICS
    for label in sorted({label for label, _, _ in generated}):
        if label.startswith("consult/"):
            assert "consult" in intents and label.split("/", 1)[1] in topics, label
        else:
            assert label in intents, label
