"""Command line: ``python -m nlu.generate [--check] [--stats]``.

Without options the generator rewrites ``nlu/data/generated.yml``. ``--check`` only compares the
committed file with what would be generated and exits 1 when they differ, so that CI catches a
template change whose output was not regenerated and reviewed in the diff.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from nlu.generate.build import GENERATED_PATH, ROOT, build_examples, label_cap, read_hand_written, render_yaml
from nlu.generate.templates import TEMPLATES


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlu.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed file is out of date")
    parser.add_argument("--stats", action="store_true", help="print lines per label and per template")
    args = parser.parse_args(argv)

    hand = read_hand_written()
    examples = build_examples(TEMPLATES, hand)
    text = render_yaml(examples)
    relative = GENERATED_PATH.relative_to(ROOT)

    if args.stats:
        per_template = Counter(v.template for variants in examples.values() for v in variants)
        print(f"{len(TEMPLATES)} templates, {sum(len(v) for v in examples.values())} lines")
        for label, variants in examples.items():
            cap = label_cap(label, len(hand.get(label, [])))
            print(f"  {label:34} {len(variants):3} / cap {cap:3}  (hand-written {len(hand.get(label, []))})")
        thin = [t.id for t in TEMPLATES if per_template[t.id] == 0]
        if thin:
            print("templates with no line:", ", ".join(thin))

    if args.check:
        current = GENERATED_PATH.read_text(encoding="utf-8") if GENERATED_PATH.exists() else None
        if current != text:
            print(f"{relative} is out of date: run `python -m nlu.generate` and review the diff", file=sys.stderr)
            return 1
        print(f"{relative} is up to date")
        return 0

    if not args.stats:
        GENERATED_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {relative}: {sum(len(v) for v in examples.values())} lines from {len(TEMPLATES)} templates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
