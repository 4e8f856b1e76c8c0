"""Wall time of `dvc repro` from a clean workspace, stage by stage, then of a no-op `dvc repro`.

    python bench/repro_time.py --tiny                                  # the tests' tiny synthetic data
    python bench/repro_time.py --tiny --models linear,gru
    python bench/repro_time.py --embedded --keep          # the real record shipped with the project
    python bench/repro_time.py --mirror ~/jena_climate_2009_2016.csv.zip --keep
    python bench/repro_time.py --resume /tmp/repro-time-XXXX     # go on after an interruption
    python bench/repro_time.py --resume /tmp/repro-time-XXXX --refresh   # ... with today's code
    python bench/repro_time.py --embedded --jobs 2 --keep    # `make repro JOBS=2`: the runner

The pipeline (dvc.yaml, params.yaml, stages/, src/, .gitignore, .dvc/config and .dvc/plots) is
copied into a fresh git + DVC repository in a temporary directory with an empty DVC cache, so
every stage runs. ``--tiny`` writes the tests' synthetic file (2,000 rows, a repeated day and a
gap) and shrinks windows and training as the end-to-end tests do (tests/dvc_project.py); with
``--embedded`` (the project's own data) or ``--mirror`` (another copy of the Jena zip) the real
params run on the real data, which takes as long as the real pipeline does.
``--models`` keeps only those models (and points the learning-rate range test at one of them).

One `dvc repro` runs end to end; every line it prints is timestamped as it arrives, and a stage's
time runs from its "Running stage" line to the next one (its command plus DVC's hashing and lock
update), so the stages add up to the whole run. Then `dvc repro` runs again with nothing changed.
The figures are printed, not checked.

The real pipeline takes hours on a small CPU. A run stopped part way (Ctrl-C, a kill, a closed
terminal: `dvc` and its stage stop with the script) goes on with ``--resume ROOT`` (the kept directory; every run keeps it until it completes): `dvc
repro` picks up at the first stage without a lock entry, each attempt logs to its own
``repro-N.log``, and the table takes each stage from the attempt that completed it. Time spent in a
stage that was interrupted is reported apart, not counted, and the total is the sum of what each
stage took once: what one uninterrupted run would take. ``--refresh`` first brings the copy to the
pipeline's current files (made as the run was first made, ``run.json``): DVC then reruns exactly
the stages whose code or params changed, so every counted stage ran the final code. ``--force
STAGES`` runs completed stages again (``dvc repro -f -s``) and counts their new times, for stages
that other work slowed down. Every stage row also shows the share of
the machine's CPU time that other processes took while the stage ran (Linux), so a stage slowed by
other work shows.

``--jobs N`` (N > 1) runs the copy with the parallel runner instead (``python -m
jena_forecast.parallel --jobs N``, what ``make repro JOBS=N`` runs): the wall time from start to
end, each stage's time and worker from the runner's ``run.json``, the DAG's critical path over
those stage times (no number of workers finishes sooner) and the no-op `dvc repro` after it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from common import PROJECT_ROOT, print_table

sys.path.insert(0, str(PROJECT_ROOT / "tests"))

from dvc_project import DVC_FILES, PROJECT_FILES, tiny_params  # noqa: E402
from synthetic import SyntheticJena  # noqa: E402

STAGE_LINE = re.compile(r"Running stage '([^']+)'")


def environment(project: Path) -> dict[str, str]:
    """This interpreter's tools first on PATH, the copy's own src importable, output unbuffered."""
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(project / "src"),
        "PYTHONUNBUFFERED": "1",
    }


def run(command: list[str], project: Path) -> str:
    done = subprocess.run(
        command, cwd=project, env=environment(project), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def edit_params(project: Path, edit) -> None:
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(params)
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")


RUN_SETTINGS = "run.json"  # how a kept run was made, so --refresh makes the copy the same way


def copy_pipeline(project: Path) -> None:
    """Copy the pipeline's files into ``project`` (overwriting an older copy of them)."""
    for name in PROJECT_FILES + DVC_FILES:
        source, target = PROJECT_ROOT / name, project / name
        if source.is_dir():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)


