"""Compositional training-data generator for the NLU intent classifier.

Hand-written examples (``nlu/data/*.yml``) carry the domain knowledge; this package adds
variants of the messages customers write most and of the phrasings the classifier confuses
(self-service commands, status questions that mention 退款/投诉, complaints that mention a hotline,
...). Each template is a small composition of lexicon slots plus deterministic noise, so the
output is reproducible and reviewable in diffs:

    python -m nlu.generate           # writes nlu/data/generated.yml
    python -m nlu.generate --check   # exits 1 when the committed file is stale

Every example carries ``metadata.template`` so grouped cross-validation can keep all variants
of one template on the same side of a split (otherwise near-duplicates inflate the scores).
"""

from nlu.generate.build import GENERATED_PATH, build_examples, render_yaml

__all__ = ["GENERATED_PATH", "build_examples", "render_yaml"]
