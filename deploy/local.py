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
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import List, Optional
from urllib.parse import urlsplit, urlunsplit

from deploy.postgres import LocalPostgres, postgres_binaries
from deploy.processes import free_port, terminate
from deploy.stack import ROOT, ProductionStack, Service
from deploy.supervisor import Supervisor

# The names callers and tests import from here (the module was all of these once).
__all__ = [
    "LocalPostgres",
    "ProductionStack",
    "Service",
    "Supervisor",
    "free_port",
    "main",
    "postgres_binaries",
    "terminate",
]


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
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


if __name__ == "__main__":
    sys.exit(main())
