"""Conversation tests in Rasa's own format (tests/conversations/), run by `rasa test core`.

Each story walks one of the dialogue failures customers met through the real model: every user turn
must be read as the story says, and every action must be the one the policies predict. A changed
rule (say, "deny" cancelling a complaint again) or a model that reads a plan change as a complaint
makes `rasa test` exit non-zero.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_conversation_stories_pass_through_the_real_model(trained_model, tmp_path):
    result = subprocess.run(
        [
            sys.executable, "-m", "rasa", "test", "core",
            "--model", str(trained_model),
            "--stories", str(ROOT / "tests" / "conversations"),
            "--out", str(tmp_path),
            "--fail-on-prediction-errors",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    failed = tmp_path / "failed_test_stories.yml"
    report = failed.read_text(encoding="utf-8") if failed.exists() else result.stdout[-4000:] + result.stderr[-4000:]
    assert result.returncode == 0, report
    assert "None of the test stories failed" in report, report
