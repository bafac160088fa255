"""Every process of the production profile on one machine, started in order and stopped in reverse:
PostgreSQL and Redis (unless DATABASE_URL / TRACKER_STORE_URL / REDIS_URL name servers elsewhere),
the migrations and the console's first account, the action server, N Rasa processes and nginx in
front of them. `ProductionStack.start` returns once every process answers its readiness check.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional
from urllib.error import URLError
from urllib.request import urlopen

from deploy.postgres import LocalPostgres
from deploy.processes import free_port, terminate, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
NGINX_TEMPLATE = Path(__file__).with_name("nginx.conf.template")


@dataclass
class Service:
    name: str
    process: subprocess.Popen
    ready_url: str
    args: List[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)  # of the current process


@dataclass
class ProductionStack:
    """Every process of the production profile; `start` returns once all of them are ready."""

    workdir: Path
    model: Path
    port: int = 8080
    rasa_processes: int = field(default_factory=lambda: os.cpu_count() or 1)
    durable: bool = True  # False (tests): PostgreSQL without fsync
    extra_env: Dict[str, str] = field(default_factory=dict)
    services: List[Service] = field(default_factory=list)
    postgres: Optional[LocalPostgres] = None
    redis: Optional[subprocess.Popen] = None
    env: Dict[str, str] = field(default_factory=dict)
    rasa_ports: List[int] = field(default_factory=list)
    action_port: int = 0
    ready_seconds: float = 0.0
    admin_note: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rasa_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[index]}"

    # -- start -------------------------------------------------------------------------------

    def start(self, timeout: float = 300) -> "ProductionStack":
        started = time.monotonic()
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "logs").mkdir(exist_ok=True)
        self.env = self._environment()
        try:
            self._start_servers()
            subprocess.run([sys.executable, "-m", "bot.cli", "migrate"], cwd=ROOT, env=self.env, check=True,
                           stdout=subprocess.DEVNULL)
            # A first supervisor for the console when there is no account (password file mode 600).
            self.admin_note = subprocess.run(
                [sys.executable, "-m", "bot.cli", "bootstrap", "--credentials-file", str(self.workdir / "console-admin.txt")],
                cwd=ROOT, env=self.env, check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
            self.action_port = free_port()
            self.env["ACTION_ENDPOINT_URL"] = f"http://127.0.0.1:{self.action_port}/webhook"
            self._spawn("actions", [sys.executable, "-m", "actions.server", "--actions", "actions", "--port", str(self.action_port)],
                        f"http://127.0.0.1:{self.action_port}/readyz")
            self.rasa_ports = [free_port() for _ in range(self.rasa_processes)]
            for index, port in enumerate(self.rasa_ports):
                self._spawn(f"rasa-{index + 1}", [
                    sys.executable, "-m", "channels.server", "run", "--model", str(self.model),
                    "--endpoints", str(ROOT / "endpoints.yml"), "--credentials", str(ROOT / "credentials.yml"),
                    "--interface", "127.0.0.1", "--port", str(port),
                ], f"http://127.0.0.1:{port}/readyz")
            self._start_nginx()
            self._wait_ready(started + timeout)
        except BaseException:
            self.stop()
            raise
        self.ready_seconds = time.monotonic() - started
        return self

    def _environment(self) -> Dict[str, str]:
        env = dict(os.environ)
        env.update(
            PYTHONPATH=str(ROOT),
            RASA_TELEMETRY_ENABLED="false",
            SANIC_HOST="127.0.0.1",
            TF_CPP_MIN_LOG_LEVEL=env.get("TF_CPP_MIN_LOG_LEVEL", "2"),
            SQLALCHEMY_SILENCE_UBER_WARNING="1",
            # One JSON object per log line (bot/logs.py); LOG_LEVEL=DEBUG for more.
            LOG_FORMAT=env.get("LOG_FORMAT", "json"),
            LOG_LEVEL=env.get("LOG_LEVEL", "INFO"),
            LOCK_STORE_TYPE="redis",
            # Evidence files in PostgreSQL, so every Rasa process serves every file (bot/attachments/store.py).
            ATTACHMENT_STORE=env.get("ATTACHMENT_STORE", "database"),
            # nginx is the one proxy in front: take the client's address from its X-Forwarded-For.
            SANIC_PROXIES_COUNT="1",
            # Rasa's tracker store would otherwise keep up to 150 PostgreSQL connections per process.
            SQL_POOL_SIZE=env.get("SQL_POOL_SIZE", "10"),
            SQL_MAX_OVERFLOW=env.get("SQL_MAX_OVERFLOW", "20"),
            # The first-contact notice links to the details page behind nginx, not a single process.
            PRIVACY_DETAILS_URL=env.get("PRIVACY_DETAILS_URL") or f"http://localhost:{self.port}/chat/privacy",
            # JSON logs refuse the built-in pseudonym key (bot/logs.py): one of this installation's own.
            LOG_ID_KEY=env.get("LOG_ID_KEY") or self._log_id_key(),
        )
        for name, default in (("HANDOFF_WORKING_HOURS", ""), ("TELEGRAM_BOT_TOKEN", ""), ("TELEGRAM_WEBHOOK_URL", ""),
                              ("TELEGRAM_WEBHOOK_SECRET", ""), ("TELEGRAM_API_BASE", "https://api.telegram.org"),
                              ("TELEGRAM_MODE", "webhook"), ("BACKEND_URL", ""), ("BACKEND_SECRET", ""),
                              ("BACKEND_API_KEY", ""), ("REDIS_DB", "1"), ("REDIS_PASSWORD", ""),
                              ("SANIC_REQUEST_MAX_SIZE", "1000000")):
            env.setdefault(name, default)
        env.update(self.extra_env)
        return env

    def _log_id_key(self) -> str:
        """A random key kept in the work folder (mode 600): the same pseudonyms in every process and
        across restarts, since the logs there are appended to, and never the public built-in key."""
        return self._secret("log-id-key")

    def _secret(self, name: str) -> str:
        """A random secret of this installation, made once and kept in the work folder (mode 600)."""
        path = self.workdir / name
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
        return path.read_text().strip()

    def _start_servers(self) -> None:
        tickets, tracker = self.env.get("DATABASE_URL", ""), self.env.get("TRACKER_STORE_URL", "")
        if not (tickets.startswith("postgresql") and tracker.startswith("postgresql")):
            port = int(self.env.get("PG_PORT") or 0) or free_port()
            self.postgres = LocalPostgres(self.workdir / "postgres", port, fsync=self.durable,
                                          password=self._secret("postgres-password"))
            self.postgres.start()
            self.env["DATABASE_URL"] = self.postgres.ensure_database("intake")
            self.env["TRACKER_STORE_URL"] = self.postgres.ensure_database("rasa_tracker")
        if not self.env.get("REDIS_URL"):
            binary = shutil.which("redis-server")
            if binary is None:
                raise SystemExit("redis-server not found: run scripts/system-deps.sh (as root)")
            port = int(self.env.get("LOCAL_REDIS_PORT") or 0) or free_port()
            log = open(self.workdir / "logs" / "redis.log", "ab")
            # Redis holds only locks and wake-up notes: nothing to persist.
            # A password, so that other local users cannot take the conversation locks (review L10);
            # given in a config read from stdin, never on the command line where `ps` shows it.
            password = self._secret("redis-password")
            self.redis = subprocess.Popen(
                [binary, "-", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(self.workdir), "--maxclients", "2000"],
                stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            self.redis.stdin.write(f"requirepass {password}\n".encode())
            self.redis.stdin.close()
            self.env.update(REDIS_URL=f"redis://:{password}@127.0.0.1:{port}/0", REDIS_HOST="127.0.0.1",
                            REDIS_PORT=str(port), REDIS_PASSWORD=password)
            wait_for_port(port, self.redis, "redis-server")

    def _spawn(self, name: str, args: List[str], ready_url: str) -> None:
        self.services.append(Service(name, self._launch(name, args), ready_url, list(args)))

    def _launch(self, name: str, args: List[str]) -> subprocess.Popen:
        with open(self.workdir / "logs" / f"{name}.log", "ab") as log:
            return subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)

    def restart(self, service: Service) -> None:
        """Start an exited service again as it was started: same command, port and environment."""
        try:
            # What the dead process left in its group (nginx's workers hold the port) goes with it.
            os.killpg(service.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        service.process = self._launch(service.name, service.args)
        service.started = time.monotonic()

    def _start_nginx(self) -> None:
        binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
        if binary is None:
            raise SystemExit("nginx not found: run scripts/system-deps.sh (as root)")
        prefix = self.workdir / "nginx"
        (prefix / "tmp").mkdir(parents=True, exist_ok=True)
        upstream = "\n".join(f"    server 127.0.0.1:{port} max_fails=0;" for port in self.rasa_ports)
        config = NGINX_TEMPLATE.read_text().replace("{{PREFIX}}", str(prefix)).replace("{{PORT}}", str(self.port))
        config = config.replace("{{UPSTREAM}}", upstream)
        (prefix / "nginx.conf").write_text(config)
        self._spawn("nginx", [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")],
                    f"{self.url}/nginx-health")

    def _wait_ready(self, deadline: float) -> None:
        pending = list(self.services)
        while pending:
            for service in list(pending):
                if service.process.poll() is not None:
                    raise RuntimeError(f"{service.name} exited (code {service.process.returncode}):\n{self.log(service.name)}")
                try:
                    with urlopen(service.ready_url, timeout=2) as answer:
                        if answer.status == 200:
                            pending.remove(service)
                except (URLError, OSError):
                    pass
            if pending and time.monotonic() > deadline:
                names = ", ".join(s.name for s in pending)
                raise RuntimeError(f"not ready in time: {names}\n" + "\n".join(self.log(s.name) for s in pending))
            if pending:
                time.sleep(0.2)
        # The balancer's own readiness: through nginx to a Rasa process.
        with urlopen(f"{self.url}/readyz", timeout=5) as answer:
            assert answer.status == 200

    def log(self, name: str, tail: int = 3000) -> str:
        path = self.workdir / "logs" / f"{name}.log"
        text = path.read_text(errors="replace")[-tail:] if path.exists() else ""
        return f"--- {name} ---\n{text}"

    def pids(self) -> Dict[str, int]:
        pids = {service.name: service.process.pid for service in self.services}
        if self.redis is not None:
            pids["redis"] = self.redis.pid
        if self.postgres is not None and self.postgres.pid():
            pids["postgres"] = self.postgres.pid()  # type: ignore[assignment]
        return pids

    # -- stop --------------------------------------------------------------------------------

    def stop(self) -> None:
        for service in reversed(self.services):
            terminate(service.process)
        self.services = []
        if self.redis is not None:
            terminate(self.redis)
            self.redis = None
        if self.postgres is not None:
            try:
                self.postgres.stop()
            except RuntimeError as error:
                print(f"postgres did not stop cleanly: {error}", file=sys.stderr)
            self.postgres = None