def apply_settings(project: Path, settings: dict) -> None:
    """Point the copy's params at its data and keep only the chosen models."""
    if settings["tiny"]:
        tiny_params(project, project / settings["mirror"])
    elif settings["mirror"]:

        def real_data(params: dict) -> None:
            params["download"].update(
                source="mirror", mirror=settings["mirror"], sha256=settings["sha256"]
            )

        edit_params(project, real_data)
    keep = settings["models"]
    if keep:

        def restrict(params: dict) -> None:
            unknown = sorted(set(keep) - set(params["models"]))
            if unknown:
                raise SystemExit(
                    f"--models: {unknown} not in params models: {list(params['models'])}"
                )
            params["models"] = {name: params["models"][name] for name in keep}
            if params["lr_range_test"]["model"] not in keep:
                params["lr_range_test"]["model"] = keep[0]
            studied = [name for name in params["seed_study"]["models"] if name in keep]
            params["seed_study"]["models"] = studied or keep[:1]
            ensemble = params["ensemble"]
            ensemble["top_k"] = min(ensemble["top_k"], len(keep))
            if ensemble.get("members"):
                ensemble["members"] = [name for name in ensemble["members"] if name in keep] or None

        edit_params(project, restrict)


def commit(project: Path, message: str) -> None:
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-q", "--allow-empty", "-m", message], project)


def new_project(root: Path, args: argparse.Namespace) -> None:
    """A git + DVC repository at ``root/project`` with the pipeline, its data and the chosen models."""
    project = root / "project"
    project.mkdir(parents=True)
    run(["git", "init", "-q"], project)
    run(["git", "config", "user.email", "bench@example.com"], project)
    run(["git", "config", "user.name", "bench"], project)
    run(["dvc", "init", "-q"], project)
    copy_pipeline(project)
    mirror_dir = project / "data" / "mirror"
    mirror_dir.mkdir(parents=True)
    mirror: Path | None = None
    sha256 = None
    if args.tiny:
        mirror = mirror_dir / "tiny.zip"
        SyntheticJena(rows=2000, duplicate_block=(300, 144), drop_rows=[700, 701]).write_zip(mirror)
    elif args.mirror:
        mirror = mirror_dir / args.mirror.name
        shutil.copy(args.mirror, mirror)
        sha256 = args.sha256 or hashlib.sha256(mirror.read_bytes()).hexdigest()
    settings = {
        "tiny": bool(args.tiny),
        "mirror": None if mirror is None else str(mirror.relative_to(project)),
        "sha256": sha256,
        "models": [name.strip() for name in (args.models or "").split(",") if name.strip()],
    }
    (root / RUN_SETTINGS).write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    apply_settings(project, settings)
    commit(project, "Pipeline under test")


def refresh_project(root: Path) -> None:
    """Bring a kept copy to the pipeline's current files, made as the run was first made."""
    project = root / "project"
    settings = json.loads((root / RUN_SETTINGS).read_text(encoding="utf-8"))
    copy_pipeline(project)
    apply_settings(project, settings)
    commit(project, "Pipeline under test, refreshed")


LOCK_LINE = "Updating lock file"


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot, all cores (Linux; NaN elsewhere)."""
    try:
        fields = Path("/proc/stat").read_text(encoding="ascii").split("\n", 1)[0].split()[1:]
    except OSError:
        return math.nan
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def process_tree_seconds(pid: int) -> float:
    """CPU seconds of process ``pid`` and of its children it has waited for (Linux; NaN elsewhere)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return math.nan
    utime, stime, cutime, cstime = (int(v) for v in stat.rsplit(")", 1)[1].split()[11:15])
    return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")


@dataclass
class Stage:
    """One completed stage: wall seconds, and the CPU seconds that other processes took meanwhile."""

    seconds: float
    others_cpu: float  # NaN where the log has no CPU figures

    def others_share(self, cpus: int) -> float:
        """The share of the machine's CPU time that other work took while the stage ran."""
        return self.others_cpu / (self.seconds * cpus) if self.seconds > 0 else math.nan


