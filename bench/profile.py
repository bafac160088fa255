"""`python -m bench.profile`: where a turn's time goes in the production profile, by sampling.

Starts the production profile (`deploy.local`, as `make bench` does), drives it with the bench's
closed-loop customers (bench/load.py), and while they talk, records every Rasa process and the action
server with py-spy (a sampling profiler that attaches to a running process: no code change, no
instrumentation cost in the code it measures). The raw stacks are kept in the run folder; the
per-turn budget is printed as a Markdown table: for each part of a turn (NLU, the channel gate, the
tracker store, the lock store, the action server call, ...) its share of the Rasa processes' busy
samples and the milliseconds of thread time per answered turn that share stands for.

A sample is "busy" unless the thread is idle (a worker waiting for work, the event loop waiting
for I/O). Time a worker thread spends waiting for PostgreSQL or Redis to answer counts as busy: that
is time the turn waits for, which is what the budget is for.

    .venv/bin/python -m bench.profile [--customers 10] [--seconds 30] [--rate 100]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

from bench.dialogues import Phrasebook
from bench.load import closed_loop
from bench.paths import ROOT
from bench.systems import Production

PY_SPY = ROOT / ".venv" / "bin" / "py-spy"
WARMUP_SECONDS = 10.0

# Each sample goes to the first part whose marker is in its stack (most specific first). The
# markers are "function (file" as py-spy writes frames.
PARTS: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ("NLU (tokenizer, linear models, fallback, escalation rules)", ("_parse_message_with_graph (",)),
    ("tracker load (SQL tracker store)", ("fetch_tracker", "get_tracker (", "retrieve (channels/tracker_store",
                                          "retrieve (rasa/core/tracker_store")),
    ("tracker save (SQL tracker store)", ("save_tracker (", "save (channels/tracker_store", "save (rasa/core/tracker_store")),
    ("action server call (request, response)", ("rasa/core/actions/action.py", "rasa/utils/endpoints.py")),
    ("policies and the prediction loop", ("_run_prediction_loop (", "predict_next_with_tracker")),
    ("lock store (Redis)", ("lock_store", "redis/")),
    # The gate's own frames, and the domain calls it makes in worker threads (whose stacks start at
    # the thread pool, not at the gate).
    ("channel gate (handoff state, privacy notice, deliveries)", (
        "_at_gate (channels/hub/gate.py", "flush (channels/hub/gate.py", "_delivered_all (channels/hub/gate.py",
        "_not_in_handoff (channels/hub/gate.py", "route (channels/hub/gate.py", "gate_state (bot/handoff",
        "pending_deliveries (bot/handoff", "customer_message (bot/handoff", "first_contact (bot/privacy",
        "answer (bot/lifecycle")),
    ("background jobs (pump, outbox, sweeps)", ("channels/hub/pump.py", "channels/hub/jobs.py", "bot/outbox")),
    ("metrics and logging", ("channels/metrics.py", "logging/__init__", "bot/logs.py")),
    ("HTTP server (sanic)", ("sanic/",)),
)
IDLE_LEAVES = ("_worker (", "serve (", "select (", "_run_once (", "wait (")


def budget(files: Iterable[Path]) -> Tuple[int, int, Counter]:
    """(samples, busy samples, busy samples per part) of py-spy raw output files."""
    total = busy = 0
    parts: Counter = Counter()
    for path in files:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            samples = int(count)
            total += samples
            if stack.rsplit(";", 1)[-1].startswith(IDLE_LEAVES):
                continue
            busy += samples
            part = next((name for name, markers in PARTS if any(m in stack for m in markers)), "other")
            parts[part] += samples
    return total, busy, parts


def table(busy: int, parts: Counter, turns: float, rate: float) -> str:
    lines = ["| part of a turn | share of busy samples | ms of thread time per turn |", "|---|---|---|"]
    for name, samples in parts.most_common():
        lines.append(f"| {name} | {samples / busy:.1%} | {samples / rate * 1000 / turns:.1f} |")
    lines.append(f"| **all** | 100% | {busy / rate * 1000 / turns:.1f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=10, help="closed-loop customers (default 10)")
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds recorded (default 30)")
    parser.add_argument("--rate", type=int, default=100, help="samples per second (default 100)")
    args = parser.parse_args(list(argv))
    if not PY_SPY.exists():
        print("py-spy is not installed in .venv (it is in requirements.lock: run `make test` or `make run` once)")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    workdir.chmod(0o755)  # the postgres system user must reach the database folder inside it
    print(f"run folder (raw stacks, server logs): {workdir}", file=sys.stderr)
    system = Production(workdir, None)
    system.start()
    spies: List[subprocess.Popen] = []
    outputs: Dict[str, Path] = {}
    try:
        async def run():
            load = asyncio.create_task(closed_loop(
                system.url, concurrency=args.customers, warmup=WARMUP_SECONDS, duration=args.seconds + 5,
                timeout=60, seed=1, book=Phrasebook.load()))
            await asyncio.sleep(WARMUP_SECONDS)
            for name, pid in system.pids.items():
                if name.startswith(("rasa", "actions")):
                    outputs[name] = workdir / f"{name}.txt"
                    spies.append(subprocess.Popen(
                        [str(PY_SPY), "record", "--pid", str(pid), "--rate", str(args.rate), "--duration",
                         str(int(args.seconds)), "--format", "raw", "--nonblocking", "-o", str(outputs[name])],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            return await load

        level = asyncio.run(run())
    finally:
        for spy in spies:
            spy.wait(args.seconds + 60)
        system.stop()
    answered = [t for t in level.turns if not t.lost and level.window_start <= t.started < level.window_end]
    turns = len(answered) * args.seconds / (level.window_end - level.window_start)
    rasa = [path for name, path in outputs.items() if name.startswith("rasa") and path.exists()]
    total, busy, parts = budget(rasa)
    latencies = sorted(t.latency for t in answered)
    print(f"# Where a turn's time goes: production profile, {args.customers} customers, "
          f"{len(rasa)} Rasa processes, py-spy {args.rate} Hz for {args.seconds:.0f} s\n")
    print(f"{len(answered)} answered turns in {level.window_end - level.window_start:.0f} s "
          f"({len(answered) / (level.window_end - level.window_start):.1f} turns/s), "
          f"p50 {latencies[len(latencies) // 2] * 1000:.0f} ms; {total} samples, {busy} busy.\n")
    print(table(busy, parts, turns, args.rate))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
