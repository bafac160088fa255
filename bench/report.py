"""The run's outputs: `bench/results/<date>.json` (every figure), `<date>.md` (the tables, also printed)
and `<date>-latency.png` (latency and throughput against concurrency)."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from bench.paths import ROOT
from bench.results import Memory, StormResult, SystemResult

OURS = ("production", "embedded")
STOCK = "stock"
# The goals of issue 19 (speed), for the production profile.
TARGET_CONCURRENCY = 20
TARGET_THROUGHPUT_RATIO = 5.0
TARGET_P99_AT_20_MS = 300.0
HIGH_CONCURRENCY = 100
TARGET_P99_AT_100_MS = 1500.0
TARGET_READY_SECONDS = 15.0
TARGET_STORM_P99_MS = 3000.0
TARGET_RASA_PEAK_MIB = 1.2e9 / 2 ** 20  # 1.2 GB per Rasa process
# The operator's figure: how many customers one core serves with p99 within this.
CAPACITY_P99_MS = 1000.0


@dataclass(frozen=True)
class Target:
    target: str
    system: str
    measured: str
    met: Optional[bool]  # None: not measured in this run


@dataclass(frozen=True)
class Ratio:
    system: str
    concurrency: int
    throughput: float  # ours / stock (higher is better)
    p99: float  # ours / stock (lower is better)


def machine() -> Dict[str, Any]:
    def first(path: str, key: str) -> str:
        with open(path) as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith(key)), "")

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": first("/proc/cpuinfo", "model name"),
        "memory_gib": round(int(first("/proc/meminfo", "MemTotal").split()[0]) / 1024 ** 2, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "rasa": metadata.version("rasa"),
        "git_commit": git("rev-parse", "HEAD"),
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def ratios(systems: Sequence[SystemResult]) -> List[Ratio]:
    stock = next((s for s in systems if s.name == STOCK and s.status == "ok"), None)
    if stock is None:
        return []
    found = []
    for ours in systems:
        if ours.name == STOCK or ours.status != "ok":
            continue
        for level in ours.levels:
            base = stock.level(level.concurrency)
            if base is not None:
                found.append(Ratio(ours.name, level.concurrency, _divide(level.throughput, base.throughput),
                                   _divide(level.latency.p99_ms, base.latency.p99_ms)))
    return found


def _divide(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan


def customers_per_core(system: SystemResult, cores: int) -> Optional[float]:
    """Concurrent customers per core at which p99 reaches CAPACITY_P99_MS, interpolated linearly
    between the two measured levels around it (closed-loop latency grows about linearly with the
    customers once the processes are busy); None when no pair of levels brackets it."""
    levels = sorted(system.levels, key=lambda lv: lv.concurrency)
    for low, high in zip(levels, levels[1:]):
        if low.latency.p99_ms <= CAPACITY_P99_MS < high.latency.p99_ms:
            share = (CAPACITY_P99_MS - low.latency.p99_ms) / (high.latency.p99_ms - low.latency.p99_ms)
            return (low.concurrency + share * (high.concurrency - low.concurrency)) / cores
    return None


def targets(systems: Sequence[SystemResult], found: Sequence[Ratio], storm: Optional[StormResult]) -> List[Target]:
    rows: List[Target] = []
    for system in systems:
        if system.name not in OURS or system.status != "ok":
            continue
        ratio = next((r for r in found if r.system == system.name and r.concurrency == TARGET_CONCURRENCY), None)
        rows.append(Target(f"at {TARGET_CONCURRENCY} concurrent: throughput ≥ {TARGET_THROUGHPUT_RATIO:g}× stock",
                           system.name, f"{ratio.throughput:.2f}×" if ratio else "n/a",
                           ratio.throughput >= TARGET_THROUGHPUT_RATIO if ratio else None))
        for concurrency, limit in ((TARGET_CONCURRENCY, TARGET_P99_AT_20_MS), (HIGH_CONCURRENCY, TARGET_P99_AT_100_MS)):
            level = system.level(concurrency)
            rows.append(Target(f"at {concurrency} concurrent: p99 ≤ {limit:g} ms", system.name,
                               f"{level.latency.p99_ms:.0f} ms" if level else "n/a",
                               level.latency.p99_ms <= limit if level else None))
        ready = system.cold_start_seconds
        rows.append(Target(f"ready ≤ {TARGET_READY_SECONDS:g} s", system.name,
                           f"{ready:.1f} s" if ready is not None else "n/a",
                           ready <= TARGET_READY_SECONDS if ready is not None else None))
        rasa = [m for m in system.memory if "rasa" in m.name and "/" not in m.name]
        peak = max((m.peak_mib for m in rasa), default=None)
        rows.append(Target(f"peak memory per Rasa process ≤ {TARGET_RASA_PEAK_MIB:,.0f} MiB (1.2 GB)", system.name,
                           f"{peak:,.0f} MiB" if peak is not None else "n/a",
                           peak <= TARGET_RASA_PEAK_MIB if peak is not None else None))
    if storm is not None:
        rows.append(Target(f"storm: p99 ≤ {TARGET_STORM_P99_MS:g} ms", storm.system, f"{storm.latency.p99_ms:.0f} ms",
                           storm.latency.p99_ms <= TARGET_STORM_P99_MS))
        rows.append(Target("storm: 0 lost turns", storm.system, str(storm.lost_turns), storm.lost_turns == 0))
        rows.append(Target("storm: 0 duplicate tickets", storm.system, str(storm.audit.duplicate_tickets),
                           storm.audit.duplicate_tickets == 0))
        rows.append(Target(f"storm: one ticket per customer ({storm.customers})", storm.system,
                           f"{storm.audit.tickets} tickets, {storm.audit.customers_without} customers without",
                           storm.audit.tickets == storm.customers and storm.audit.customers_with_one == storm.customers))
    return rows


# --- JSON ----------------------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    """Dataclasses to dicts, NaN to null (strict JSON)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def write_json(path: Path, document: Dict[str, Any]) -> None:
    path.write_text(json.dumps(_plain(document), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# --- Markdown ------------------------------------------------------------------------------------------

def _num(value: Optional[float], digits: int = 0) -> str:
    if value is None or math.isnan(value):
        return "–"
    return f"{value:,.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> List[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def _memory_rows(label: str, samples: Sequence[Memory]) -> List[List[str]]:
    """One row per process the system names, its children folded in, and a total."""
    rows: List[List[str]] = []
    for top in (m for m in samples if "/" not in m.name):
        children = [m for m in samples if m.name == f"{top.name}/child"]
        rows.append([label, top.name, str(top.pid), _num(top.peak_mib, 1), str(len(children)),
                     _num(top.peak_mib + sum(c.peak_mib for c in children), 1)])
    if rows:
        rows.append([label, "**all**", "", "", "", f"**{_num(sum(m.peak_mib for m in samples), 1)}**"])
    return rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _mark(met: Optional[bool]) -> str:
    return {True: "✅ met", False: "❌ missed", None: "– not measured"}[met]


def markdown(date: str, info: Dict[str, Any], settings: Dict[str, Any], systems: Sequence[SystemResult],
             found: Sequence[Ratio], storm: Optional[StormResult], goals: Sequence[Target]) -> str:
    lines = [f"# Benchmark {date}", ""]
    dirty = " (uncommitted changes)" if info["git_dirty"] else ""
    lines += [
        f"Machine: {info['nproc']} cores ({info['cpu_model']}), {info['memory_gib']} GiB, {info['platform']}; "
        f"Python {info['python']}, Rasa {info['rasa']}; commit {info['git_commit'][:12]}{dirty}.",
        "",
        f"Load: closed loop at concurrency {', '.join(map(str, settings['levels']))}; warm-up {settings['warmup']:g} s, "
        f"then {settings['duration']:g} s measured per level; request timeout {settings['request_timeout']:g} s"
        f"{' (quick mode)' if settings['quick'] else ''}. Storm: {settings['storm_customers']} customers arriving "
        f"over {settings['storm_seconds']:g} s.",
        "",
    ]
    for system in systems:
        lines.append(f"- **{system.name}**: {system.description} — {system.status}"
                     + (f": {system.reason}" if system.reason else ""))
    lines.append("")

    lines += ["## Targets", ""]
    lines += _table(["target", "system", "measured", "result"],
                    [[g.target, g.system, g.measured, _mark(g.met)] for g in goals])

    lines += ["## Latency and throughput", "",
              "Turn latency = request to full reply. Ratios are ours ÷ stock at the same concurrency "
              "(throughput: higher is better; p99: lower is better).", ""]
    rows = []
    for system in systems:
        for level in system.levels:
            ratio = next((r for r in found if r.system == system.name and r.concurrency == level.concurrency), None)
            rows.append([system.name, str(level.concurrency), str(level.turns), str(level.lost_turns),
                         _num(level.throughput, 1), _num(level.latency.p50_ms), _num(level.latency.p95_ms),
                         _num(level.latency.p99_ms), _num(level.latency.max_ms),
                         f"{_num(ratio.throughput, 2)}×" if ratio else "", f"{_num(ratio.p99, 2)}×" if ratio else "",
                         _num(level.other_cpu_percent)])
    lines += _table(["system", "concurrency", "turns", "lost", "turns/s", "p50 ms", "p95 ms", "p99 ms", "max ms",
                     "throughput ÷ stock", "p99 ÷ stock", "other CPU %"], rows)
    capacity = [f"{s.name} {_num(per_core, 1)}" for s in systems
                for per_core in [customers_per_core(s, info["nproc"])] if per_core is not None]
    lines += [f"*Customers per core at p99 ≤ {CAPACITY_P99_MS:g} ms* (closed loop, no think time; interpolated "
              f"between the levels around it): {'; '.join(capacity) if capacity else 'not bracketed by the levels run'}.",
              ""]
    lines += ["*Other CPU %*: share of the machine's cores used meanwhile by processes outside the run (other work "
              "on the machine); above a few percent the figures are pessimistic.", ""]

    lines += ["### Dialogue outcomes", "",
              "Whole level including warm-up. A deviation is a reply the scripted customer could not continue "
              "from (the bot answered, but not as the flow needs); it ends that dialogue, it is not a lost turn.",
              ""]
    lines += _table(["system", "concurrency", "outcomes"],
                    [[s.name, str(lv.concurrency), "; ".join(f"{k}: {v}" for k, v in lv.notes.items()) or "–"]
                     for s in systems for lv in s.levels])
    examples = [[s.name, str(lv.concurrency), reason, _cell(text)]
                for s in systems for lv in s.levels for reason, text in lv.examples.items()]
    if storm is not None:
        examples += [[f"{storm.system} (storm)", "", reason, _cell(text)] for reason, text in storm.examples.items()]
    if examples:
        lines += ["First example of each (the customer's last message → the bot's reply):", ""]
        lines += _table(["system", "concurrency", "outcome", "example"], examples)

    if storm is not None:
        a = storm.audit
        lines += [f"## Outage storm ({storm.system})", "",
                  f"{storm.customers} customers complain about the same outage, arriving at random over "
                  f"{storm.arrival_seconds:g} s; each walks the complaint to 登记成功 with a ticket number. "
                  f"All done {storm.elapsed_seconds:.1f} s after the first arrival.", ""]
        lines += _table(["turns", "lost", "p50 ms", "p95 ms", "p99 ms", "max ms", "confirmed", "tickets stored",
                         "customers with one", "without", "duplicates", "confirmed but not stored", "other CPU %"],
                        [[str(storm.turns), str(storm.lost_turns), _num(storm.latency.p50_ms),
                          _num(storm.latency.p95_ms), _num(storm.latency.p99_ms), _num(storm.latency.max_ms),
                          str(storm.confirmed_customers), str(a.tickets), str(a.customers_with_one),
                          str(a.customers_without), str(a.duplicate_tickets), str(a.confirmed_not_stored),
                          _num(storm.other_cpu_percent)]])
        if storm.notes:
            lines += ["Outcomes: " + "; ".join(f"{k}: {v}" for k, v in storm.notes.items()), ""]

    lines += ["## Cold start and training", "",
              "Ready = launch to the first answered message (model loaded and answering)."
              " Training time as measured when the model was trained.", ""]
    lines += _table(["system", "ready s", "launcher reported s", "training s", "model"],
                    [[s.name, _num(s.cold_start_seconds, 1), _num(s.reported_ready_seconds, 1),
                      _num(s.training_seconds), s.model or "–"] for s in systems if s.status != "skipped"])

    lines += ["## Peak memory", "",
              "VmHWM (peak resident set) from /proc, sampled after the load levels"
              + (" and again after the storm" if storm is not None else "")
              + ". A process's children (PostgreSQL backends, nginx workers) are summed beside it: the sum of "
              "peaks is an upper bound (peaks need not coincide; shared pages count in each).", ""]
    rows = [row for s in systems for row in _memory_rows(s.name, s.memory)]
    if storm is not None:
        rows += _memory_rows(f"{storm.system} (after storm)", storm.memory)
    lines += _table(["system", "process", "pid", "peak MiB", "children", "with children MiB"], rows)

    problems = [f"- {s.name}: {p}" for s in systems for p in s.problems]
    if problems:
        lines += ["## Problems", "", *problems, ""]
    return "\n".join(lines)


# --- the plot ------------------------------------------------------------------------------------------

def plot(path: Path, date: str, systems: Sequence[SystemResult]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullLocator

    figure, (latency, throughput) = plt.subplots(1, 2, figsize=(12, 4.8))
    measured = [s for s in systems if s.levels]
    if not measured:
        figure.text(0.5, 0.5, "no load level was measured", ha="center")
        figure.savefig(path, dpi=120)
        plt.close(figure)
        return
    levels = sorted({lv.concurrency for s in measured for lv in s.levels})
    for index, system in enumerate(measured):
        color = f"C{index}"
        x = [lv.concurrency for lv in system.levels]
        latency.plot(x, [lv.latency.p99_ms for lv in system.levels], "o-", color=color, label=f"{system.name} p99")
        latency.plot(x, [lv.latency.p50_ms for lv in system.levels], "s--", color=color, alpha=0.7,
                     label=f"{system.name} p50")
        throughput.plot(x, [lv.throughput for lv in system.levels], "o-", color=color, label=system.name)
    for axis in (latency, throughput):
        axis.set_xscale("log")
        axis.set_xticks(levels)
        axis.set_xticklabels([str(level) for level in levels])
        axis.xaxis.set_minor_locator(NullLocator())
        axis.set_xlabel("concurrent customers (closed loop)")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize="small")
    latency.set_yscale("log")
    latency.set_ylabel("turn latency (ms, log scale)")
    for limit, concurrency in ((TARGET_P99_AT_20_MS, TARGET_CONCURRENCY), (TARGET_P99_AT_100_MS, HIGH_CONCURRENCY)):
        latency.axhline(limit, color="grey", linestyle=":", linewidth=1)
        latency.annotate(f"p99 target at {concurrency}", (levels[0], limit), fontsize="x-small", color="grey",
                         xytext=(2, 2), textcoords="offset points")
    latency.set_title("Latency: p50 (dashed) and p99 (solid)")
    throughput.set_ylabel("answered turns per second")
    throughput.set_ylim(bottom=0)
    throughput.set_title("Throughput")
    figure.suptitle(f"Benchmark {date}")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
