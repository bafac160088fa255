"""The supervisor of ``make run-prod``: restarts the action server, a Rasa process or nginx when it
dies (with backoff), logs every exit and restart, and counts them on its own /metrics.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

from deploy.processes import free_port
from deploy.stack import ProductionStack


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
