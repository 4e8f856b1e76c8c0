"""Wall time of `dvc repro` from a clean workspace, stage by stage, then of a no-op `dvc repro`.

    python bench/repro_time.py --tiny                                  # the tests' tiny synthetic data
    python bench/repro_time.py --tiny --models linear,gru
    python bench/repro_time.py --mirror ~/jena_climate_2009_2011.csv.zip --sha256 b65b3ad5... --keep
    python bench/repro_time.py --resume /tmp/repro-time-XXXX     # go on after an interruption

The pipeline (dvc.yaml, params.yaml, stages/, src/, .gitignore, .dvc/config and .dvc/plots) is
copied into a fresh git + DVC repository in a temporary directory with an empty DVC cache, so
every stage runs. ``--tiny`` writes the tests' synthetic file (2,000 rows, a repeated day and a
gap) and shrinks windows and training as the end-to-end tests do (tests/dvc_project.py); with
``--mirror`` the real params run on that file, which takes as long as the real pipeline does.
``--models`` keeps only those models (and points the learning-rate range test at one of them).

One `dvc repro` runs end to end; every line it prints is timestamped as it arrives, and a stage's
time runs from its "Running stage" line to the next one (its command plus DVC's hashing and lock
update), so the stages add up to the whole run. Then `dvc repro` runs again with nothing changed.
The figures are printed, not checked.

The real pipeline takes hours on a small CPU. A run stopped part way (Ctrl-C, a closed terminal)
goes on with ``--resume ROOT`` (the kept directory; every run keeps it until it completes): `dvc
repro` picks up at the first stage without a lock entry, each attempt logs to its own
``repro-N.log``, and the table takes each stage from the attempt that completed it. Time spent in a
stage that was interrupted is reported apart, not counted, and the total is the sum of what each
stage took once: what one uninterrupted run would take. Every stage row also shows the machine's
1-minute load average when it started, so a stage slowed by other work shows.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import re
import shutil
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


def new_project(project: Path, args: argparse.Namespace) -> None:
    """A git + DVC repository at ``project`` with the pipeline, its data and the chosen models."""
    project.mkdir(parents=True)
    for name in PROJECT_FILES:
        source, target = PROJECT_ROOT / name, project / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target)
    run(["git", "init", "-q"], project)
    run(["git", "config", "user.email", "bench@example.com"], project)
    run(["git", "config", "user.name", "bench"], project)
    run(["dvc", "init", "-q"], project)
    for name in DVC_FILES:
        source, target = PROJECT_ROOT / name, project / name
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy(source, target)
    mirror_dir = project / "data" / "mirror"
    mirror_dir.mkdir(parents=True)
    if args.tiny:
        mirror = mirror_dir / "tiny.zip"
        SyntheticJena(rows=2000, duplicate_block=(300, 144), drop_rows=[700, 701]).write_zip(mirror)
        tiny_params(project, mirror)
    else:
        mirror = mirror_dir / args.mirror.name
        shutil.copy(args.mirror, mirror)
        sha256 = args.sha256 or hashlib.sha256(mirror.read_bytes()).hexdigest()

        def real_data(params: dict) -> None:
            params["download"].update(mirror=str(mirror.relative_to(project)), sha256=sha256)

        edit_params(project, real_data)
    if args.models:
        keep = [name.strip() for name in args.models.split(",") if name.strip()]

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
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-q", "-m", "Pipeline under test"], project)


LOCK_LINE = "Updating lock file"


@dataclass
class Attempt:
    """One `dvc repro` of a (possibly resumed) run, read back from its log."""

    startup: float  # seconds before its first stage
    completed: list[tuple[str, float, float]]  # (stage, seconds, load average at its start)
    interrupted: float  # seconds spent in a stage it did not complete
    finished: bool


def read_attempt(log_path: Path) -> Attempt:
    """Stages of one attempt's log; a stage counts only when DVC updated the lock after it."""
    marks: list[tuple[str, float, float]] = []
    locked: set[int] = set()
    last = 0.0
    finished = False
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
            marks.append((match.group(1), last, math.nan))
        elif LOCK_LINE in text and marks:
            locked.add(len(marks) - 1)
        elif text.startswith("load ") and marks:
            name, at, _ = marks[-1]
            marks[-1] = (name, at, float(text.split()[1]))
    ends = [at for _, at, _ in marks[1:]] + [last] if marks else []
    completed, interrupted = [], 0.0
    for index, ((name, at, load), end) in enumerate(zip(marks, ends, strict=True)):
        if index in locked:
            completed.append((name, end - at, load))
        else:
            interrupted += end - at
    return Attempt(marks[0][1] if marks else last, completed, interrupted, finished)


def timed_repro(project: Path, log_path: Path) -> Attempt:
    """Run `dvc repro`, timestamping each line it prints into ``log_path`` as it arrives."""
    started = time.perf_counter()
    with (
        log_path.open("w", encoding="utf-8", buffering=1) as log,
        subprocess.Popen(
            ["dvc", "repro"],
            cwd=project,
            env=environment(project),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        ) as process,
    ):
        assert process.stdout is not None
        for line in process.stdout:
            now = time.perf_counter() - started
            log.write(f"{now:9.3f}  {line}")
            if STAGE_LINE.search(line):
                log.write(f"{now:9.3f}  load {os.getloadavg()[0]:.2f}\n")
        returncode = process.wait()
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


def stage_times(attempts: list[Attempt]) -> dict[str, tuple[float, float]]:
    """Each stage's (seconds, load at start) from the first attempt that completed it."""
    stages: dict[str, tuple[float, float]] = {}
    for attempt in attempts:
        for name, seconds, load in attempt.completed:
            stages.setdefault(name, (seconds, load))
    return stages


def report(root: Path, project: Path) -> None:
    """The per-stage table over every attempt, the total, then the no-op `dvc repro`."""
    attempts = [read_attempt(path) for path in attempt_logs(root)]
    stages = stage_times(attempts)
    startup = attempts[0].startup
    total = startup + sum(seconds for seconds, _ in stages.values())
    rows = [["dvc start (before the first stage)", f"{startup:.1f}", f"{startup / total:.0%}", ""]]
    rows += [
        [name, f"{seconds:.1f}", f"{seconds / total:.0%}", f"{load:.1f}"]
        for name, (seconds, load) in stages.items()
    ]
    print_table(["stage", "seconds", "share", "load at start"], rows)
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


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--tiny", action="store_true", help="the tests' tiny synthetic data")
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
    args = parser.parse_args(argv)
    if args.sha256 and not args.mirror:
        parser.error("--sha256 goes with --mirror")
    if args.mirror and not args.mirror.is_file():
        parser.error(f"--mirror: no such file: {args.mirror}")
    if args.resume and not (args.resume / "project" / "dvc.yaml").is_file():
        parser.error(f"--resume: {args.resume} is not a kept run (no project/dvc.yaml in it)")
    if args.resume and (args.models or args.workdir):
        parser.error("--resume goes on with the run as it was made: no --models or --workdir")
    return args


def main(argv: list[str]) -> None:
    args = parse_arguments(argv)
    if args.resume:
        root = args.resume
    else:
        root = Path(tempfile.mkdtemp(prefix="repro-time-", dir=args.workdir))
        new_project(root / "project", args)
    project = root / "project"
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    print(f"pipeline copy: {project}")
    print(f"data: {params['download']['mirror']}; models: {', '.join(params['models'])}")
    print()
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
