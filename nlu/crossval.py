"""K-fold cross-validation of the NLU pipeline, grouped by template: `make crossval`.

Generated examples that come from one template (nlu/generate/) are near-copies of each other; if
some sat in the training folds and others in the test fold, the score would measure memory, not
generalisation. Every generated example is therefore grouped by its template id (kept in the
example's metadata), and every hand-written example is its own group. Each fold trains the real NLU
pipeline (nlu/config.yml) with Rasa on the other folds and parses the held-back fold.

`python -m nlu.crossval [--folds 5] [--json OUT]` prints accuracy, macro-F1, escalate recall and
precision per fold and over all folds, and the most frequent confusions.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

from nlu.evaluate import Example, predict, quiet, report_for

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "nlu" / "data"
CONFIG = ROOT / "nlu" / "config.yml"
DOMAIN = ROOT / "bot" / "dialogue" / "domain"


def load_training() -> Tuple[Any, List[Any], List[str]]:
    """Rasa's training data, its intent examples, and each example's group."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(DATA), language="zh")
    examples = [e for e in data.intent_examples if e.get("text")]
    groups = []
    for example in examples:
        template = ((example.get("metadata") or {}).get("example") or {}).get("template")
        groups.append(f"template:{template}" if template else f"text:{example.get('text')}")
    return data, examples, groups


def _label(example: Any) -> Example:
    intent = example.get("intent")
    key = example.get("intent_response_key") or ""
    return Example(example.get("text"), intent, key.partition("/")[2] or None)


def _write(examples: Sequence[Any], path: Path) -> None:
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData

    path.write_text(RasaYAMLWriter().dumps(TrainingData(training_examples=list(examples))), encoding="utf-8")


def _train(examples: Sequence[Any], workdir: Path) -> Path:
    from rasa.model_training import train_nlu

    data = workdir / "nlu.yml"
    _write(examples, data)
    model = train_nlu(str(CONFIG), str(data), str(workdir), fixed_model_name="fold", domain=str(DOMAIN))
    if not model:
        raise RuntimeError("training a fold failed")
    return Path(model)


def crossvalidate(folds: int = 5) -> Dict[str, Any]:
    from sklearn.model_selection import GroupKFold

    _, examples, groups = load_training()
    labelled = [_label(e) for e in examples]
    per_fold = []
    all_gold: List[Example] = []
    all_parsed = []
    for index, (train, test) in enumerate(GroupKFold(n_splits=folds).split(examples, groups=groups)):
        with tempfile.TemporaryDirectory() as directory:
            model = _train([examples[i] for i in train], Path(directory))
            held = [labelled[i] for i in test]
            parsed, _ = predict(model, [e.text for e in held])
        report = report_for(f"fold {index + 1}", held, parsed)
        per_fold.append(report)
        all_gold += held
        all_parsed += parsed
        print(f"fold {index + 1}: {len(held)} messages, accuracy {report.accuracy:.3f}", file=sys.stderr)
    overall = report_for("all folds", all_gold, all_parsed)
    return {"folds": per_fold, "overall": overall, "groups": len(set(groups)), "examples": len(examples)}


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv or None)
    quiet()
    result = crossvalidate(args.folds)
    print(f"{result['examples']} training examples in {result['groups']} groups, {args.folds} folds grouped by template")
    print("fold          n   accuracy  macro-F1  esc.rec  esc.prec  fallback")
    for report in [*result["folds"], result["overall"]]:
        rec = "   -  " if report.escalate_recall is None else f"{report.escalate_recall:6.3f}"
        prec = "   -  " if report.escalate_precision is None else f"{report.escalate_precision:6.3f}"
        print(f"{report.name:<11}{report.total:>5}   {report.accuracy:6.3f}    {report.macro_f1:6.3f}   {rec}   {prec}    {report.fallback_rate:6.3f}")
    pairs = Counter()
    for gold, parsed, n in result["overall"].confusions:
        pairs[(gold, parsed)] = n
    print("confusions: " + ", ".join(f"{g}->{p} {n}" for (g, p), n in pairs.most_common(10)))
    if args.json:
        payload = {"overall": result["overall"].__dict__, "folds": [r.__dict__ for r in result["folds"]]}
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
