"""Train the model only when its inputs changed.

The model's name is a hash of everything that shapes it (pipeline config, NLU data, Jieba
dictionary, dialogue domain and rules, pinned dependency versions), so an unchanged checkout
reuses `models/<hash>.tar.gz` and a changed one trains once. Prints the model path.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
CONFIG = ROOT / "nlu" / "config.yml"
DOMAIN = ROOT / "bot" / "dialogue" / "domain"
TRAINING_DATA = [ROOT / "nlu" / "data", ROOT / "bot" / "dialogue" / "rules.yml"]
# The pipeline's own trainable components are code the model is made by, so they count as inputs too.
INPUTS = [
    CONFIG,
    ROOT / "nlu" / "data",
    ROOT / "nlu" / "jieba",
    ROOT / "nlu" / "linear.py",
    ROOT / "nlu" / "tokenizer.py",
    ROOT / "bot" / "simplified.py",
    ROOT / "bot" / "dialogue",
    ROOT / "requirements.lock",
]


def fingerprint() -> str:
    digest = hashlib.sha256()
    for base in INPUTS:
        files = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else [base]
        for path in files:
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_path() -> Path:
    return MODELS / f"intake-{fingerprint()}.tar.gz"


def train() -> Path:
    target = model_path()
    MODELS.mkdir(exist_ok=True)
    with open(MODELS / ".train.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one training at a time, others wait and reuse it
        if target.exists():
            print(f"model up to date: {target.relative_to(ROOT)}", file=sys.stderr)
            return target
        print("training the model (config or data changed) ...", file=sys.stderr)
        started = time.monotonic()
        command = [
            sys.executable, "-m", "rasa", "train",
            "--config", str(CONFIG),
            "--domain", str(DOMAIN),
            "--data", *map(str, TRAINING_DATA),
            "--out", str(MODELS),
            "--fixed-model-name", target.name[: -len(".tar.gz")],
        ]
        # Rasa's own training cache keys a component's output on its config and inputs, not on its
        # code: with it, a change to nlu/linear.py would give a new model name and the old classifier.
        # The fingerprint above already decides when to train, so the cache has nothing to add.
        env = {**os.environ, "RASA_MAX_CACHE_SIZE": "0"}
        subprocess.run(command, cwd=ROOT, check=True, env=env)
        elapsed = time.monotonic() - started
        (MODELS / "TRAINING_SECONDS").write_text(f"{elapsed:.0f}\n")
        # Each model is ~250 MB: keep the current one and the two newest others (other branches and
        # worktrees sharing this folder, switching back and forth).
        others = sorted((p for p in MODELS.glob("intake-*.tar.gz") if p != target), key=lambda p: p.stat().st_mtime)
        for old in others[:-2]:
            old.unlink()
        print(f"trained in {elapsed:.0f} s: {target.relative_to(ROOT)}", file=sys.stderr)
        return target


if __name__ == "__main__":
    if sys.argv[1:] == ["--path"]:
        print(model_path())
    else:
        print(train())
