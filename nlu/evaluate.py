"""Intent evaluation on the held-out file (never trained on): `make eval`.

Prints accuracy, macro-F1, per-intent precision/recall/F1, the confusion matrix, the share of
messages that fell back (nlu_fallback counts as wrong: the customer was not understood) and
the parse latency. `python -m nlu.evaluate [MODEL] [--heldout FILE] [--json OUT]`.
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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "nlu" / "heldout" / "heldout.yml"
FALLBACK = "nlu_fallback"


@dataclass
class Report:
    total: int
    accuracy: float
    macro_f1: float
    fallback_rate: float
    accuracy_without_fallback: float
    per_intent: Dict[str, Dict[str, float]]
    labels: List[str]
    confusion: List[List[int]]
    latency_ms_p50: float
    latency_ms_p95: float
    errors: List[Tuple[str, str, str]] = field(default_factory=list)

    def recall(self, intent: str) -> float:
        return self.per_intent[intent]["recall"]


def load_heldout(path: Path = HELDOUT) -> List[Tuple[str, str]]:
    """(text, intent) pairs; `consult/<topic>` labels count as `consult`."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    pairs = []
    for block in data["nlu"]:
        intent = block["intent"].split("/")[0]
        for line in block["examples"].splitlines():
            line = line.strip()
            if line.startswith("- "):
                pairs.append((line[2:].strip(), intent))
    return pairs


async def _predict(model: Path, texts: Sequence[str]) -> Tuple[List[str], List[str], List[float]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    final, top, latencies = [], [], []
    for text in texts:
        started = time.perf_counter()
        parsed = await agent.parse_message(text)
        latencies.append((time.perf_counter() - started) * 1000)
        final.append(parsed["intent"]["name"])
        ranking = [r["name"] for r in parsed.get("intent_ranking", []) if r["name"] != FALLBACK]
        top.append(ranking[0] if ranking else FALLBACK)
    return final, top, latencies


def evaluate(model: Path, heldout: Path = HELDOUT) -> Report:
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    pairs = load_heldout(heldout)
    texts = [t for t, _ in pairs]
    gold = [i for _, i in pairs]
    final, top, latencies = asyncio.run(_predict(model, texts))
    labels = sorted(set(gold))
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, final, labels=labels, zero_division=0
    )
    per_intent = {
        label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for label, p, r, f, s in zip(labels, precision, recall, f1, support)
    }
    matrix_labels = labels + ([FALLBACK] if FALLBACK in final else [])
    quantiles = statistics.quantiles(latencies, n=20)
    return Report(
        total=len(pairs),
        accuracy=float(accuracy_score(gold, final)),
        macro_f1=float(sum(f1) / len(f1)),
        fallback_rate=final.count(FALLBACK) / len(final),
        accuracy_without_fallback=float(accuracy_score(gold, top)),
        per_intent=per_intent,
        labels=matrix_labels,
        confusion=confusion_matrix(gold, final, labels=matrix_labels).tolist(),
        latency_ms_p50=statistics.median(latencies),
        latency_ms_p95=quantiles[18],
        errors=[(t, g, p) for t, g, p in zip(texts, gold, final) if g != p],
    )


def render(report: Report) -> str:
    out = [
        f"held-out utterances: {report.total}",
        f"accuracy:            {report.accuracy:.3f}   (nlu_fallback counts as wrong)",
        f"macro-F1:            {report.macro_f1:.3f}",
        f"escalate recall:     {report.recall('escalate'):.3f}",
        f"fallback rate:       {report.fallback_rate:.3f}",
        f"top-intent accuracy: {report.accuracy_without_fallback:.3f}   (ignoring the fallback threshold)",
        f"parse latency:       p50 {report.latency_ms_p50:.1f} ms, p95 {report.latency_ms_p95:.1f} ms",
        "",
        f"{'intent':<22}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}",
    ]
    for label, m in report.per_intent.items():
        out.append(f"{label:<22}{m['precision']:>10.3f}{m['recall']:>10.3f}{m['f1']:>10.3f}{m['support']:>9}")
    short = [label.replace("complain_", "c_").replace("check_ticket_status", "status")[:9] for label in report.labels]
    out += ["", "confusion matrix (rows: true, columns: predicted)", " " * 22 + "".join(f"{s:>10}" for s in short)]
    for label, row in zip(report.labels, report.confusion):
        if any(row) or label != FALLBACK:
            out.append(f"{label:<22}" + "".join(f"{n:>10}" for n in row))
    if report.errors:
        out += ["", f"misclassified ({len(report.errors)}):"]
        out += [f"  [{gold} -> {pred}] {text}" for text, gold, pred in report.errors]
    return "\n".join(out)


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", help="model archive (default: the current trained model)")
    parser.add_argument("--heldout", type=Path, default=HELDOUT)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv or None)
    logging.disable(logging.WARNING)
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.model:
        model = Path(args.model)
    else:
        sys.path.insert(0, str(ROOT / "scripts"))
        from train import model_path

        model = model_path()
    if not model.exists():
        print(f"no model at {model}; run `make train` first", file=sys.stderr)
        return 2
    report = evaluate(model, args.heldout)
    print(f"model: {model.name}")
    print(render(report))
    if args.json:
        args.json.write_text(json.dumps(asdict(report), ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