@dataclass
class Attempt:
    """One `dvc repro` of a (possibly resumed) run, read back from its log."""

    startup: float  # seconds before its first stage
    completed: list[tuple[str, Stage]]
    interrupted: float  # seconds spent in a stage it did not complete
    finished: bool


def read_attempt(log_path: Path) -> Attempt:
    """Stages of one attempt's log; a stage counts only when DVC updated the lock after it.

    Log lines are ``<seconds>  <what dvc printed>``; after each "Running stage" line and at the end,
    ``<seconds>  cpu <dvc and its finished children> <whole machine busy>`` (CPU seconds) lets a
    stage's own CPU time be told from other work's; the last line is ``exit  <code>``.
    """
    marks: list[tuple[str, float]] = []
    cpu_marks: list[tuple[float, float]] = []
    locked: set[int] = set()
    last, finished = 0.0, False
    for line in log_path.read_text(encoding="utf-8").splitlines():
        stamp, _, text = line.strip().partition("  ")
        if stamp == "exit":
            finished = text.strip() == "0"
            continue
        try:
            last = float(stamp)
        except ValueError:
            continue
        match = STAGE_LINE.search(text)
        if match:
            marks.append((match.group(1), last))
        elif LOCK_LINE in text and marks:
            locked.add(len(marks) - 1)
        elif text.startswith("cpu "):
            own, busy = (float(value) for value in text.split()[1:3])
            cpu_marks.append((own, busy))
    ends = [at for _, at in marks[1:]] + [last] if marks else []
    completed, interrupted = [], 0.0
    for index, ((name, at), end) in enumerate(zip(marks, ends, strict=True)):
        if index not in locked:
            interrupted += end - at
            continue
        others = math.nan
        if index + 1 < len(cpu_marks):
            (own_start, busy_start), (own_end, busy_end) = cpu_marks[index : index + 2]
            others = max((busy_end - busy_start) - (own_end - own_start), 0.0)
        completed.append((name, Stage(end - at, others)))
    return Attempt(marks[0][1] if marks else last, completed, interrupted, finished)


def stop_process_group(process: subprocess.Popen, grace_seconds: float = 30.0) -> None:
    """Stop ``process`` and its process group as Ctrl-C would (dvc leaves its lock consistent);
    escalate to SIGTERM, then SIGKILL, if they are still running after ``grace_seconds``."""
    for stop in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, stop)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace_seconds)
            return
        except subprocess.TimeoutExpired:
            continue


def timed_repro(
    project: Path, log_path: Path, command: tuple[str, ...] = ("dvc", "repro")
) -> Attempt:
    """Run `dvc repro`, timestamping each line it prints into ``log_path`` as it arrives."""
    started = time.perf_counter()
    with (
        log_path.open("w", encoding="utf-8", buffering=1) as log,
        subprocess.Popen(
            list(command),
            cwd=project,
            env=environment(project),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,  # dvc and its stage in a process group of their own
            # Ctrl-C semantics even when this script was started with SIGINT ignored (`cmd &`)
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        ) as process,
    ):
        assert process.stdout is not None

        def cpu_line() -> str:
            now = time.perf_counter() - started
            own = process_tree_seconds(process.pid)
            return f"{now:9.3f}  cpu {own:.2f} {machine_busy_seconds():.2f}\n"

        try:
            for line in process.stdout:
                now = time.perf_counter() - started
                log.write(f"{now:9.3f}  {line}")
                if STAGE_LINE.search(line):
                    log.write(cpu_line())
        except BaseException:  # Ctrl-C or a kill of this script: stop dvc and its stage too
            stop_process_group(process)
            raise
        final_cpu = cpu_line()  # before dvc is reaped: its children's time is still readable
        returncode = process.wait()
        log.write(final_cpu)
        log.write(f"{time.perf_counter() - started:9.3f}  (dvc repro exited)\n")
        log.write(f"exit  {returncode}\n")
    if returncode != 0:
        raise SystemExit(
            f"dvc repro failed (exit {returncode}); its output: {log_path}\n"
            f"after a fix or an interruption, go on with: --resume {log_path.parent}"
        )
    return read_attempt(log_path)


