"""The head of a parallel run: plans the stages, hands each to a Dask worker once the stages it
reads from have finished, stops their descendants when one fails, and ends on `dvc status`.

A run writes ``<log dir>/<stage>.log`` (each stage's stdout and stderr) and ``run.json``: every
stage's worker, start and end (seconds since the epoch), outcome and exit code, and the plan. A
stage that fails stops the stages downstream of it; the others go on, and the run exits 1 naming
each failed stage with the end of its log. SIGINT, SIGTERM or SIGHUP stop the running stages
(SIGINT to each one's process group, as Ctrl-C stops `dvc repro`), close the cluster and exit
128 + the signal's number; finished stages are in dvc.lock, so the next run starts where this one
stopped.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import chdir, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jena_forecast.parallel.plan import Plan, make_plan, remaining_chain
from jena_forecast.parallel.records import StageRecord, adopt, collect
from jena_forecast.parallel.worker import (
    StageJob,
    StageRun,
    cpu_count,
    describe_clone,
    dvc,
    git_commit,
    head_pools,
    run_stage,
    stage_environment,
    stop_running_stages,
)

RUN_RECORD = "run.json"
STAGE_SECONDS = "stage_seconds.json"  # every stage's latest time, for the next run's priorities
LOG_TAIL_LINES = 40
DONE = ("ran", "restored", "unchanged")


class StopSignalError(Exception):
    """A stop signal arrived (SIGTERM, SIGHUP; SIGINT arrives as KeyboardInterrupt)."""

    def __init__(self, number: int) -> None:
        super().__init__(signal.Signals(number).name)
        self.number = number


@dataclass(frozen=True)
class Settings:
    root: Path
    jobs: int = 1
    scheduler: str | None = None  # a running cluster's address: every worker in its own clone
    targets: tuple[str, ...] = ()
    threads: int | None = None  # per stage; None: the CPUs of a machine over its workers; 0: unset
    log_dir: Path = Path("build/repro-logs")


@dataclass
class Outcome:
    """What a run did: each stage's run, the stages not run because an upstream stage failed, and
    what the final `dvc status` check found."""

    plan: Plan
    runs: dict[str, StageRun] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # stage -> the failed stage above it
    committed: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    interrupted: int | None = None  # the signal's number

    @property
    def failed(self) -> list[str]:
        return [name for name, run in self.runs.items() if run.outcome == "failed"]

    @property
    def exit_code(self) -> int:
        if self.interrupted is not None:
            return 128 + self.interrupted
        return 1 if self.failed or self.stale or self.skipped else 0


@contextmanager
def stop_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP raise :class:`StopSignalError`, as SIGINT raises KeyboardInterrupt."""

    def interrupt(number: int, frame: object) -> None:
        raise StopSignalError(number)

    previous = {
        number: signal.signal(number, interrupt) for number in (signal.SIGTERM, signal.SIGHUP)
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def signals_held() -> Iterator[None]:
    """Ignore further stop signals while the running stages are being stopped."""
    numbers = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {number: signal.signal(number, signal.SIG_IGN) for number in numbers}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def stage_log(log_dir: Path, stage: str) -> Path:
    return log_dir / f"{stage}.log"


def log_tail(text: str, lines: int = LOG_TAIL_LINES) -> str:
    kept = text.rstrip("\n").splitlines()[-lines:]
    return "\n".join(f"    | {line}" for line in kept)


def _read_seconds(log_dir: Path) -> dict[str, float]:
    try:
        return json.loads((log_dir / STAGE_SECONDS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


class Scheduler:
    """Hands ready stages to the cluster, at most one per worker thread, longest remaining chain of
    stage times first (the last runs' times; 1 s each where none is known)."""

    def __init__(self, settings: Settings, plan: Plan, client: Any, run_id: str) -> None:
        self.settings = settings
        self.plan = plan
        self.client = client
        self.run_id = run_id
        self.outcome = Outcome(plan)
        self.waiting = {name: set(plan.waits_for(name)) for name in plan.order}
        self.ready = [name for name in plan.order if not self.waiting[name]]
        self.running: dict[Any, str] = {}
        self.records: dict[str, StageRecord] = {}
        self.threads: int | None = None
        self.threads_by_host: dict[str, int] = {}
        # the summing pools as this process had them before its LocalCluster set them to 1
        self.pools: dict[str, str | None] = {}
        self.commit: str | None = None
        self.started = time.time()
        self.priority = remaining_chain(plan.upstream, plan.order, _read_seconds(settings.log_dir))

    @property
    def clones(self) -> bool:
        return self.settings.scheduler is not None

    def capacity(self) -> int:
        workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
        return max(1, sum(int(worker["nthreads"]) for worker in workers))

    def job(self, stage: str) -> StageJob:
        log_dir = self.settings.log_dir
        if not self.clones:
            return StageJob(
                stage,
                self.run_id,
                root=str(self.settings.root),
                threads=self.threads,
                all_pools=bool(self.settings.threads),
                head_pools=self.pools,
                log_path=str(stage_log(log_dir, stage)),
            )
        upstream = tuple(
            self.records.get(source) or collect(self.settings.root, source)
            for source in self.plan.upstream[stage]
        )
        return StageJob(
            stage,
            self.run_id,
            threads=self.threads,
            threads_by_host=self.threads_by_host,
            all_pools=bool(self.settings.threads),
            head_pools=self.pools,
            commit=self.commit,
            upstream=upstream,
        )

    def submit_ready(self) -> None:
        capacity = self.capacity()
        self.ready.sort(key=lambda name: -self.priority[name])
        while self.ready and len(self.running) < capacity:
            stage = self.ready.pop(0)
            future = self.client.submit(
                run_stage, self.job(stage), key=f"stage-{stage}-{self.run_id}", pure=False
            )
            self.running[future] = stage
            print(f"{self.clock()}  start  {stage}", flush=True)

    def clock(self) -> str:
        return f"{time.time() - self.started:8.1f} s"

    def finish(self, future: Any) -> None:
        stage = self.running.pop(future)
        try:
            result: StageRun = future.result()
        except Exception as error:  # noqa: BLE001 (a worker lost, a task that raised: a failure)
            now = time.time()
            result = StageRun(stage, "?", now, now, 1, "failed", f"{type(error).__name__}: {error}")
        if self.clones:
            stage_log(self.settings.log_dir, stage).write_text(result.log, encoding="utf-8")
            if result.outcome in DONE:
                self.restore(result)
        self.outcome.runs[stage] = result
        print(
            f"{self.clock()}  {result.outcome:<6} {stage} ({result.seconds:.1f} s on {result.worker})",
            flush=True,
        )
        if result.outcome in DONE:
            for name in self.plan.order:
                if stage in self.waiting.get(name, ()):
                    self.waiting[name].discard(stage)
                    if not self.waiting[name] and name not in self.outcome.skipped:
                        self.ready.append(name)
        elif result.outcome == "failed":
            for name in self.plan.downstream(stage):
                if name not in self.outcome.skipped:
                    self.outcome.skipped[name] = stage
                    print(f"{self.clock()}  skip   {name} (upstream {stage} failed)", flush=True)
                with suppress(ValueError):
                    self.ready.remove(name)

    def restore(self, result: StageRun) -> None:
        """A stage a worker ran in its clone, put in place here: its record, then its data."""
        assert result.record is not None
        adopt(self.settings.root, result.record)
        self.records[result.stage] = result.record
        pulled = subprocess.run(
            dvc("--wait-for-lock", "pull", result.stage),
            cwd=self.settings.root,
            env=stage_environment(None),
            capture_output=True,
            text=True,
        )
        result.log += f"$ dvc pull {result.stage} (the head)\n{pulled.stdout}{pulled.stderr}"
        stage_log(self.settings.log_dir, result.stage).write_text(result.log, encoding="utf-8")
        if pulled.returncode != 0:
            result.outcome, result.returncode = "failed", pulled.returncode

    def loop(self) -> None:
        self.submit_ready()
        while self.running:
            done = [future for future in self.running if future.done()]
            for future in done:
                self.finish(future)
            if done:
                self.submit_ready()
            else:
                time.sleep(0.1)

    def stop(self, number: int) -> None:
        """Stop the running stages and wait for them to end (their logs and times are kept)."""
        self.outcome.interrupted = number
        self.ready.clear()
        print(
            f"{self.clock()}  {signal.Signals(number).name}: stopping "
            f"{', '.join(self.running.values()) or 'nothing'}",
            flush=True,
        )
        with suppress(Exception):
            self.client.run(stop_running_stages, self.run_id)
        deadline = time.monotonic() + 60
        while self.running and time.monotonic() < deadline:
            for future in [future for future in self.running if future.done()]:
                self.finish(future)  # one that finished meanwhile is kept (and restored)
            time.sleep(0.1)
        self.ready.clear()
        for future in self.running:
            future.cancel()


def prepare_clones(scheduler: Scheduler) -> None:
    """Check the cluster's workers (one thread each, each in its own clone at this commit), set
    their thread counts, and push the outputs of the stages the run reads but does not run, so
    every clone can pull them."""
    settings = scheduler.settings
    root = settings.root
    scheduler.commit = git_commit(root)
    changed = uncommitted_inputs(root, scheduler.plan)
    if changed:
        raise SystemExit(
            "the workers' clones run the committed pipeline; commit these first: "
            + ", ".join(changed)
        )
    workers = scheduler.client.scheduler_info(n_workers=-1)["workers"]
    if not workers:
        raise SystemExit(f"no workers on {settings.scheduler}: start some (docs/parallel.md)")
    busy = [address for address, worker in workers.items() if int(worker["nthreads"]) != 1]
    if busy:
        raise SystemExit(f"start each worker with --nthreads 1 (one stage per clone): {busy}")
    clones = scheduler.client.run(describe_clone)
    places: dict[tuple[object, object], str] = {}
    for address, clone in clones.items():
        place = (clone["host"], clone["root"])
        if place in places:
            raise SystemExit(f"workers {places[place]} and {address} share the clone {place}")
        places[place] = address
        if clone["commit"] != scheduler.commit:
            raise SystemExit(
                f"worker {address}: its clone {clone['root']} is at {clone['commit']}, "
                f"this project at {scheduler.commit}"
            )
    per_host: dict[str, int] = {}
    for clone in clones.values():
        per_host[str(clone["host"])] = per_host.get(str(clone["host"]), 0) + 1
    if settings.threads is None:
        scheduler.threads_by_host = {
            str(clone["host"]): max(1, int(clone["cpus"]) // per_host[str(clone["host"])])
            for clone in clones.values()
        }
    read = sorted(
        {source for name in scheduler.plan.order for source in scheduler.plan.upstream[name]}
        - set(scheduler.plan.order)
    )
    if read:
        subprocess.run(dvc("push", *read), cwd=root, env=stage_environment(None), check=True)


def uncommitted_inputs(root: Path, plan: Plan) -> list[str]:
    """Tracked files changed since the last commit, but for dvc.lock and the stages' outputs."""
    done = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    outputs = [out.rstrip("/") for outs in plan.outs.values() for out in outs]
    changed = []
    for line in done.stdout.splitlines():
        path = line[3:].split(" -> ")[-1].strip('"')
        if path == "dvc.lock" or any(path == out or path.startswith(out + "/") for out in outputs):
            continue
        changed.append(path)
    return changed


def final_check(root: Path, outcome: Outcome) -> None:
    """`dvc status` over the run's scope; a stage this run finished that DVC still finds changed,
    with every output in place (a lock entry DVC failed to write), is committed with `dvc commit`;
    what stays changed is reported in ``outcome.stale``."""
    from dvc.repo import Repo  # deferred: DVC takes a second to import

    def changed() -> list[str]:
        with chdir(root), Repo(".") as repo:  # names relative to the cwd
            reported = set(repo.status())
        return [name for name in outcome.plan.scope if name in reported]

    for stage in changed():
        run = outcome.runs.get(stage)
        outs = outcome.plan.outs.get(stage, ())
        if run is not None and run.outcome in DONE and all((root / out).exists() for out in outs):
            subprocess.run(
                dvc("--wait-for-lock", "commit", "--force", stage),
                cwd=root,
                env=stage_environment(None),
                check=True,
                capture_output=True,
            )
            outcome.committed.append(stage)
    outcome.stale = [
        name for name in changed() if name not in outcome.skipped and name not in outcome.failed
    ]


def write_run_record(settings: Settings, outcome: Outcome, started: float, threads: Any) -> None:
    log_dir = settings.log_dir
    plan = outcome.plan
    record = {
        "started": started,
        "ended": time.time(),
        "seconds": time.time() - started,
        "cluster": settings.scheduler or f"LocalCluster, {settings.jobs} workers",
        "threads_per_stage": threads,
        "targets": list(settings.targets),
        "stale": list(plan.stale),
        "order": list(plan.order),
        "upstream": {name: list(plan.upstream[name]) for name in plan.order},
        "stages": {
            name: {
                "outcome": run.outcome,
                "worker": run.worker,
                "started": run.started,
                "ended": run.ended,
                "seconds": run.seconds,
                "returncode": run.returncode,
                "log": str(stage_log(log_dir, name)),
            }
            for name, run in outcome.runs.items()
        },
        "skipped": outcome.skipped,
        "committed": outcome.committed,
        "stale_after": outcome.stale,
        "interrupted": None
        if outcome.interrupted is None
        else signal.Signals(outcome.interrupted).name,
    }
    (log_dir / RUN_RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    seconds = _read_seconds(log_dir)
    seconds.update(
        {name: run.seconds for name, run in outcome.runs.items() if run.outcome == "ran"}
    )
    (log_dir / STAGE_SECONDS).write_text(json.dumps(seconds, indent=2) + "\n", encoding="utf-8")


def report(settings: Settings, outcome: Outcome, seconds: float) -> None:
    counts: dict[str, int] = {}
    for run in outcome.runs.values():
        counts[run.outcome] = counts.get(run.outcome, 0) + 1
    if outcome.skipped:
        counts["not run (upstream failed)"] = len(outcome.skipped)
    summary = ", ".join(f"{what} {count}" for what, count in counts.items()) or "nothing to run"
    print(f"parallel repro: {summary}; {seconds:.1f} s; logs in {settings.log_dir}")
    for stage in outcome.failed:
        run = outcome.runs[stage]
        print(
            f"failed: {stage} (exit {run.returncode}); its log, {stage_log(settings.log_dir, stage)}, ends:"
        )
        print(log_tail(run.log))
    if outcome.skipped:
        print("not run, an upstream stage failed: " + ", ".join(outcome.skipped))
    if outcome.interrupted is not None:
        unfinished = [name for name in outcome.plan.order if name not in outcome.runs]
        unfinished += [n for n, r in outcome.runs.items() if r.outcome == "interrupted"]
        print(
            f"interrupted ({signal.Signals(outcome.interrupted).name}); not finished: "
            f"{', '.join(unfinished) or 'none'}; run again to go on"
        )
        return
    for stage in outcome.committed:
        print(
            f"committed with dvc commit: {stage} (its outputs were in place, dvc.lock lacked them)"
        )
    if outcome.stale:
        print("dvc status still finds changed: " + ", ".join(outcome.stale))
    elif not outcome.failed and not outcome.skipped:
        print("dvc status: data and pipelines are up to date")


def start_cluster(settings: Settings) -> tuple[Any, Any]:
    """The cluster and a client: a LocalCluster of ``jobs`` single-threaded worker processes, or
    a client of the cluster at ``scheduler``. No dashboard: nothing listens but the scheduler."""
    from distributed import Client, LocalCluster

    from jena_forecast.parallel.worker import StagePlugin

    cluster = None
    if settings.scheduler is None:
        cluster = LocalCluster(
            n_workers=settings.jobs,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            memory_limit=0,  # the stages run in their own processes, outside a worker's memory
        )
        client = Client(cluster)
    else:
        client = Client(settings.scheduler)
    client.register_plugin(StagePlugin())
    return cluster, client


def run(settings: Settings) -> Outcome:
    """Plan, run and check; every stop path closes the cluster. Call it inside
    :func:`stop_signals`: a stop signal before the cluster starts ends the run at once."""
    started = time.time()
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    plan = make_plan(settings.root, settings.targets)
    print(
        f"{len(plan.order)} stages to run ({len(plan.stale)} changed, the rest downstream of them)"
        + (f": {', '.join(plan.order)}" if plan.order else ""),
        flush=True,
    )
    for name in plan.order:  # a log in the directory is this run's
        stage_log(settings.log_dir, name).unlink(missing_ok=True)
    outcome = Outcome(plan)
    threads: Any = None
    if plan.order:
        cluster = client = scheduler = None
        try:
            pools = head_pools()  # before the cluster: a LocalCluster sets OMP and BLAS to 1 here
            cluster, client = start_cluster(settings)
            scheduler = Scheduler(settings, plan, client, uuid.uuid4().hex[:12])
            scheduler.pools = pools
            outcome = scheduler.outcome
            if scheduler.clones:
                scheduler.threads = settings.threads or None
                prepare_clones(scheduler)
                threads = settings.threads or scheduler.threads_by_host
            else:
                if settings.threads is None:
                    scheduler.threads = max(1, cpu_count() // settings.jobs)
                else:
                    scheduler.threads = settings.threads or None
                threads = scheduler.threads
            scheduler.loop()
        except (KeyboardInterrupt, StopSignalError) as stop:
            number = stop.number if isinstance(stop, StopSignalError) else signal.SIGINT
            with signals_held():
                if scheduler is not None:
                    scheduler.stop(number)
                outcome.interrupted = number
        finally:
            with signals_held():
                if client is not None:
                    client.close()
                if cluster is not None:
                    cluster.close()
    if outcome.interrupted is None:
        final_check(settings.root, outcome)
    write_run_record(settings, outcome, started, threads)
    report(settings, outcome, time.time() - started)
    return outcome
