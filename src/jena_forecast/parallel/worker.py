"""What runs on a Dask worker: one stage, as `dvc --wait-for-lock repro -s <stage>` in a process
group of its own, with the thread counts of its share of the CPU.

On one machine every worker runs in the project itself (``StageJob.root``): DVC's locks keep the
stages apart, ``--wait-for-lock`` makes each `dvc` wait for the repository lock instead of
failing, and ``-s`` keeps it from touching the upstream stages that other workers may be reading.
A worker of a cluster on several machines runs in its own clone of the project, the directory it
was started in (``root`` None): it adopts the records of the stages its stage reads from, pulls
their cached outputs, runs the stage, pushes its outputs and hands back its record
(``jena_forecast.parallel.records``).

A stage is stopped with SIGINT to its process group, as Ctrl-C stops `dvc repro`: the stage exits
without putting an output in place and `dvc` releases its locks; SIGTERM, then SIGKILL, follow if
it has not ended after a grace period.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distributed import WorkerPlugin

from jena_forecast.parallel.records import StageRecord, adopt, collect

# What TensorFlow 2.21 (its two thread pools), OpenMP (scikit-learn's histogram gradient
# boosting) and OpenBLAS or MKL (NumPy, SciPy) read for their thread counts.
THREAD_VARIABLES = (
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
)
# The pools that split one computation's sums: their sizes order the sums, and so change the
# bits of a fit (ridge's coefficients with BLAS's, a histogram booster's trees with OpenMP's) and
# the scores of convolutions (conv1d and causal_cnn on the embedded record, 1 intra-op thread
# against 2). A run sets them only when told to (``all_pools``); TensorFlow's inter-op pool runs
# independent ops side by side and changes no number.
SUMMING_POOLS = (
    "TF_NUM_INTRAOP_THREADS",
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
)
# How an idle OpenMP thread waits when stages share the CPUs: asleep, not spinning on a core that
# another stage's process needs (GNU OpenMP spins first by default). How a thread waits changes
# no number; a value the runner's environment already has is kept.
SHARED_CPU_WAITS = {"OMP_WAIT_POLICY": "PASSIVE"}
STOP_GRACE_SECONDS = 20.0  # after SIGINT, before SIGTERM; as long again before SIGKILL


@dataclass(frozen=True)
class StageJob:
    """One stage for a worker. ``root`` None: the worker's own clone (its working directory)."""

    stage: str
    run_id: str
    root: str | None = None
    threads: int | None = None  # per stage process; None: ``threads_by_host``, else unset
    threads_by_host: Mapping[str, int] = field(default_factory=dict)  # a cluster's hosts
    all_pools: bool = False  # set the summing pools too (bits and scores may move; SUMMING_POOLS)
    # otherwise the summing pools as the runner's own environment has them (None: unset), since a
    # Dask worker process starts with OMP, MKL and OpenBLAS at 1 thread
    head_pools: Mapping[str, str | None] = field(default_factory=dict)
    log_path: str | None = None  # where the log goes as it is written (a shared file system)
    commit: str | None = None  # the commit every clone must be at
    upstream: tuple[StageRecord, ...] = ()  # records to adopt first (clones only)


@dataclass
class StageRun:
    """What became of a job: exit code, wall-clock start and end (seconds since the epoch), the
    stage's own output (stdout and stderr of every command), and its record (clones only)."""

    stage: str
    worker: str
    started: float
    ended: float
    returncode: int
    outcome: str  # ran | restored | unchanged | failed | interrupted
    log: str
    record: StageRecord | None = None
    commands: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.ended - self.started


# the stage processes this worker process runs: pid -> (run id, stage, stop requested)
_running: dict[int, tuple[str, str, threading.Event]] = {}
_stopped_runs: set[str] = set()
_guard = threading.Lock()


def stop_running_stages(run_id: str | None = None) -> list[str]:
    """Stop the stages of run ``run_id`` (None: every run) that this process runs, and keep that
    run from starting more here; return their names. Returns at once: each job's own thread waits
    for its stage to end, escalating to SIGTERM and SIGKILL (``client.run`` calls this)."""
    stopped = []
    with _guard:
        if run_id is not None:
            _stopped_runs.add(run_id)
        for pid, (owner, stage, stop) in list(_running.items()):
            if run_id is None or owner == run_id:
                stop.set()
                _signal_group(pid, signal.SIGINT)
                stopped.append(stage)
    return stopped


def _signal_group(pid: int, number: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pid, number)


def _call(job: StageJob, command: list[str], cwd: Path, env: dict[str, str], log) -> int:
    """Run ``command`` in a new session (its own process group), output appended to ``log``."""
    log.write(f"$ {' '.join(command)}\n".encode())
    log.flush()
    with _guard:
        if job.run_id in _stopped_runs:
            return -signal.SIGINT
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        stop = threading.Event()
        _running[process.pid] = (job.run_id, job.stage, stop)
    try:
        while True:
            try:
                return process.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                if stop.is_set():
                    break
        for number in (signal.SIGTERM, signal.SIGKILL):
            try:
                return process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, number)
        return process.wait()
    finally:
        with _guard:
            _running.pop(process.pid, None)


