"""Test doubles for the operator's backend, shared by the outbox, observability and end-to-end
tests: a recording sender (no HTTP) and scripts/backend_demo.py as a real process; filing a ticket."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import requests

from bot.categories import Category
from bot.tickets import Customer, TicketService
from tests.e2e.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET = "backend-secret-for-tests"


class RecordingBackend:
    """A sender that records what it was given and answers as told (no HTTP)."""

    def __init__(self) -> None:
        self.calls: List[Tuple[str, dict, Dict[str, str]]] = []
        self.failing = False
        self.failure = "HTTP 503"

    def __call__(self, url, body, headers, timeout):
        self.calls.append((url, json.loads(body), headers))
        return (False, self.failure) if self.failing else (True, "")


def file(tickets: TicketService, user: str, text: str = "宽带断网三天了"):
    return tickets.open_complaint(Customer("rest", user), Category.NETWORK, text, "13800001111")[0]


class Backend:
    """scripts/backend_demo.py as a real process: it can be made to fail, killed and restarted."""

    def __init__(self, workdir: Path, secret: str = SECRET) -> None:
        self.secret = secret
        self.port = free_port()
        self.store = workdir / "received.jsonl"
        self.mode_file = workdir / "mode"
        self.mode("ok")
        self.process = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/events"

    def mode(self, mode: str) -> None:
        self.mode_file.write_text(mode)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "backend_demo.py"), "--port", str(self.port), "--secret", self.secret,
             "--store", str(self.store), "--mode-file", str(self.mode_file), "--quiet"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{self.port}/stats", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.05)
        raise RuntimeError("backend did not start")

    def stats(self) -> dict:
        return requests.get(f"http://127.0.0.1:{self.port}/stats", timeout=5).json()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def received(self) -> List[dict]:
        if not self.store.exists():
            return []
        return [json.loads(line) for line in self.store.read_text(encoding="utf-8").splitlines() if line.strip()]
