"""The systems under test, each started on free localhost ports and stopped after its run.

- `Embedded`: our stack as `scripts/run.sh` starts it (migration, action server, one Rasa server with
  our channels, SQL tracker store), on fresh SQLite files in the run's folder.
- `Production`: `python -m deploy.local` (PostgreSQL, Redis, action server, N Rasa processes, nginx),
  which reports `READY <url> <seconds>`, `PIDS name=pid,...` and `DATABASE_URL <url>` on stdout.
- `Stock`: stock Rasa 3.6.21 serving the textbook model (`bench/stock/`): one `rasa run` process with
  Rasa's own REST channel and in-memory tracker and lock stores, its actions served by a separate
  instance of our action server with its own SQLite ticket store.

Cold start is measured from the first launch to the first non-empty reply to a real message.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Dict, List, Optional

from bench.paths import PYTHON, ROOT, STOCK
from bench.procs import MemorySample, Process, StartupError, answers, descendants, free_port, http_ok, logs, \
    memory_of, running, wait_until

READY_TIMEOUT = 300.0
PRODUCTION_STOP_TIMEOUT = 60.0


def base_env() -> Dict[str, str]:
    """The environment every server gets: ours from `scripts/env.sh`, everything on loopback, the
    Telegram channel and the backend push off (no network beyond 127.0.0.1)."""
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT),
        RASA_TELEMETRY_ENABLED="false",
        SANIC_HOST="127.0.0.1",
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONWARNINGS="ignore",
        HANDOFF_WORKING_HOURS="",
        TELEGRAM_BOT_TOKEN="",
        TELEGRAM_WEBHOOK_URL="",
        TELEGRAM_WEBHOOK_SECRET="",
        TELEGRAM_API_BASE="http://127.0.0.1:9",  # unused: no token, channel off
        TELEGRAM_MODE="webhook",
        BACKEND_URL="",
        BACKEND_SECRET="",
        BACKEND_API_KEY="",
        # The load generator is one address standing for many customers: per-address limits
        # would measure the limiter, not the assistant. Per-customer limits stay as in production.
        LIMIT_MESSAGE_ADDRESS="off",
        LIMIT_SESSION_ADDRESS="off",
        LIMIT_SESSION_REQUEST_ADDRESS="off",
        LIMIT_HUMAN_ADDRESS="off",
    )
    return env


def _stack_env(workdir: Path, prefix: str, action_port: int, rasa_port: int = 0) -> Dict[str, str]:
    env = base_env()
    env.update(
        DATABASE_URL=f"sqlite:///{workdir / f'{prefix}-tickets.db'}",
        TRACKER_STORE_URL=f"sqlite:///{workdir / f'{prefix}-tracker.db'}",
        ACTION_PORT=str(action_port),
        RASA_PORT=str(rasa_port),
        ACTION_ENDPOINT_URL=f"http://127.0.0.1:{action_port}/webhook",
        LOCK_STORE_TYPE="in_memory",  # one Rasa process: no Redis
        REDIS_HOST="127.0.0.1",
        REDIS_PORT="6379",
        REDIS_DB="1",
        REDIS_PASSWORD="",
        REDIS_URL="",
    )
    return env


def _action_server(name: str, workdir: Path, env: Dict[str, str]) -> Process:
    # As scripts/run.sh starts it: actions/server.py installs the services the actions use.
    args = [str(PYTHON), "-m", "actions.server", "--actions", "actions", "--port", env["ACTION_PORT"]]
    return Process(name, args, cwd=ROOT, env=env, log=workdir / f"{name}.log")


def _migrate(workdir: Path, name: str, env: Dict[str, str]) -> None:
    """The ticket store's schema, as `scripts/run.sh` creates it before starting the servers."""
    log = workdir / f"{name}-migrate.log"
    with open(log, "ab") as out:
        result = subprocess.run(
            [str(PYTHON), "-c", "from bot.storage.database import Database; Database.from_env().migrate()"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise StartupError(f"migrating {env['DATABASE_URL']} failed:\n{log.read_text(errors='replace')[-4000:]}")


class System(ABC):
    """One system under test. `start()` sets `url`, `ticket_store` and the cold-start figures."""

    name: str
    description: str

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.processes: List[Process] = []
        self.url = ""
        self.ticket_store = ""
        self.ready_seconds = 0.0
        self.reported_ready_seconds: Optional[float] = None
        self.problems: List[str] = []  # anything odd seen while starting or stopping

    @abstractmethod
    def start(self) -> None: ...

    def memory(self) -> List[MemorySample]:
        return [sample for p in self.processes for sample in p.memory()]

    def stop(self) -> None:
        for p in reversed(self.processes):
            p.stop()

    def logs(self) -> str:
        return logs(self.processes)

    def _wait_answering(self, started: float) -> None:
        sender = f"bench-ready-{uuid.uuid4().hex[:12]}"
        wait_until(answers(self.url, sender), what=f"{self.name}: first answer", processes=self.processes,
                   timeout=READY_TIMEOUT, interval=0.2)
        self.ready_seconds = time.monotonic() - started


class Embedded(System):
    name = "embedded"
    description = "ours, embedded profile (scripts/run.sh: SQLite, 1 Rasa process)"

    def __init__(self, workdir: Path, model: Path) -> None:
        super().__init__(workdir)
        self.model = model

    def start(self) -> None:
        action_port, rasa_port = free_port(), free_port()
        env = _stack_env(self.workdir, self.name, action_port, rasa_port)
        self.ticket_store = env["DATABASE_URL"]
        self.url = f"http://127.0.0.1:{rasa_port}"
        started = time.monotonic()
        _migrate(self.workdir, self.name, env)
        actions = _action_server(f"{self.name}-actions", self.workdir, env)
        self.processes.append(actions)
        rasa = Process(f"{self.name}-rasa", [
            str(PYTHON), "-m", "rasa", "run",
            "--model", str(self.model),
            "--endpoints", str(ROOT / "endpoints.yml"),
            "--credentials", str(ROOT / "credentials.yml"),
            "--interface", "127.0.0.1",
            "--port", str(rasa_port),
        ], cwd=ROOT, env=env, log=self.workdir / f"{self.name}-rasa.log")
        self.processes.append(rasa)
        wait_until(http_ok(f"http://127.0.0.1:{action_port}/health"), what="embedded: action server",
                   processes=self.processes, timeout=READY_TIMEOUT)
        wait_until(http_ok(f"{self.url}/"), what="embedded: Rasa server", processes=self.processes,
                   timeout=READY_TIMEOUT)
        self._wait_answering(started)


class Stock(System):
    name = "stock"
    description = "stock Rasa 3.6.21 (textbook pipeline, in-memory tracker, 1 process)"

    def __init__(self, workdir: Path, model: Path) -> None:
        super().__init__(workdir)
        self.model = model

    def start(self) -> None:
        action_port, rasa_port = free_port(), free_port()
        # The action server's settings require the Rasa port (links in its answers point there).
        action_env = _stack_env(self.workdir, self.name, action_port, rasa_port)
        self.ticket_store = action_env["DATABASE_URL"]
        _migrate(self.workdir, self.name, action_env)
        self.processes.append(_action_server(f"{self.name}-actions", self.workdir, action_env))
        wait_until(http_ok(f"http://127.0.0.1:{action_port}/health"), what="stock: action server",
                   processes=self.processes, timeout=READY_TIMEOUT)
        # Stock Rasa runs outside the repository with nothing of ours on its path: it cannot import
        # our `channels` package (which patches Rasa); its credentials name only `rest:`.
        rasa_env = {k: v for k, v in base_env().items() if k != "PYTHONPATH"}
        rasa_env["BENCH_STOCK_ACTION_URL"] = action_env["ACTION_ENDPOINT_URL"]
        rasa_dir = self.workdir / "stock-rasa"
        rasa_dir.mkdir(exist_ok=True)
        self.url = f"http://127.0.0.1:{rasa_port}"
        started = time.monotonic()
        self.processes.append(Process(f"{self.name}-rasa", [
            str(PYTHON), "-m", "rasa", "run",
            "--model", str(self.model),
            "--endpoints", str(STOCK / "endpoints.yml"),
            "--credentials", str(STOCK / "credentials.yml"),
            "--interface", "127.0.0.1",
            "--port", str(rasa_port),
        ], cwd=rasa_dir, env=rasa_env, log=self.workdir / f"{self.name}-rasa.log"))
        wait_until(http_ok(f"{self.url}/"), what="stock: Rasa server", processes=self.processes,
                   timeout=READY_TIMEOUT)
        self._wait_answering(started)


class Production(System):
    name = "production"
    description = "ours, production profile (deploy.local: PostgreSQL, Redis, nginx, N Rasa processes)"
    LAUNCHER = ROOT / "deploy" / "local.py"

    def __init__(self, workdir: Path, rasa_processes: Optional[int]) -> None:
        super().__init__(workdir)
        self.rasa_processes = rasa_processes
        self.pids: Dict[str, int] = {}
        self._ready = threading.Event()

    @classmethod
    def available(cls) -> bool:
        return cls.LAUNCHER.exists()

    def _on_line(self, line: str) -> None:
        words = line.split()
        if len(words) >= 3 and words[0] == "READY":
            self.url = words[1].rstrip("/")
            self.reported_ready_seconds = float(words[2])
            self._ready.set()
        elif len(words) == 2 and words[0] == "PIDS":
            self.pids = {name: int(pid) for name, _, pid in (item.partition("=") for item in words[1].split(","))}
        elif len(words) == 2 and words[0] == "DATABASE_URL":
            self.ticket_store = words[1]

    def start(self) -> None:
        env = base_env()
        for key in ("DATABASE_URL", "TRACKER_STORE_URL", "REDIS_URL", "RASA_PORT", "ACTION_PORT", "ACTION_ENDPOINT_URL"):
            env.pop(key, None)  # the launcher chooses its own stores and ports
        deploy_dir = self.workdir / "production"
        deploy_dir.mkdir(exist_ok=True)
        args = [str(PYTHON), "-m", "deploy.local", "--port", str(free_port()), "--workdir", str(deploy_dir)]
        if self.rasa_processes is not None:
            args += ["--rasa-processes", str(self.rasa_processes)]
        started = time.monotonic()
        self.processes.append(Process("production", args, cwd=ROOT, env=env, log=self.workdir / "production.log",
                                      on_line=self._on_line))
        wait_until(self._ready.is_set, what="production: READY line", processes=self.processes,
                   timeout=READY_TIMEOUT)
        wait_until(http_ok(f"{self.url}/readyz"), what="production: /readyz", processes=self.processes,
                   timeout=READY_TIMEOUT)
        self._wait_answering(started)
        if not self.ticket_store:
            raise StartupError(f"production: no DATABASE_URL line\n{self.logs()}")
        if not self.pids:
            self.problems.append("no PIDS line: memory not measured")

    def memory(self) -> List[MemorySample]:
        samples: List[Optional[MemorySample]] = []
        for name, pid in self.pids.items():
            samples.append(memory_of(name, pid))
            samples += [memory_of(f"{name}/child", child) for child in descendants(pid)]
        return [s for s in samples if s is not None]

    def stop(self) -> None:
        for p in self.processes:  # the launcher stops its services itself on SIGTERM
            p.stop(group_signal=False, timeout=PRODUCTION_STOP_TIMEOUT)
        left = {name: pid for name, pid in self.pids.items() if running(pid)}
        for name, pid in left.items():
            self.problems.append(f"{name} (pid {pid}) still ran after the launcher stopped; killed")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
