"""Accuracy floors on the project's own held-out set (written apart from the training data)."""

import pytest

from nlu.evaluate import evaluate


@pytest.fixture(scope="module")
def report(trained_model):
    return evaluate(trained_model)


def test_heldout_accuracy(report):
    assert report.accuracy >= 0.93, f"accuracy {report.accuracy:.3f}; errors: {report.errors}"


def test_escalate_recall(report):
    assert report.recall("escalate") >= 0.97, [e for e in report.errors if e[1] == "escalate"]
