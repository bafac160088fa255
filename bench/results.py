"""The figures of a run, as plain dataclasses (written to JSON as they are)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from bench.load import LevelRun, StormRun, Turn
from bench.procs import MemorySample
from bench.ticket_audit import Audit


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of `values`; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float

    @classmethod
    def of(cls, turns: Sequence[Turn]) -> "Latency":
        ms = [t.latency * 1000 for t in turns if not t.lost]
        mean = sum(ms) / len(ms) if ms else math.nan
        return cls(percentile(ms, 50), percentile(ms, 95), percentile(ms, 99), max(ms, default=math.nan), mean)


@dataclass(frozen=True)
class LevelResult:
    concurrency: int
    seconds: float  # the measurement window
    turns: int  # started within the window
    lost_turns: int
    throughput: float  # answered turns per second
    latency: Latency
    notes: Dict[str, int]  # completed dialogues, deviations and lost turns by reason (whole level)
    other_cpu_percent: float  # share of all cores used by processes outside the run (other work)
    examples: Dict[str, str]  # the first exchange behind each deviation or lost turn

    @classmethod
    def of(cls, run: LevelRun, other_cpu: float) -> "LevelResult":
        measured = [t for t in run.turns if run.window_start <= t.started < run.window_end]
        seconds = run.window_end - run.window_start
        answered = sum(1 for t in measured if not t.lost)
        return cls(run.concurrency, seconds, len(measured), len(measured) - answered, answered / seconds,
                   Latency.of(measured), dict(sorted(run.notes.items())), round(other_cpu * 100, 1),
                   dict(sorted(run.examples.items())))


@dataclass(frozen=True)
class Memory:
    name: str
    pid: int
    peak_mib: float  # VmHWM
    rss_mib: float  # VmRSS when sampled

    @classmethod
    def of(cls, sample: MemorySample) -> "Memory":
        return cls(sample.name, sample.pid, round(sample.vm_hwm_kib / 1024, 1), round(sample.vm_rss_kib / 1024, 1))


@dataclass
class SystemResult:
    name: str
    description: str
    status: str = "not run"  # "ok", "skipped" or "failed"
    reason: str = ""
    model: str = ""
    training_seconds: Optional[float] = None
    cold_start_seconds: Optional[float] = None  # launch to the first answered message, measured here
    reported_ready_seconds: Optional[float] = None  # what the launcher itself reported (production)
    levels: List[LevelResult] = field(default_factory=list)
    memory: List[Memory] = field(default_factory=list)  # sampled after the load levels
    problems: List[str] = field(default_factory=list)

    def level(self, concurrency: int) -> Optional[LevelResult]:
        return next((lv for lv in self.levels if lv.concurrency == concurrency), None)


@dataclass(frozen=True)
class StormResult:
    system: str
    customers: int
    arrival_seconds: float
    elapsed_seconds: float  # first arrival to the last customer done
    turns: int
    lost_turns: int
    latency: Latency
    confirmed_customers: int  # customers who got 登记成功 with a ticket number
    notes: Dict[str, int]
    audit: Audit
    memory: List[Memory]  # sampled after the storm
    other_cpu_percent: float
    examples: Dict[str, str]

    @classmethod
    def of(cls, system: str, run: StormRun, audit: Audit, memory: List[Memory], other_cpu: float) -> "StormResult":
        return cls(system, run.customers, run.seconds, run.elapsed, len(run.turns),
                   sum(1 for t in run.turns if t.lost), Latency.of(run.turns), len(run.confirmed),
                   dict(sorted(run.notes.items())), audit, memory, round(other_cpu * 100, 1),
                   dict(sorted(run.examples.items())))