def attempt_logs(root: Path) -> list[Path]:
    """The repro-N.log files of a run, in order."""
    return sorted(root.glob("repro-*.log"), key=lambda path: int(path.stem.split("-")[1]))


def stage_times(attempts: list[Attempt]) -> dict[str, Stage]:
    """Each stage from the last attempt that completed it (a stage completes once, unless it was
    run again on purpose with ``--force``), in the order the stages first ran."""
    stages: dict[str, Stage] = {}
    for attempt in attempts:
        for name, stage in attempt.completed:
            stages[name] = stage
    return stages


def report(root: Path, project: Path) -> None:
    """The per-stage table over every attempt, the total, then the no-op `dvc repro`."""
    attempts = [read_attempt(path) for path in attempt_logs(root)]
    stages = stage_times(attempts)
    startup = attempts[0].startup
    total = startup + sum(stage.seconds for stage in stages.values())
    cpus = os.cpu_count() or 1

    def others(stage: Stage) -> str:
        share = stage.others_share(cpus)
        return "" if math.isnan(share) else f"{share:.0%}"

    rows = [["dvc start (before the first stage)", f"{startup:.1f}", f"{startup / total:.0%}", ""]]
    rows += [
        [name, f"{stage.seconds:.1f}", f"{stage.seconds / total:.0%}", others(stage)]
        for name, stage in stages.items()
    ]
    print_table(["stage", "seconds", "share", "other work"], rows)
    print(
        f"(other work: the share of the {cpus} CPUs' time that processes outside the stage took "
        "while it ran; near 0% is an uncontended figure)"
    )
    print()
    print(
        f"dvc repro from a clean workspace: {total:.1f} s = {total / 60:.1f} min "
        f"({len(stages)} stages)"
    )
    if len(attempts) > 1:
        lost = sum(attempt.interrupted for attempt in attempts)
        restarts = sum(attempt.startup for attempt in attempts[1:])
        print(
            f"  over {len(attempts)} attempts; not counted: {lost:.1f} s in interrupted stages, "
            f"{restarts:.1f} s of dvc start in the resumed attempts"
        )
    no_op_started = time.perf_counter()
    no_op_output = run(["dvc", "repro"], project)
    no_op = time.perf_counter() - no_op_started
    rerun = STAGE_LINE.findall(no_op_output)
    print(
        f"dvc repro again, nothing changed: {no_op:.1f} s"
        + (f" (it reran {', '.join(rerun)})" if rerun else " (no stage ran)")
    )


