"""The production profile on one machine: ``make run-prod`` (``python -m deploy.local``).

Starts, on localhost: PostgreSQL (tickets and the tracker store), Redis (Rasa's lock store and the
processes' wake-up bus), the action server, N Rasa server processes (default: one per core) and
nginx in front of them. Everything is configured through environment variables (the same ones a
multi-machine deployment sets, deploy/DEPLOYMENT.md); when DATABASE_URL / TRACKER_STORE_URL are
PostgreSQL URLs or REDIS_URL is set, those servers are used instead of starting local ones.

Prints ``READY <url> <seconds>`` once every process answers its readiness check, ``PIDS`` and
``DATABASE_URL`` lines for tools (make bench), and stops everything on SIGINT/SIGTERM.
The servers' binaries come from Debian packages (scripts/system-deps.sh installs them).
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional
from urllib.error import URLError
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
NGINX_TEMPLATE = Path(__file__).with_name("nginx.conf.template")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres_user(args: List[str]) -> List[str]:
    """PostgreSQL refuses to run as root: when we are root, run its tools as the `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def postgres_binaries() -> Optional[Path]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class LocalPostgres:
    """A PostgreSQL cluster in a folder of ours, listening on loopback only (trust auth there)."""

    def __init__(self, directory: Path, port: int, fsync: bool = True) -> None:
        binaries = postgres_binaries()
        if binaries is None:
            raise SystemExit("PostgreSQL server binaries not found: run scripts/system-deps.sh (as root)")
        self.bin = binaries
        self.dir = directory
        self.port = port
        self.fsync = fsync

    @property
    def data(self) -> Path:
        return self.dir / "data"

    def _run(self, args: List[str]) -> None:
        done = subprocess.run(_as_postgres_user(args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            reachable = subprocess.run(_as_postgres_user(["test", "-w", str(self.dir)])).returncode == 0
            if not reachable:
                raise SystemExit(f"the postgres system user cannot reach {self.dir} (a parent folder is private): "
                                 "set PROD_DIR to a folder it can reach, e.g. PROD_DIR=/var/tmp/intake-prod")
        if not (self.data / "PG_VERSION").exists():
            self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=300"
        if not self.fsync:
            options += " -c fsync=off -c synchronous_commit=off"
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-w", "-t", "60",
                   "-l", str(self.dir / "server.log"), "start"])

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def ensure_database(self, name: str) -> str:
        import psycopg2

        connection = psycopg2.connect(self.url("postgres"))
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return self.url(name)

    def pid(self) -> Optional[int]:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])


@dataclass
class Service:
    name: str
    process: subprocess.Popen
    ready_url: str


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
            # nginx is the one proxy in front: take the client's address from its X-Forwarded-For.
            SANIC_PROXIES_COUNT="1",
            # Rasa's tracker store would otherwise keep up to 150 PostgreSQL connections per process.
            SQL_POOL_SIZE=env.get("SQL_POOL_SIZE", "10"),
            SQL_MAX_OVERFLOW=env.get("SQL_MAX_OVERFLOW", "20"),
            # The first-contact notice links to the details page behind nginx, not a single process.
            PRIVACY_DETAILS_URL=env.get("PRIVACY_DETAILS_URL") or f"http://localhost:{self.port}/chat/privacy",
        )
        for name, default in (("HANDOFF_WORKING_HOURS", ""), ("TELEGRAM_BOT_TOKEN", ""), ("TELEGRAM_WEBHOOK_URL", ""),
                              ("TELEGRAM_WEBHOOK_SECRET", ""), ("TELEGRAM_API_BASE", "https://api.telegram.org"),
                              ("TELEGRAM_MODE", "webhook"), ("BACKEND_URL", ""), ("BACKEND_SECRET", ""),
                              ("BACKEND_API_KEY", ""), ("REDIS_DB", "1"), ("REDIS_PASSWORD", "")):
            env.setdefault(name, default)
        env.update(self.extra_env)
        return env

    def _start_servers(self) -> None:
        tickets, tracker = self.env.get("DATABASE_URL", ""), self.env.get("TRACKER_STORE_URL", "")
        if not (tickets.startswith("postgresql") and tracker.startswith("postgresql")):
            port = int(self.env.get("PG_PORT") or 0) or free_port()
            self.postgres = LocalPostgres(self.workdir / "postgres", port, fsync=self.durable)
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
            self.redis = subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(self.workdir), "--maxclients", "2000"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            self.env.update(REDIS_URL=f"redis://127.0.0.1:{port}/0", REDIS_HOST="127.0.0.1", REDIS_PORT=str(port))
            _wait_for_port(port, self.redis, "redis-server")

    def _spawn(self, name: str, args: List[str], ready_url: str) -> None:
        log = open(self.workdir / "logs" / f"{name}.log", "ab")
        process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.services.append(Service(name, process, ready_url))

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


def terminate(process: subprocess.Popen, grace: float = 20) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_for_port(port: int, process: subprocess.Popen, name: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited (code {process.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not listen on {port}")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.local", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PROD_PORT") or 8080), help="nginx port (PROD_PORT)")
    parser.add_argument("--rasa-processes", type=int, default=int(os.environ.get("RASA_PROCESSES") or 0) or os.cpu_count() or 1,
                        help="Rasa server processes (RASA_PROCESSES; default one per core)")
    parser.add_argument("--workdir", default=os.environ.get("PROD_DIR") or str(ROOT / "data" / "prod"),
                        help="PostgreSQL data, logs, nginx config (PROD_DIR)")
    parser.add_argument("--model", default=os.environ.get("RASA_MODEL"), help="model file (RASA_MODEL; default: train if needed)")
    args = parser.parse_args(argv)

    model = args.model or subprocess.run([sys.executable, str(ROOT / "scripts" / "train.py")], cwd=ROOT, check=True,
                                         stdout=subprocess.PIPE, text=True).stdout.strip()
    stack = ProductionStack(Path(args.workdir).resolve(), Path(model).resolve(), port=args.port,
                            rasa_processes=max(1, args.rasa_processes))

    def interrupted(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    try:
        stack.start()
        print(f"READY {stack.url} {stack.ready_seconds:.1f}", flush=True)
        print("PIDS " + ",".join(f"{name}={pid}" for name, pid in stack.pids().items()), flush=True)
        print(f"DATABASE_URL {stack.env['DATABASE_URL']}", flush=True)
        print(_banner(stack), flush=True)
        while all(service.process.poll() is None for service in stack.services):
            time.sleep(1)
        dead = [service.name for service in stack.services if service.process.poll() is not None]
        print(f"{', '.join(dead)} exited; stopping everything (logs in {stack.workdir / 'logs'})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("stopping ...", file=sys.stderr)
        stack.stop()
        print("stopped.", file=sys.stderr)


def _banner(stack: ProductionStack) -> str:
    processes = ", ".join(f":{port}" for port in stack.rasa_ports)
    return f"""
  The assistant is running (production profile, ready in {stack.ready_seconds:.1f} s):
    Web chat        {stack.url}/chat/
    Agent console   {stack.url}/agent/
    REST channel    {stack.url}/webhooks/rest/webhook
    Health          {stack.url}/healthz   readiness {stack.url}/readyz
  nginx :{stack.port} -> {len(stack.rasa_ports)} Rasa processes ({processes}); action server :{stack.action_port}
  Tickets: {_masked(stack.env['DATABASE_URL'])}   Conversations: {_masked(stack.env['TRACKER_STORE_URL'])}
  Redis: {_masked(stack.env['REDIS_URL'])} (lock store + wake-up bus)   Logs: {stack.workdir / 'logs'}
  Console accounts: {stack.admin_note or 'see README'}
  Press Ctrl-C to stop.
"""


def _masked(url: str) -> str:
    """A URL without its password, for the banner."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


if __name__ == "__main__":
    sys.exit(main())
