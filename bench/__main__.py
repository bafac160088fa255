"""`python -m bench [--quick] ...`: runs every system in turn and writes `bench/results/<date>.*`.

Progress goes to stderr; the Markdown report is printed to stdout at the end. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import List, Optional, Sequence

import uvloop

from bench import baseline, report
from bench.dialogues import Phrasebook
from bench.load import closed_loop, storm
from bench.paths import MODELS, PYTHON, RESULTS, ROOT
from bench.procs import CpuWatch, StartupError
from bench.results import LevelResult, Memory, StormResult, SystemResult
from bench.systems import Embedded, Production, Stock, System, base_env
from bench.ticket_audit import audit

# Always run in this order: the storm runs on the production profile, or on the embedded one when the
# production profile is not available or fails.
SYSTEMS = ("production", "embedded", "stock")


@dataclass(frozen=True)
class Settings:
    systems: List[str]
    levels: List[int]
    warmup: float
    duration: float
    request_timeout: float
    storm_customers: int
    storm_seconds: float
    rasa_processes: Optional[int]
    stock_epochs: int
    seed: int
    quick: bool
    keep_workdir: bool


def parse_args(argv: Optional[Sequence[str]]) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="short run: 2 s warm-up, 10 s per level, storm of 100 customers over 10 s "
                             "(each can still be set explicitly)")
    parser.add_argument("--systems", default=",".join(SYSTEMS),
                        help=f"comma-separated subset of {','.join(SYSTEMS)} (always run in that order)")
    parser.add_argument("--levels", default="1,20,100", help="concurrency levels (default 1,20,100)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up per level (default 5)")
    parser.add_argument("--duration", type=float, help="seconds measured per level (default 30)")
    parser.add_argument("--request-timeout", type=float, default=60.0,
                        help="a turn without its reply after this many seconds is lost (default 60)")
    parser.add_argument("--storm-customers", type=int, help="customers in the outage storm (default 1000)")
    parser.add_argument("--storm-seconds", type=float, help="seconds over which they arrive (default 60)")
    parser.add_argument("--rasa-processes", type=int, help="passed to deploy.local (default: its own)")
    parser.add_argument("--stock-epochs", type=int, default=baseline.STOCK_EPOCHS,
                        help=f"epochs of the stock baseline's DIET, ResponseSelector and TED (default "
                             f"{baseline.STOCK_EPOCHS}; the textbook 100 takes hours, and serving cost does not "
                             "depend on it: see bench/baseline.py)")
    parser.add_argument("--seed", type=int, default=1, help="what the virtual customers say (default 1)")
    parser.add_argument("--keep-workdir", action="store_true", help="keep the run folder (server logs)")
    args = parser.parse_args(argv)
    chosen = {s.strip() for s in args.systems.split(",") if s.strip()}
    systems = [s for s in SYSTEMS if s in chosen]
    if chosen - set(SYSTEMS) or not systems:
        parser.error(f"--systems: choose from {', '.join(SYSTEMS)}")
    try:
        levels = [int(level) for level in args.levels.split(",")]
    except ValueError:
        parser.error("--levels: comma-separated integers")
    if any(level < 1 for level in levels):
        parser.error("--levels: each at least 1")

    def pick(value: Optional[float], normal: float, quick: float) -> float:
        return value if value is not None else (quick if args.quick else normal)

    return Settings(
        systems=systems,
        levels=levels,
        warmup=pick(args.warmup, 5, 2),
        duration=pick(args.duration, 30, 10),
        request_timeout=args.request_timeout,
        storm_customers=int(pick(args.storm_customers, 1000, 100)),
        storm_seconds=pick(args.storm_seconds, 60, 10),
        rasa_processes=args.rasa_processes,
        stock_epochs=args.stock_epochs,
        seed=args.seed,
        quick=args.quick,
        keep_workdir=args.keep_workdir,
    )


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def our_model() -> Path:
    """Trains our model if its inputs changed (as `make bench` already did) and returns its path."""
    result = subprocess.run([str(PYTHON), "scripts/train.py"], cwd=ROOT, env=base_env(), stdout=subprocess.PIPE,
                            text=True, check=True)
    return Path(result.stdout.strip().splitlines()[-1])


def our_training_seconds() -> Optional[float]:
    recorded = MODELS / "TRAINING_SECONDS"
    return float(recorded.read_text()) if recorded.exists() else None


def _level_line(name: str, level: LevelResult) -> str:
    return (f"   {name} @ {level.concurrency:>3}: {level.throughput:7.1f} turns/s  p50 {level.latency.p50_ms:7.0f} ms  "
            f"p99 {level.latency.p99_ms:7.0f} ms  lost {level.lost_turns}/{level.turns}  "
            f"(other work on the machine: {level.other_cpu_percent:.0f} % CPU)")


def run_storm(system: System, settings: Settings) -> StormResult:
    say(f"   outage storm: {settings.storm_customers} customers over {settings.storm_seconds:g} s ...")
    watch = CpuWatch(m.pid for m in system.memory())
    run = asyncio.run(storm(system.url, customers=settings.storm_customers, seconds=settings.storm_seconds,
                            timeout=settings.request_timeout, seed=settings.seed))
    other_cpu = watch.other_share()
    result = StormResult.of(system.name, run, audit(system.ticket_store, run.prefix, run.senders, run.confirmed),
                            [Memory.of(m) for m in system.memory()], other_cpu)
    say(f"   storm: p99 {result.latency.p99_ms:.0f} ms, lost {result.lost_turns}/{result.turns} turns, "
        f"{result.audit.tickets} tickets, {result.audit.duplicate_tickets} duplicates, "
        f"done after {result.elapsed_seconds:.1f} s")
    return result


def measure(system: System, result: SystemResult, settings: Settings, book: Phrasebook) -> None:
    say(f"== {system.name}: starting ({system.description}) ...")
    system.start()
    result.cold_start_seconds = system.ready_seconds
    result.reported_ready_seconds = system.reported_ready_seconds
    say(f"   answering after {system.ready_seconds:.1f} s at {system.url}")
    for concurrency in settings.levels:
        watch = CpuWatch(m.pid for m in system.memory())
        run = asyncio.run(closed_loop(system.url, concurrency=concurrency, warmup=settings.warmup,
                                      duration=settings.duration, timeout=settings.request_timeout,
                                      seed=settings.seed, book=book))
        result.levels.append(LevelResult.of(run, watch.other_share()))
        say(_level_line(system.name, result.levels[-1]))
    result.memory = [Memory.of(m) for m in system.memory()]
    result.status = "ok"


def make_system(name: str, workdir: Path, settings: Settings, result: SystemResult) -> Optional[System]:
    """The system to measure, or None (with the reason in `result`) when it cannot run here."""
    if name == "production":
        if not Production.available():
            result.status, result.reason = "skipped", "deploy/local.py does not exist yet"
            return None
        model = our_model()  # deploy.local serves the same model
        result.model, result.training_seconds = str(model.relative_to(ROOT)), our_training_seconds()
        return Production(workdir, settings.rasa_processes)
    if name == "embedded":
        model = our_model()
        result.model, result.training_seconds = str(model.relative_to(ROOT)), our_training_seconds()
        return Embedded(workdir, model)
    say("== stock: the baseline model ...")
    trained = baseline.ensure_trained({k: v for k, v in base_env().items() if k != "PYTHONPATH"},
                                      workdir / "stock-train.log", settings.stock_epochs)
    result.model, result.training_seconds = str(trained.path.relative_to(ROOT)), trained.training_seconds
    result.description += f", trained {trained.epochs} epochs"
    return Stock(workdir, trained.path)


def description(name: str) -> str:
    return {"embedded": Embedded.description, "production": Production.description, "stock": Stock.description}[name]


def _terminate(signum: int, frame: Optional[FrameType]) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    settings = parse_args(argv)
    for signum in (signal.SIGINT, signal.SIGTERM):  # stop the servers on Ctrl-C and SIGTERM alike
        signal.signal(signum, _terminate)
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    workdir.chmod(0o711)  # deploy.local runs PostgreSQL as the `postgres` user, which must reach its folder
    say(f"run folder (server logs): {workdir}")
    book = Phrasebook.load()
    results: List[SystemResult] = []
    storm_result: Optional[StormResult] = None
    failed = False
    for name in settings.systems:
        result = SystemResult(name, description(name))
        results.append(result)
        system: Optional[System] = None
        try:
            system = make_system(name, workdir, settings, result)
            if system is None:
                say(f"== {name}: skipped: {result.reason}")
                continue
            measure(system, result, settings, book)
            if name in ("production", "embedded") and storm_result is None:
                storm_result = run_storm(system, settings)
        except KeyboardInterrupt:
            say(f"interrupted; stopping the servers; logs kept in {workdir}")
            raise
        except Exception as error:  # one system failing must not hide the others' figures
            failed = True
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            if result.status == "ok":  # the load figures stand; the storm failed
                result.problems.append(f"outage storm failed: {reason}")
            else:
                result.status, result.reason = "failed", reason
            say(f"== {name} FAILED:\n{traceback.format_exc()}")
            if system is not None and not isinstance(error, StartupError):
                say(system.logs())
        finally:
            if system is not None:
                system.stop()
                result.problems += system.problems

    date = datetime.now().strftime("%Y-%m-%d")
    RESULTS.mkdir(parents=True, exist_ok=True)
    found = report.ratios(results)
    goals = report.targets(results, found, storm_result)
    info = report.machine()
    text = report.markdown(date, info, asdict(settings), results, found, storm_result, goals)
    report.write_json(RESULTS / f"{date}.json", {
        "date": date, "machine": info, "settings": settings, "systems": results, "ratios": found,
        "storm": storm_result, "targets": goals,
    })
    (RESULTS / f"{date}.md").write_text(text + "\n", encoding="utf-8")
    report.plot(RESULTS / f"{date}-latency.png", date, results)
    print(text)
    say(f"written: {', '.join(str((RESULTS / f'{date}{s}').relative_to(ROOT)) for s in ('.json', '.md', '-latency.png'))}")
    if failed or settings.keep_workdir:
        say(f"run folder kept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
