"""The production profile as the tests use it: PostgreSQL, Redis, two Rasa processes behind nginx,
started by `deploy.local` exactly as `make run-prod` starts them (tests/e2e/test_production*.py).

Each test module that imports `production_fixture` gets its own stack (module scope); pytest
registers the fixtures under the names their decorators give."""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Tuple

import pytest
import requests

from bot.storage.database import Database
from deploy.local import ProductionStack, free_port
from tests.fake_telegram import TOKEN

NUMBER = re.compile(r"TS\d{6}-[0-9A-Z]{8}")
TELEGRAM_SECRET = "prod-webhook-secret-" + uuid.uuid4().hex


@pytest.fixture(name="production", scope="module")
def production_fixture(trained_model, fake_telegram):
    # PostgreSQL runs as its own system user: the folder must be reachable for it (pytest's are 0700).
    workdir = Path(tempfile.mkdtemp(prefix="intake-prod-"))
    workdir.chmod(0o755)
    settings = {
        # Telegram webhooks through nginx; the Bot API is the fake one (no webhook registration).
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": fake_telegram.base,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "TELEGRAM_WEBHOOK_URL": "",
        # Every simulated customer comes from 127.0.0.1 (as in tests/e2e/servers.py).
        "LIMIT_MESSAGE_ADDRESS": "off",
        "LIMIT_SESSION_ADDRESS": "off",
        "LIMIT_SESSION_REQUEST_ADDRESS": "off",
        "LIMIT_HUMAN_ADDRESS": "off",
    }
    stack = ProductionStack(workdir, trained_model, port=free_port(), rasa_processes=2, durable=False,
                            extra_env=settings).start()
    yield stack
    stack.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(name="store", scope="module")
def store_fixture(production):
    db = Database(production.env["DATABASE_URL"])
    yield db
    db.dispose()


def say(url: str, sender: str, text: str) -> Tuple[str, str]:
    """One REST turn; returns the bot's text and the process that served it (nginx's upstream)."""
    r = requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    r.raise_for_status()
    return "\n".join(m.get("text", "") for m in r.json()), r.headers.get("X-Served-By", "")
