"""Server processes: started in their own process group with their output in the run's folder,
waited for, measured (peak memory) and always stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional

import requests

STOP_TIMEOUT = 30.0


class StartupError(RuntimeError):
    """A system under test did not become ready; the message carries its logs."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class MemorySample:
    name: str
    pid: int
    vm_hwm_kib: int  # peak resident set size (VmHWM)
    vm_rss_kib: int


def _status_fields(pid: int) -> Dict[str, str]:
    fields: Dict[str, str] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def _kib(value: str) -> int:
    return int(value.split()[0]) if value else 0


def memory_of(name: str, pid: int) -> Optional[MemorySample]:
    """VmHWM and VmRSS of one process, or None when it is gone."""
    try:
        fields = _status_fields(pid)
    except (FileNotFoundError, ProcessLookupError):
        return None
    return MemorySample(name, pid, _kib(fields.get("VmHWM", "")), _kib(fields.get("VmRSS", "")))


def running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def descendants(pid: int) -> List[int]:
    """Every live process below `pid` (children, grandchildren, ...)."""
    children: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # the command name may contain spaces and parentheses: the ppid follows the last ')'
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found: List[int] = []
    pending = list(children.get(pid, []))
    while pending:
        child = pending.pop()
        found.append(child)
        pending.extend(children.get(child, []))
    return sorted(found)


def _busy_ticks() -> int:
    """CPU time of the whole machine, all cores, in clock ticks, less idle and I/O wait."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    return sum(values) - values[3] - values[4]


def _ticks_of(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0


class CpuWatch:
    """How much of the machine's CPU went to processes outside the measurement (other work on the
    machine) between `start` and `other_share()`: a busy neighbour makes every figure worse."""

    def __init__(self, pids: Iterable[int]) -> None:
        self.pids = sorted(set(pids) | {os.getpid()})
        self.started = time.monotonic()
        self.busy = _busy_ticks()
        self.ours = sum(_ticks_of(pid) for pid in self.pids)

    def other_share(self) -> float:
        """Share (0..1) of all cores used by other processes (processes that ended count as other)."""
        elapsed = time.monotonic() - self.started
        capacity = elapsed * os.sysconf("SC_CLK_TCK") * (os.cpu_count() or 1)
        ours = sum(_ticks_of(pid) for pid in self.pids) - self.ours
        return max(0.0, (_busy_ticks() - self.busy - ours) / capacity) if capacity else 0.0


class Process:
    """One command in its own session (process group); stdout and stderr go to `log`."""

    def __init__(self, name: str, args: List[str], *, cwd: Path, env: Dict[str, str], log: Path,
                 on_line: Optional[Callable[[str], None]] = None) -> None:
        self.name = name
        self.log = log
        self._log_file = open(log, "ab")
        self._reader: Optional[threading.Thread] = None
        if on_line is None:
            self.popen = subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=self._log_file,
                                          stderr=subprocess.STDOUT, start_new_session=True)
        else:  # the launcher's own lines are parsed as they come and kept in the log
            self.popen = subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT, start_new_session=True)
            self._reader = threading.Thread(target=self._tee, args=(on_line,), daemon=True, name=f"{name}-output")
            self._reader.start()

    def _tee(self, on_line: Callable[[str], None]) -> None:
        assert self.popen.stdout is not None
        for raw in self.popen.stdout:
            self._log_file.write(raw)
            self._log_file.flush()
            on_line(raw.decode("utf-8", errors="replace").rstrip("\n"))

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def memory(self) -> List[MemorySample]:
        """This process and everything it started, while they run."""
        samples = [memory_of(self.name, self.pid)]
        samples += [memory_of(f"{self.name}/child", child) for child in descendants(self.pid)]
        return [s for s in samples if s is not None]

    def stop(self, *, group_signal: bool = True, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM (to the whole group, or to the leader only when it stops its own children), then
        SIGKILL to the group for whatever is left after `timeout`."""
        if self.alive():
            try:
                if group_signal:
                    os.killpg(self.pid, signal.SIGTERM)
                else:
                    self.popen.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.pid, signal.SIGKILL)  # leftovers in the group, if any
        except (ProcessLookupError, PermissionError):
            pass
        self.popen.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
            if self._reader.is_alive():  # a grandchild still holds the pipe: the reader keeps the log open
                return
        self._log_file.close()

    def tail(self, chars: int = 4000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.log.name} (last {chars} characters) ---\n{text[-chars:]}"


def logs(processes: Iterable[Process]) -> str:
    return "\n".join(p.tail() for p in processes)


def wait_until(check: Callable[[], bool], *, what: str, processes: List[Process], timeout: float,
               interval: float = 0.25) -> None:
    """Polls `check` until it holds; fails early when a process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in processes:
            if not p.alive():
                raise StartupError(f"{p.name} exited with {p.popen.returncode} while waiting for {what}\n"
                                   f"{logs(processes)}")
        if check():
            return
        time.sleep(interval)
    raise StartupError(f"{what}: not ready after {timeout:.0f} s\n{logs(processes)}")


def http_ok(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return requests.get(url, timeout=2).status_code == 200
        except requests.RequestException:
            return False
    return check


def answers(base_url: str, sender: str) -> Callable[[], bool]:
    """True once the REST channel gives a non-empty reply: the model is loaded and answering."""
    def check() -> bool:
        try:
            r = requests.post(f"{base_url}/webhooks/rest/webhook", json={"sender": sender, "message": "你好"},
                              timeout=30)
            return r.status_code == 200 and any(m.get("text") for m in r.json())
        except (requests.RequestException, ValueError):
            return False
    return check
