"""Intent evaluation on the held-out sets (never trained on): `make eval`.

Every file in `nlu/heldout/*.yml` is one set, and the sets were made by different procedures so that
no single writer's style flatters the model (see `nlu/heldout/README.md`). For each set this prints
accuracy (``nlu_fallback`` counts as wrong: the customer was not understood), macro-F1, escalate
recall and precision, the fallback rate, the FAQ topic accuracy where topics are labelled, and the
most frequent confusion pairs; then the same figures over all sets, the parse latency, and whether
each acceptance target holds.

`python -m nlu.evaluate [MODEL] [--set NAME ...] [--errors] [--json OUT] [--strict]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
HELDOUT_DIR = ROOT / "nlu" / "heldout"
HELDOUT = HELDOUT_DIR / "heldout.yml"
FALLBACK = "nlu_fallback"
ESCALATE = "escalate"

# The acceptance targets of the NLU (issue 13); `--strict` exits 1 when one is missed.
TARGET_ACCURACY = 0.95
TARGET_ESCALATE_RECALL = 0.99
TARGET_ESCALATE_PRECISION = 0.90
TARGET_FALLBACK_RATE = 0.03
TARGET_PARSE_P95_MS = 25.0


@dataclass(frozen=True)
class Example:
    text: str
    intent: str  # `consult/<topic>` collapsed to `consult`
    topic: Optional[str]  # the labelled FAQ topic, if any


@dataclass(frozen=True)
class Parsed:
    intent: str  # what the dialogue sees (nlu_fallback included)
    top: str  # the best real intent, ignoring the fallback threshold
    confidence: float
    margin: float  # how far ahead of the second reading the best one is
    topic: Optional[str]  # the response selector's pick for consultations


@dataclass
class Report:
    name: str
    total: int
    accuracy: float
    macro_f1: float
    fallback_rate: float
    accuracy_without_fallback: float
    escalate_recall: Optional[float]
    escalate_precision: Optional[float]
    topic_accuracy: Optional[float]
    topic_total: int
    per_intent: Dict[str, Dict[str, float]]
    confusions: List[Tuple[str, str, int]]
    latency_ms_p50: float = 0.0
    latency_ms_p95: float = 0.0
    errors: List[Tuple[str, str, str]] = field(default_factory=list)

    def recall(self, intent: str) -> float:
        return self.per_intent[intent]["recall"]

    def misses(self) -> List[str]:
        """The acceptance targets this set does not meet, in words."""
        out = []
        if self.accuracy < TARGET_ACCURACY:
            out.append(f"accuracy {self.accuracy:.3f} < {TARGET_ACCURACY}")
        if self.escalate_recall is not None and self.escalate_recall < TARGET_ESCALATE_RECALL:
            out.append(f"escalate recall {self.escalate_recall:.3f} < {TARGET_ESCALATE_RECALL}")
        if self.escalate_precision is not None and self.escalate_precision < TARGET_ESCALATE_PRECISION:
            out.append(f"escalate precision {self.escalate_precision:.3f} < {TARGET_ESCALATE_PRECISION}")
        if self.fallback_rate > TARGET_FALLBACK_RATE:
            out.append(f"fallback rate {self.fallback_rate:.3f} > {TARGET_FALLBACK_RATE}")
        return out


def heldout_sets(directory: Path = HELDOUT_DIR) -> Dict[str, Path]:
    """Every held-out set by name (the file's stem)."""
    return {path.stem: path for path in sorted(directory.glob("*.yml"))}


def load_examples(path: Path) -> List[Example]:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    examples = []
    for block in data["nlu"]:
        if "intent" not in block:
            continue
        label = block["intent"]
        intent, _, topic = label.partition("/")
        raw = block["examples"]
        lines = raw.splitlines() if isinstance(raw, str) else [item["text"] for item in raw]
        for line in lines:
            line = line.strip()
            if isinstance(raw, str):
                if not line.startswith("- "):
                    continue
                line = line[2:].strip()
            if line:
                examples.append(Example(line, intent, topic or None))
    return examples


def load_heldout(path: Path = HELDOUT) -> List[Tuple[str, str]]:
    """(text, intent) pairs; `consult/<topic>` labels count as `consult`."""
    return [(e.text, e.intent) for e in load_examples(path)]


def _parsed(result: Dict[str, Any]) -> Parsed:
    ranking = [r for r in result.get("intent_ranking") or [] if r.get("name") != FALLBACK]
    selected = ((result.get("response_selector") or {}).get("consult") or {}).get("response") or {}
    key = selected.get("intent_response_key") or ""
    confidences = [float(r.get("confidence") or 0.0) for r in ranking[:2]] + [0.0, 0.0]
    return Parsed(
        intent=result["intent"]["name"],
        top=ranking[0]["name"] if ranking else FALLBACK,
        confidence=confidences[0],
        margin=confidences[0] - confidences[1],
        topic=key.partition("/")[2] or None,
    )


async def _predict(model: Path, texts: Sequence[str]) -> Tuple[List[Parsed], List[float]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    parsed, latencies = [], []
    for text in texts:
        started = time.perf_counter()
        result = await agent.parse_message(text)
        latencies.append((time.perf_counter() - started) * 1000)
        parsed.append(_parsed(result))
    return parsed, latencies


def predict(model: Path, texts: Sequence[str]) -> Tuple[List[Parsed], List[float]]:
    """Parse every text with the model, one at a time (as the server does), timing each parse."""
    return asyncio.run(_predict(model, texts))


def report_for(name: str, examples: Sequence[Example], parsed: Sequence[Parsed]) -> Report:
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    gold = [e.intent for e in examples]
    final = [p.intent for p in parsed]
    top = [p.top for p in parsed]
    labels = sorted(set(gold))
    precision, recall, f1, support = precision_recall_fscore_support(gold, final, labels=labels, zero_division=0)
    per_intent = {
        label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for label, p, r, f, s in zip(labels, precision, recall, f1, support)
    }
    said_escalate = sum(1 for p in final if p == ESCALATE)
    true_escalate = sum(1 for g in gold if g == ESCALATE)
    hits = sum(1 for g, p in zip(gold, final) if g == p == ESCALATE)
    topics = [(e.topic, p.topic) for e, p in zip(examples, parsed) if e.topic and p.intent == "consult"]
    labelled_topics = sum(1 for e in examples if e.topic)
    pairs = Counter((g, p) for g, p in zip(gold, final) if g != p)
    return Report(
        name=name,
        total=len(examples),
        accuracy=float(accuracy_score(gold, final)),
        macro_f1=float(sum(f1) / len(f1)) if len(f1) else 0.0,
        fallback_rate=final.count(FALLBACK) / len(final),
        accuracy_without_fallback=float(accuracy_score(gold, top)),
        escalate_recall=hits / true_escalate if true_escalate else None,
        escalate_precision=hits / said_escalate if said_escalate else (None if not true_escalate else 0.0),
        # Of the labelled consultations read as consultations, how many got the right FAQ answer.
        topic_accuracy=sum(1 for want, got in topics if want == got) / len(topics) if topics else None,
        topic_total=labelled_topics,
        per_intent=per_intent,
        confusions=[(g, p, n) for (g, p), n in pairs.most_common()],
        errors=[(e.text, e.intent, p.intent) for e, p in zip(examples, parsed) if e.intent != p.intent],
    )


def evaluate(model: Path, heldout: Path = HELDOUT) -> Report:
    """One set's report (the tests' entry point)."""
    return evaluate_sets(model, {heldout.stem: heldout})[heldout.stem]


def evaluate_sets(model: Path, sets: Dict[str, Path]) -> Dict[str, Report]:
    """A report per set plus `all` over every set, from one pass of the model."""
    return _evaluate(model, sets)[0]


def _evaluate(model: Path, sets: Dict[str, Path]) -> Tuple[Dict[str, Report], List[Tuple[float, float, float, float, float]]]:
    """The reports, and the fallback calibration table over every set, from one pass of the model."""
    examples = {name: load_examples(path) for name, path in sets.items()}
    texts = [e.text for name in sets for e in examples[name]]
    parsed, latencies = predict(model, texts)
    reports: Dict[str, Report] = {}
    start = 0
    for name in sets:
        n = len(examples[name])
        reports[name] = report_for(name, examples[name], parsed[start : start + n])
        start += n
    if len(sets) > 1:
        reports["all"] = report_for("all", [e for name in sets for e in examples[name]], parsed)
    everything = [e for name in sets for e in examples[name]]
    quantiles = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else latencies * 19
    for report in reports.values():
        report.latency_ms_p50 = statistics.median(latencies)
        report.latency_ms_p95 = quantiles[18]
    return reports, calibration(everything, parsed)


def calibration(examples: Sequence[Example], parsed: Sequence[Parsed]) -> List[Tuple[float, float, float, float, float]]:
    """What each fallback threshold and ambiguity margin would do on these messages.

    For each pair: (threshold, margin, fallback rate, accuracy, share read wrongly without falling
    back). A message falls back when its best reading is below the threshold or less than the margin
    ahead of the second one (Rasa's FallbackClassifier). The escalation rules are applied after the
    fallback and are not part of this table.
    """
    rows = []
    right = [p.top == e.intent for e, p in zip(examples, parsed)]
    for threshold in (0.2, 0.25, 0.3, 0.35, 0.4):
        for margin in (0.0, 0.02, 0.05, 0.1):
            fell = [p.confidence < threshold or p.margin < margin for p in parsed]
            n = len(parsed)
            rows.append((
                threshold,
                margin,
                sum(fell) / n,
                sum(r and not f for r, f in zip(right, fell)) / n,
                sum((not r) and not f for r, f in zip(right, fell)) / n,
            ))
    return rows


def _fmt(value: Optional[float]) -> str:
    return "   -  " if value is None else f"{value:6.3f}"


def render(reports: Dict[str, Report], errors: bool = False) -> str:
    out = [
        "set               n   accuracy  macro-F1  esc.rec  esc.prec  fallback  topic   (targets: acc >= "
        f"{TARGET_ACCURACY}, esc. recall >= {TARGET_ESCALATE_RECALL}, precision >= {TARGET_ESCALATE_PRECISION}, "
        f"fallback <= {TARGET_FALLBACK_RATE})",
    ]
    for name, r in reports.items():
        mark = "" if not r.misses() else "  <- " + "; ".join(r.misses())
        out.append(
            f"{name:<14}{r.total:>5}   {r.accuracy:6.3f}    {r.macro_f1:6.3f}   {_fmt(r.escalate_recall)}   "
            f"{_fmt(r.escalate_precision)}    {r.fallback_rate:6.3f}  {_fmt(r.topic_accuracy)}{mark}"
        )
    any_report = next(iter(reports.values()))
    out.append(
        f"\nparse latency: p50 {any_report.latency_ms_p50:.1f} ms, p95 {any_report.latency_ms_p95:.1f} ms "
        f"(target p95 <= {TARGET_PARSE_P95_MS:.0f} ms)"
    )
    for name, r in reports.items():
        if not r.confusions:
            continue
        top = ", ".join(f"{g}->{p} {n}" for g, p, n in r.confusions[:8])
        out.append(f"confusions [{name}]: {top}")
    overall = reports.get("all") or any_report
    out += ["", f"per intent over {overall.name} ({overall.total} messages)",
            f"{'intent':<22}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}"]
    for label, m in overall.per_intent.items():
        out.append(f"{label:<22}{m['precision']:>10.3f}{m['recall']:>10.3f}{m['f1']:>10.3f}{m['support']:>9}")
    if errors:
        for name, r in reports.items():
            if name == "all" or not r.errors:
                continue
            out += ["", f"misread in {name} ({len(r.errors)}):"]
            out += [f"  [{gold} -> {pred}] {text}" for text, gold, pred in r.errors]
    return "\n".join(out)


def quiet() -> None:
    """Rasa and TensorFlow talk a lot while loading; the figures are what matters here."""
    logging.disable(logging.WARNING)
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def current_model() -> Path:
    sys.path.insert(0, str(ROOT / "scripts"))
    from train import model_path

    return model_path()


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", help="model archive (default: the current trained model)")
    parser.add_argument("--set", action="append", dest="sets", help="only this held-out set (repeatable)")
    parser.add_argument("--heldout-dir", type=Path, default=HELDOUT_DIR)
    parser.add_argument("--errors", action="store_true", help="list every misread message")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--calibrate", action="store_true", help="print the fallback threshold/margin trade-off")
    args = parser.parse_args(argv or None)
    quiet()
    model = Path(args.model) if args.model else current_model()
    if not model.exists():
        print(f"no model at {model}; run `make train` first", file=sys.stderr)
        return 2
    sets = heldout_sets(args.heldout_dir)
    if args.sets:
        unknown = set(args.sets) - set(sets)
        if unknown:
            print(f"unknown set(s): {', '.join(sorted(unknown))}; known: {', '.join(sets)}", file=sys.stderr)
            return 2
        sets = {name: sets[name] for name in args.sets}
    reports, table = _evaluate(model, sets)
    print(f"model: {model.name}")
    print(render(reports, errors=args.errors))
    if args.calibrate:
        print("\nfallback calibration over every set (threshold, ambiguity margin -> fallback, accuracy, wrong)")
        for threshold, margin, fell, right, wrong in table:
            print(f"  {threshold:.2f}  {margin:.2f}  ->  {fell:6.3f}  {right:6.3f}  {wrong:6.3f}")
    if args.json:
        args.json.write_text(
            json.dumps({name: asdict(r) for name, r in reports.items()}, ensure_ascii=False, indent=2), encoding="utf-8"
        )
    missed = [f"{name}: {m}" for name, r in reports.items() for m in r.misses()]
    latency = next(iter(reports.values())).latency_ms_p95
    if latency > TARGET_PARSE_P95_MS:
        missed.append(f"parse p95 {latency:.1f} ms > {TARGET_PARSE_P95_MS:.0f} ms")
    print("\ntargets: " + ("all met" if not missed else f"{len(missed)} missed"))
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
