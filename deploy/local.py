"""The production profile on one machine: ``make run-prod`` (``python -m deploy.local``).

Starts, on localhost: PostgreSQL (tickets and the tracker store), Redis (Rasa's lock store and the
processes' wake-up bus), the action server, N Rasa server processes (default: one per core) and
nginx in front of them. Everything is configured through environment variables (the same ones a
multi-machine deployment sets, deploy/DEPLOYMENT.md); when DATABASE_URL / TRACKER_STORE_URL are
PostgreSQL URLs or REDIS_URL is set, those servers are used instead of starting local ones.

Prints ``READY <url> <seconds>`` once every process answers its readiness check, ``PIDS``,
``DATABASE_URL`` and ``METRICS`` lines for tools (make bench), and stops everything on SIGINT/SIGTERM.
While it runs, a supervisor restarts the action server, a Rasa process or nginx when it dies (with
backoff, logged, counted on its own /metrics), as Kubernetes would, and the others keep serving.
The servers' binaries come from Debian packages (scripts/system-deps.sh installs them).
"""

from __future__ import annotations

import argparse
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional
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
    """A PostgreSQL cluster in a folder of ours, listening on loopback only.

    With a password, TCP connections must give it (scram-sha-256): any local user could otherwise
    connect as the superuser (review L10). The Unix socket stays trusted: it lives in our own folder,
    which only the postgres user can reach."""

    def __init__(self, directory: Path, port: int, fsync: bool = True, password: Optional[str] = None) -> None:
        binaries = postgres_binaries()
        if binaries is None:
            raise SystemExit("PostgreSQL server binaries not found: run scripts/system-deps.sh (as root)")
        self.bin = binaries
        self.dir = directory
        self.port = port
        self.fsync = fsync
        self.password = password

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
            self._initdb()
        elif self.password and "trust" in self._host_rules():
            print(f"note: the PostgreSQL cluster in {self.data} was made without a password (trust); "
                  "remove that folder to have one made with password authentication", file=sys.stderr)
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=300"
        if not self.fsync:
            options += " -c fsync=off -c synchronous_commit=off"
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-w", "-t", "60",
                   "-l", str(self.dir / "server.log"), "start"])

    def _initdb(self) -> None:
        command = [str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-E", "UTF8"]
        if not self.password:
            self._run(command + ["--auth=trust"])
            return
        secret = self.dir / "initdb-password"
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(self.password)
        if os.geteuid() == 0:
            shutil.chown(secret, "postgres", "postgres")
        try:
            self._run(command + ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={secret}"])
        finally:
            secret.unlink()

    def _host_rules(self) -> str:
        try:
            return "\n".join(line for line in (self.data / "pg_hba.conf").read_text().splitlines()
                             if line.startswith("host"))
        except OSError:
            return ""

    def url(self, database: str) -> str:
        login = f"postgres:{self.password}" if self.password else "postgres"
        return f"postgresql://{login}@127.0.0.1:{self.port}/{database}"

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
            _wait_for_port(port, self.redis, "redis-server")

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


@dataclass
class _Backoff:
    wait: float
    due: Optional[float] = None  # when the exited process is to be started again
    restarts: int = 0


class Supervisor:
    """Keeps the stack's processes running, as Kubernetes keeps a pod's containers: when the action
    server, a Rasa process or nginx exits, it is started again (same command, port and environment)
    while the others go on serving. A process that keeps dying waits longer each time before its
    next start (1 s, 2 s, 4 s ... at most 60 s), and once it has run for a minute the pause starts at
    1 s again (Kubernetes' CrashLoopBackOff, on a shorter scale). Every exit and restart is logged;
    restarts are counted on the supervisor's own ``/metrics`` (``intake_process_restarts_total`` and
    ``intake_process_up`` by process): the Rasa processes' registries start from zero with each
    process, so only the supervisor can count how often that happened.

    PostgreSQL and Redis are not restarted here: servers of their own in a real deployment (managed
    database, Redis with its own supervision), and the Rasa processes report them on /readyz.
    """

    def __init__(self, stack: ProductionStack, first_wait: float = 1.0, longest_wait: float = 60.0,
                 stable_after: float = 60.0, say: Optional[Callable[[str], None]] = None) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge

        self.stack = stack
        self.first_wait = first_wait
        self.longest_wait = longest_wait
        self.stable_after = stable_after
        self.say = say or _say
        self.registry = CollectorRegistry(auto_describe=True)
        self.restarts = Counter("intake_process_restarts", "Processes of the stack started again after they exited.",
                                ["process"], registry=self.registry)
        self.up = Gauge("intake_process_up", "1 while the process runs, 0 while it waits to be restarted.",
                        ["process"], registry=self.registry)
        self._state = {service.name: _Backoff(first_wait) for service in stack.services}
        for name in self._state:
            self.restarts.labels(name)
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._server: Any = None
        self.metrics_port = 0

    def serve_metrics(self, port: int = 0) -> int:
        """Prometheus text on http://127.0.0.1:<port>/metrics; returns the port."""
        from prometheus_client import start_http_server

        self.metrics_port = port or free_port()
        self._server, _ = start_http_server(self.metrics_port, addr="127.0.0.1", registry=self.registry)
        return self.metrics_port

    def check(self) -> None:
        """One look at every process: note the ones that exited, start those whose pause is over."""
        now = time.monotonic()
        for service in list(self.stack.services):
            state = self._state.setdefault(service.name, _Backoff(self.first_wait))
            code = service.process.poll()
            self.up.labels(service.name).set(1 if code is None else 0)
            if code is None:
                continue
            if state.due is None:
                ran = now - service.started
                if ran >= self.stable_after:
                    state.wait = self.first_wait
                state.due = now + state.wait
                self.say(f"{service.name} (pid {service.process.pid}) exited with code {code} after {ran:.0f} s; "
                         f"restarting in {state.wait:.0f} s (log: {self.stack.workdir / 'logs' / service.name}.log)")
                state.wait = min(state.wait * 2, self.longest_wait)
            elif now >= state.due:
                try:
                    self.stack.restart(service)
                except OSError as error:  # e.g. out of processes: try again after the next pause
                    self.say(f"{service.name} could not be started ({error}); trying again in {state.wait:.0f} s")
                    state.due = now + state.wait
                    state.wait = min(state.wait * 2, self.longest_wait)
                    continue
                state.due = None
                state.restarts += 1
                self.restarts.labels(service.name).inc()
                self.up.labels(service.name).set(1)
                self.say(f"{service.name} restarted (pid {service.process.pid}, restart {state.restarts})")

    def run(self, interval: float = 0.5) -> None:
        """Watch until `stop` (the caller's thread)."""
        while not self._stop.wait(interval):
            self.check()

    def start(self, interval: float = 0.5) -> "Supervisor":
        """Watch from a thread of its own (tests)."""
        self._thread = threading.Thread(target=self.run, args=(interval,), name="supervisor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _say(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} supervisor: {line}", file=sys.stderr, flush=True)


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
    parser.add_argument("--metrics-port", type=int, default=int(os.environ.get("PROD_METRICS_PORT") or 0),
                        help="port of the supervisor's /metrics (process restarts) on 127.0.0.1 "
                             "(PROD_METRICS_PORT; default: a free port)")
    args = parser.parse_args(argv)

    model = args.model or subprocess.run([sys.executable, str(ROOT / "scripts" / "train.py")], cwd=ROOT, check=True,
                                         stdout=subprocess.PIPE, text=True).stdout.strip()
    stack = ProductionStack(Path(args.workdir).resolve(), Path(model).resolve(), port=args.port,
                            rasa_processes=max(1, args.rasa_processes))

    def interrupted(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    supervisor: Optional[Supervisor] = None
    try:
        stack.start()
        supervisor = Supervisor(stack)
        metrics_port = supervisor.serve_metrics(args.metrics_port)
        print(f"READY {stack.url} {stack.ready_seconds:.1f}", flush=True)
        print("PIDS " + ",".join(f"{name}={pid}" for name, pid in stack.pids().items()), flush=True)
        print(f"DATABASE_URL {stack.env['DATABASE_URL']}", flush=True)
        print(f"METRICS http://127.0.0.1:{metrics_port}/metrics", flush=True)
        print(_banner(stack, metrics_port), flush=True)
        supervisor.run()  # until Ctrl-C or SIGTERM: a process that dies is started again
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("stopping ...", file=sys.stderr)
        if supervisor is not None:
            supervisor.stop()
        stack.stop()
        print("stopped.", file=sys.stderr)


def _banner(stack: ProductionStack, metrics_port: int = 0) -> str:
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
  A process that dies is restarted (backoff 1 s .. 60 s); restarts: http://127.0.0.1:{metrics_port}/metrics
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
