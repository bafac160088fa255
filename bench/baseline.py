"""The stock Rasa baseline model: the textbook pipeline in `bench/stock/config.yml`, trained once.

The model is named after a hash of that config and of everything else it is trained from (the same
NLU data, domain and rules as ours, and the pinned dependencies), so it is trained only when one of
them changes. The training time is kept next to the model (`models/stock-<hash>.seconds`).
"""

from __future__ import annotations

import fcntl
import hashlib
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

from bench.paths import MODELS, ROOT, STOCK

CONFIG = STOCK / "config.yml"
DOMAIN = ROOT / "bot" / "dialogue" / "domain"
TRAINING_DATA = [ROOT / "nlu" / "data", ROOT / "bot" / "dialogue" / "rules.yml"]
INPUTS = [CONFIG, DOMAIN, *TRAINING_DATA, ROOT / "requirements.lock"]


@dataclass(frozen=True)
class TrainedModel:
    path: Path
    training_seconds: float
    trained_now: bool


def fingerprint() -> str:
    digest = hashlib.sha256()
    for base in INPUTS:
        files = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else [base]
        for path in files:
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_trained(env: Dict[str, str], log: Path) -> TrainedModel:
    """The cached stock model, trained first if its inputs changed (Rasa's output goes to `log`)."""
    name = f"stock-{fingerprint()}"
    target = MODELS / f"{name}.tar.gz"
    seconds_file = MODELS / f"{name}.seconds"
    MODELS.mkdir(exist_ok=True)
    with open(MODELS / ".stock-train.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists() and seconds_file.exists():
            return TrainedModel(target, float(seconds_file.read_text()), trained_now=False)
        print(f"training the stock Rasa baseline ({CONFIG.relative_to(ROOT)}); this takes several minutes ...",
              file=sys.stderr, flush=True)
        command: List[str] = [
            sys.executable, "-m", "rasa", "train",
            "--config", str(CONFIG),
            "--domain", str(DOMAIN),
            "--data", *map(str, TRAINING_DATA),
            "--out", str(MODELS),
            "--fixed-model-name", name,
        ]
        started = time.monotonic()
        with open(log, "ab") as out:
            result = subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        elapsed = time.monotonic() - started
        if result.returncode != 0 or not target.exists():
            tail = log.read_text(errors="replace")[-4000:]
            raise RuntimeError(f"training the stock model failed (exit {result.returncode}):\n{tail}")
        seconds_file.write_text(f"{elapsed:.1f}\n")
        for old in MODELS.glob("stock-*"):  # keep only the current baseline (~100 MB each)
            if old.name not in (target.name, seconds_file.name):
                old.unlink()
        return TrainedModel(target, elapsed, trained_now=True)
