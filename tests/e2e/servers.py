"""Starts the real action server and Rasa server as subprocesses on free localhost ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import requests

ROOT = Path(__file__).resolve().parents[2]
# The production profile (LOG_FORMAT=json) needs a key of its own for the log pseudonyms.
LOG_ID_KEY = "e2e-stack-log-id-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """One action server and one Rasa server sharing a ticket store and a tracker store."""

    def __init__(self, workdir: Path, model: Path, extra_env: Optional[Dict[str, str]] = None) -> None:
        self.workdir = workdir
        self.model = model
        self.extra_env = extra_env or {}
        self.ticket_db = f"sqlite:///{workdir / 'tickets.db'}"
        self.tracker_db = f"sqlite:///{workdir / 'tracker.db'}"
        self.processes: List[subprocess.Popen] = []
        self.rasa_port = self.action_port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def env(self) -> Dict[str, str]:
        env = dict(os.environ)
        env.update(
            PYTHONPATH=str(ROOT),
            DATABASE_URL=self.ticket_db,
            TRACKER_STORE_URL=self.tracker_db,
            ACTION_ENDPOINT_URL=f"http://127.0.0.1:{self.action_port}/webhook",
            RASA_TELEMETRY_ENABLED="false",
            SANIC_HOST="127.0.0.1",
            TF_CPP_MIN_LOG_LEVEL="2",
            LOG_FORMAT="json",
            LOG_LEVEL="INFO",
            # JSON logs mark the production profile, which refuses to start without these two.
            LOG_ID_KEY=LOG_ID_KEY,
            PRIVACY_DETAILS_URL=f"http://127.0.0.1:{self.rasa_port}/chat/privacy",
            PYTHONWARNINGS="ignore",
            HANDOFF_WORKING_HOURS="",
            TELEGRAM_BOT_TOKEN="",
            TELEGRAM_WEBHOOK_URL="",
            TELEGRAM_WEBHOOK_SECRET="",
            TELEGRAM_API_BASE="http://127.0.0.1:9",  # unused: no token, channel off
            TELEGRAM_MODE="webhook",
            WECHAT_APP_ID="",  # off unless a test's stack sets it
            WECHAT_AES_KEY="",
            WECHAT_TEMPLATE_RESULT="",
            BACKEND_URL="",
            BACKEND_SECRET="",
            BACKEND_API_KEY="",
            LOCK_STORE_TYPE="in_memory",
            REDIS_HOST="127.0.0.1",
            REDIS_PORT="6379",
            REDIS_DB="1",
            REDIS_PASSWORD="",
            REDIS_URL="",
            # Every test (every simulated customer) comes from 127.0.0.1: per-address limits would
            # count the whole suite as one flooding client. Per-customer limits stay as in production;
            # the address limits have their own test (tests/e2e/test_limits.py).
            LIMIT_MESSAGE_ADDRESS="off",
            LIMIT_SESSION_ADDRESS="off",
            LIMIT_SESSION_REQUEST_ADDRESS="off",
            LIMIT_HUMAN_ADDRESS="off",
        )
        env.update(self.extra_env)
        return env

    def _spawn(self, name: str, args: List[str]) -> None:
        log = open(self.workdir / f"{name}.log", "ab")
        self.processes.append(
            subprocess.Popen(args, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        )

    def start(self, timeout: float = 240) -> "Stack":
        self.rasa_port, self.action_port = free_port(), free_port()
        self._spawn("actions", [sys.executable, "-m", "actions.server", "--actions", "actions", "--port", str(self.action_port)])
        self._spawn(
            "rasa",
            [
                sys.executable, "-m", "channels.server", "run",
                "--model", str(self.model),
                "--endpoints", str(ROOT / "endpoints.yml"),
                "--credentials", str(ROOT / "credentials.yml"),
                "--interface", "127.0.0.1",
                "--port", str(self.rasa_port),
                "--enable-api",
            ],
        )
        self._wait(f"http://127.0.0.1:{self.action_port}/health", timeout)
        self._wait(f"{self.url}/status", timeout)
        return self

    def _wait(self, url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for p in self.processes:
                if p.poll() is not None:
                    raise RuntimeError(f"server exited early:\n{self.logs()}")
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{url} not ready after {timeout} s:\n{self.logs()}")

    def logs(self, tail: int = 4000) -> str:
        out = []
        for name in ("actions", "rasa"):
            path = self.workdir / f"{name}.log"
            if path.exists():
                out.append(f"--- {name}.log ---\n" + path.read_text(errors="replace")[-tail:])
        return "\n".join(out)

    def stop(self) -> None:
        for p in self.processes:
            if p.poll() is None:
                p.terminate()
        for p in self.processes:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.processes = []

    # -- talking to it ----------------------------------------------------------------------

    def say(self, sender: str, text: str) -> List[Dict]:
        r = requests.post(f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
        r.raise_for_status()
        return r.json()

    @staticmethod
    def texts(replies: List[Dict]) -> str:
        return "\n".join(m.get("text", "") for m in replies)

    def parse(self, text: str) -> Dict:
        r = requests.post(f"{self.url}/model/parse", json={"text": text}, timeout=30)
        r.raise_for_status()
        return r.json()

    def tracker(self, sender: str) -> Optional[Dict]:
        r = requests.get(f"{self.url}/conversations/{sender}/tracker", timeout=30)
        return r.json() if r.status_code == 200 else None

    # -- the agent console API ----------------------------------------------------------------

    def api(self, method: str, path: str, token: Optional[str] = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, f"{self.url}/agent/api{path}", headers=headers, timeout=60, **kwargs)

    def telegram(self, update: Dict, secret: Optional[str] = None) -> requests.Response:
        headers = {}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        return requests.post(f"{self.url}/webhooks/telegram/webhook", json=update, headers=headers, timeout=60)

    def handoff_session(self, channel: str, user_id: str) -> int:
        """Id of the customer's newest handoff session, read from the stack's store."""
        import sqlalchemy as sa

        from bot.storage.database import Database
        from bot.storage.models import HandoffSessionRow

        db = Database(self.ticket_db)
        try:
            with db.transaction() as session:
                return session.execute(
                    sa.select(HandoffSessionRow.id)
                    .where(HandoffSessionRow.channel == channel, HandoffSessionRow.channel_user_id == user_id)
                    .order_by(HandoffSessionRow.id.desc())
                    .limit(1)
                ).scalar_one()
        finally:
            db.dispose()