def head_pools() -> dict[str, str | None]:
    """The summing pools' variables as this process has them (None: unset)."""
    return {pool: os.environ.get(pool) for pool in SUMMING_POOLS}


def stage_environment(
    threads: int | None, all_pools: bool = False, pools: Mapping[str, str | None] | None = None
) -> dict[str, str]:
    """This worker's environment, its interpreter's tools first on PATH (the `python` of the
    stage commands), and the thread counts when given: the pools that order sums only with
    ``all_pools``, else as ``pools`` (the runner's environment) has them, so that by default a
    stage writes the bytes `dvc repro` writes."""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    for pool, value in (pools or {}).items():
        if value is None:
            env.pop(pool, None)
        else:
            env[pool] = value
    if threads is not None:
        names = [name for name in THREAD_VARIABLES if all_pools or name not in SUMMING_POOLS]
        env.update(dict.fromkeys(names, str(threads)))
        for name, value in SHARED_CPU_WAITS.items():
            env.setdefault(name, value)
    return env


def dvc(*arguments: str) -> list[str]:
    """A `dvc` command line run by this interpreter."""
    return [sys.executable, "-m", "dvc", *arguments]


def outcome_of(stage: str, output: str) -> str:
    """What `dvc repro -s <stage>` did, from what it printed."""
    if f"Running stage '{stage}'" in output:
        return "ran"
    if f"Stage '{stage}' is cached" in output:
        return "restored"
    return "unchanged"


def clone_root() -> Path:
    """The clone this worker was started in: the git work tree around its working directory."""
    done = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True
    )
    return Path(done.stdout.strip())


def git_commit(root: Path) -> str:
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def describe_clone() -> dict[str, object]:
    """Where this worker runs stages (``client.run`` calls this before a run on a cluster)."""
    root = clone_root()
    return {
        "host": socket.gethostname(),
        "root": str(root),
        "commit": git_commit(root),
        "cpus": os.cpu_count() or 1,
    }


def cpu_count() -> int:
    return os.cpu_count() or 1


def run_stage(job: StageJob) -> StageRun:
    """Run ``job``'s stage (the Dask task); never raises for a failing stage."""
    root = Path(job.root) if job.root is not None else clone_root()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    env = stage_environment(
        job.threads or job.threads_by_host.get(socket.gethostname()),
        job.all_pools,
        None if job.all_pools else job.head_pools,
    )
    started = time.time()
    if job.log_path is not None:
        Path(job.log_path).parent.mkdir(parents=True, exist_ok=True)
    commands: list[str] = []
    record = None
    with open(job.log_path, "w+b") if job.log_path is not None else tempfile.TemporaryFile() as log:
        threads = " ".join(f"{name}={env[name]}" for name in THREAD_VARIABLES if name in env)
        log.write(f"# {job.stage} on {worker}; threads: {threads or 'the defaults'}\n".encode())

        def call(command: list[str]) -> int:
            commands.append(" ".join(command[2:]))
            return _call(job, command, root, env, log)

        returncode = 0
        if job.root is None:
            returncode = _prepare_clone(job, root, log, call)
        if returncode == 0:
            returncode = call(dvc("--wait-for-lock", "repro", "-s", job.stage))
        if returncode == 0 and job.root is None:
            returncode = call(dvc("--wait-for-lock", "push", "--run-cache", job.stage))
            if returncode == 0:
                record = collect(root, job.stage)
        log.flush()
        log.seek(0)
        output = log.read().decode(errors="replace")
    if job.run_id in _stopped_runs and returncode != 0:
        outcome = "interrupted"
    elif returncode != 0:
        outcome = "failed"
    else:
        outcome = outcome_of(job.stage, output)
    return StageRun(
        job.stage, worker, started, time.time(), returncode, outcome, output, record, commands
    )


def _prepare_clone(job: StageJob, root: Path, log, call) -> int:
    """In a worker's own clone: check its commit, adopt the upstream records, pull their data."""
    commit = git_commit(root)
    if job.commit is not None and commit != job.commit:
        log.write(
            f"this worker's clone {root} is at commit {commit}, the run's is {job.commit}: "
            "check out the same commit in every clone\n".encode()
        )
        return 2
    for record in job.upstream:
        adopt(root, record)
        log.write(f"adopted the record of stage '{record.stage}'\n".encode())
    if job.upstream:
        return call(dvc("--wait-for-lock", "pull", *(record.stage for record in job.upstream)))
    return 0


def ignore_interrupts() -> None:
    """Keep Ctrl-C in the terminal from killing this worker process (the runner stops the stages
    first, then the cluster). A Python-level handler, not SIG_IGN, so that the stage processes
    start with the default one and stop on SIGINT."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, lambda number, frame: None)


class StagePlugin(WorkerPlugin):
    """Registered on every worker of a run: no Ctrl-C death for the worker (see
    :func:`ignore_interrupts`), and its running stages stopped when the worker closes."""

    name = "jena-forecast-stages"

    def setup(self, worker: Any) -> None:
        ignore_interrupts()

    def teardown(self, worker: Any) -> None:
        stop_running_stages()
        deadline = time.monotonic() + 3 * STOP_GRACE_SECONDS
        while _running and time.monotonic() < deadline:
            time.sleep(0.1)