def runner_repro(root: Path, project: Path, jobs: int) -> None:
    """The parallel runner over the copy, then its table: stage times, critical path, no-op."""
    from jena_forecast.parallel.plan import longest_chain, read_pipeline

    command = [sys.executable, "-m", "jena_forecast.parallel", "--jobs", str(jobs)]
    started = time.perf_counter()
    with (root / "parallel.log").open("w", encoding="utf-8") as log:
        done = subprocess.run(
            command, cwd=project, env=environment(project), stdout=log, stderr=subprocess.STDOUT
        )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the runner failed (exit {done.returncode}): {root / 'parallel.log'}")
    record = json.loads((project / "build" / "repro-logs" / "run.json").read_text())
    stages = {name: stage["seconds"] for name, stage in record["stages"].items()}
    print_table(
        ["stage", "seconds", "worker"],
        [
            [name, f"{stages[name]:.1f}", record["stages"][name].get("worker", "")]
            for name in sorted(stages, key=stages.__getitem__, reverse=True)
        ],
    )
    upstream, _ = read_pipeline(project)
    critical, chain = longest_chain(upstream, stages)
    print()
    print(f"critical path {critical:.1f} s: {' -> '.join(chain)}")
    print(f"sum of the stage times: {sum(stages.values()):.1f} s ({record['cluster']})")
    print(
        f"the runner from a clean workspace, {jobs} jobs: {seconds:.1f} s = {seconds / 60:.1f} min "
        f"({len(stages)} stages)"
    )
    no_op_started = time.perf_counter()
    no_op_output = run(["dvc", "repro"], project)
    rerun = STAGE_LINE.findall(no_op_output)
    print(
        f"dvc repro again, nothing changed: {time.perf_counter() - no_op_started:.1f} s"
        + (f" (it reran {', '.join(rerun)})" if rerun else " (no stage ran)")
    )


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--tiny", action="store_true", help="the tests' tiny synthetic data")
    source.add_argument(
        "--embedded", action="store_true", help="the real record shipped with the project"
    )
    source.add_argument("--mirror", type=Path, help="a local copy of the Jena zip")
    source.add_argument(
        "--resume", type=Path, metavar="ROOT", help="go on with the kept run in ROOT"
    )
    parser.add_argument("--sha256", help="the mirror's sha256 (default: computed here)")
    parser.add_argument("--models", help="comma-separated params models to keep (default: all)")
    parser.add_argument(
        "--workdir", type=Path, help="where to build the copy (default: a temp dir)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the copy and its repro log")
    parser.add_argument(
        "--jobs", type=int, default=1, help="N > 1: the parallel runner with N workers"
    )
    parser.add_argument(
        "--force",
        type=lambda value: [name.strip() for name in value.split(",") if name.strip()],
        default=[],
        metavar="STAGES",
        help="with --resume: run these completed stages again first and count the new times "
        "(e.g. stages that ran while other work loaded the machine)",
    )
    parser.add_argument(
        "--refresh",
        action="store_true",
        help="with --resume: first bring the copy to the pipeline's current files "
        "(stages whose code or params changed run again)",
    )
    args = parser.parse_args(argv)
    if args.sha256 and not args.mirror:
        parser.error("--sha256 goes with --mirror")
    if args.mirror and not args.mirror.is_file():
        parser.error(f"--mirror: no such file: {args.mirror}")
    if args.resume and not (args.resume / "project" / "dvc.yaml").is_file():
        parser.error(f"--resume: {args.resume} is not a kept run (no project/dvc.yaml in it)")
    if args.resume and (args.models or args.workdir):
        parser.error("--resume goes on with the run as it was made: no --models or --workdir")
    if (args.refresh or args.force) and not args.resume:
        parser.error("--refresh and --force go with --resume")
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1. Received: {args.jobs}")
    if args.jobs > 1 and (args.resume or args.force):
        parser.error("--jobs runs a fresh copy: no --resume or --force")
    if args.refresh and not (args.resume / RUN_SETTINGS).is_file():
        parser.error(f"--refresh: {args.resume} has no {RUN_SETTINGS} saying how it was made")
    return args


def main(argv: list[str]) -> None:
    args = parse_arguments(argv)
    for stop in (signal.SIGTERM, signal.SIGHUP):  # a kill or a closed terminal stops dvc as Ctrl-C
        signal.signal(stop, lambda number, _frame: sys.exit(128 + number))
    if args.resume:
        root = args.resume
        if args.refresh:
            refresh_project(root)
    else:
        root = Path(tempfile.mkdtemp(prefix="repro-time-", dir=args.workdir))
        new_project(root, args)
    project = root / "project"
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    print(f"pipeline copy: {project}")
    download = params["download"]
    data = download["mirror"] if download["source"] == "mirror" else download["source"]
    print(f"data: {data}; models: {', '.join(params['models'])}")
    print()
    if args.jobs > 1:
        runner_repro(root, project, args.jobs)
        if args.keep:
            print(f"kept: {root} (parallel.log; project/build/repro-logs/: each stage's log)")
        else:
            shutil.rmtree(root, ignore_errors=True)
        return
    for stage in args.force:
        number = len(attempt_logs(root)) + 1
        timed_repro(project, root / f"repro-{number}.log", ("dvc", "repro", "-f", "-s", stage))
    logs = attempt_logs(root)
    attempt = timed_repro(project, root / f"repro-{len(logs) + 1}.log")
    if attempt.finished:
        report(root, project)
    if args.keep or args.resume:
        print(f"kept: {root} (repro-N.log: every line dvc printed, timestamped)")
    else:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
