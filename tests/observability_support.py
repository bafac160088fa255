"""The fixture every observability test runs under: its own context for the log ids, so ids bound
by one test do not outlive it (tests/test_observability*.py).

Test modules import the `*_fixture` function; pytest registers it under the name its decorator gives."""

from __future__ import annotations

import contextvars

import pytest

from bot import logs


@pytest.fixture(name="own_context", autouse=True)
def own_context_fixture():
    """Each test binds ids in a context of its own (they would otherwise outlive the test)."""
    context = contextvars.copy_context()
    for var in (logs.REQUEST_ID, logs.CONVERSATION_ID, logs.CHANNEL):
        var.set(None)
    yield
    for var in context:
        var.set(context[var])
