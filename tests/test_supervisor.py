"""The supervisor of `make run-prod` (deploy/supervisor.py) on real processes: restarts with backoff, the
others untouched, counted on its own /metrics."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import List

import requests

from deploy.local import ProductionStack, Service, Supervisor


def service(stack: ProductionStack, name: str, code: str) -> Service:
    args = [sys.executable, "-c", code]
    (stack.workdir / "logs").mkdir(parents=True, exist_ok=True)
    return Service(name, stack._launch(name, args), "", args)


def test_a_dead_process_is_restarted_with_backoff_while_the_others_keep_running(tmp_path):
    stack = ProductionStack(tmp_path, tmp_path / "model.tar.gz")
    crashing = service(stack, "crashing", "import sys; sys.exit(3)")  # dies at once, every time
    steady = service(stack, "steady", "import time; time.sleep(600)")
    steady_pid = steady.process.pid
    stack.services = [crashing, steady]
    said: List[str] = []
    supervisor = Supervisor(stack, first_wait=0.5, longest_wait=2.0, stable_after=30, say=said.append)
    port = supervisor.serve_metrics()
    starts: List[float] = []
    pid = crashing.process.pid
    try:
        deadline = time.monotonic() + 30
        while len(starts) < 4 and time.monotonic() < deadline:
            supervisor.check()
            if crashing.process.pid != pid:
                pid = crashing.process.pid
                starts.append(time.monotonic())
            time.sleep(0.02)
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        steady_untouched = steady.process.poll() is None and steady.process.pid == steady_pid
    finally:
        supervisor.stop()
        for s in stack.services:
            s.process.kill()
            s.process.wait()
    assert len(starts) == 4, said
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:])]
    # Each pause doubles (0.5, 1, 2 s) up to the longest (2 s, not 4); the process itself dies at once.
    assert 0.9 < gaps[0] < 1.9 and 1.9 < gaps[1] < 3.5 and 1.9 < gaps[2] < 3.5, gaps
    assert steady_untouched
    assert 'intake_process_restarts_total{process="crashing"} 4.0' in metrics
    assert 'intake_process_restarts_total{process="steady"} 0.0' in metrics
    assert 'intake_process_up{process="steady"} 1.0' in metrics
    assert any("crashing" in line and "exited with code 3" in line for line in said)
    assert any(line.startswith("crashing restarted") and "restart 4" in line for line in said)


def test_the_pause_starts_short_again_after_a_process_ran_for_a_while(tmp_path):
    stack = ProductionStack(tmp_path, tmp_path / "model.tar.gz")
    sleeper = service(stack, "sleeper", "import time; time.sleep(600)")
    stack.services = [sleeper]
    supervisor = Supervisor(stack, first_wait=0.1, longest_wait=5, stable_after=0.3, say=lambda line: None)
    try:
        supervisor._state["sleeper"].wait = 5  # after earlier quick deaths
        time.sleep(0.4)  # it has now run longer than stable_after
        sleeper.process.kill()
        sleeper.process.wait()
        old = sleeper.process.pid
        restarted_by = time.monotonic() + 2
        while sleeper.process.pid == old and time.monotonic() < restarted_by:
            supervisor.check()
            time.sleep(0.02)
        assert sleeper.process.pid != old  # restarted after 0.1 s, not 5 s
    finally:
        supervisor.stop()
        sleeper.process.kill()
        sleeper.process.wait()


def test_what_a_dead_process_left_in_its_group_goes_with_it(tmp_path):
    """nginx's master dies, its workers keep the port: the restart must not find it taken."""
    stack = ProductionStack(tmp_path, tmp_path / "model.tar.gz")
    leader = service(stack, "leader", "import subprocess, time, sys; "
                     "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
                     "print(child.pid, flush=True); time.sleep(600)")
    stack.services = [leader]
    time.sleep(1.0)
    child = int((tmp_path / "logs" / "leader.log").read_text().split()[0])
    leader.process.kill()  # the leader only: its child stays
    leader.process.wait()
    assert Path(f"/proc/{child}").exists()
    stack.restart(leader)
    try:
        deadline = time.monotonic() + 5
        while Path(f"/proc/{child}").exists() and _state(child) != "Z" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not Path(f"/proc/{child}").exists() or _state(child) == "Z"
    finally:
        leader.process.kill()
        leader.process.wait()
        try:
            os.killpg(leader.process.pid, signal.SIGKILL)  # the group this test started
        except ProcessLookupError:
            pass


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return "gone"
