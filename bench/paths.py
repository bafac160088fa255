"""Where things are."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
STOCK = BENCH / "stock"
RESULTS = BENCH / "results"
MODELS = ROOT / "models"
PYTHON = ROOT / ".venv" / "bin" / "python"
