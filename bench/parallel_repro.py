"""Wall time of the whole pipeline with plain `dvc repro` and with the parallel runner, side by
side, and the DAG's critical path (the longest chain of stage times) as the lower bound.

    python bench/parallel_repro.py --tiny                          # the tests' tiny data: minutes
    python bench/parallel_repro.py --tiny --models linear --jobs 2
    python bench/parallel_repro.py --embedded --keep               # the real pipeline: hours, twice
    python bench/parallel_repro.py --mirror ~/jena_climate_2009_2016.csv.zip --keep

Two fresh copies of the pipeline, made as bench/repro_time.py makes them (a new git + DVC
repository, an empty cache: every stage runs), one after the other on the same machine: the first
runs `dvc repro`, timed stage by stage from the lines it prints (repro_time.py's reading); the
second `python -m jena_forecast.parallel --jobs N`, whose run.json holds every stage's start and
end. The critical path is the longest chain, over DVC's graph, of the plain run's stage times: no
number of workers finishes sooner. With N workers the work itself bounds the run too (the sum of
the stage times over N); the larger of the two is the bound printed. Each stage of the parallel
run pays a `dvc` start of its own (a few seconds) that the plain run pays once.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import print_table
from repro_time import environment, new_project, timed_repro

from jena_forecast.parallel.plan import longest_chain, read_pipeline


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--tiny", action="store_true", help="the tests' tiny synthetic data")
    source.add_argument(
        "--embedded", action="store_true", help="the real record shipped with the project"
    )
    source.add_argument("--mirror", type=Path, help="a local copy of the Jena zip")
    parser.add_argument("--sha256", help="the mirror's sha256 (default: computed here)")
    parser.add_argument("--models", help="comma-separated params models to keep (default: all)")
    parser.add_argument("--jobs", type=int, default=2, help="the runner's workers (default: 2)")
    parser.add_argument("--workdir", type=Path, help="where to build the copies (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep both copies and their logs")
    args = parser.parse_args(argv)
    if args.sha256 and not args.mirror:
        parser.error("--sha256 goes with --mirror")
    if args.mirror and not args.mirror.is_file():
        parser.error(f"--mirror: no such file: {args.mirror}")
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1. Received: {args.jobs}")
    return args


def plain_run(root: Path, args: argparse.Namespace) -> tuple[float, dict[str, float]]:
    """`dvc repro` in a fresh copy: its wall time and each stage's."""
    new_project(root, args)
    started = time.perf_counter()
    attempt = timed_repro(root / "project", root / "repro-1.log")
    seconds = time.perf_counter() - started
    return seconds, {name: stage.seconds for name, stage in attempt.completed}


def parallel_run(root: Path, args: argparse.Namespace) -> tuple[float, dict]:
    """The runner in a fresh copy: its wall time and its run.json."""
    new_project(root, args)
    project = root / "project"
    command = [sys.executable, "-m", "jena_forecast.parallel", "--jobs", str(args.jobs)]
    started = time.perf_counter()
    with (root / "parallel.log").open("w", encoding="utf-8") as log:
        done = subprocess.run(
            command, cwd=project, env=environment(project), stdout=log, stderr=subprocess.STDOUT
        )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(
            f"the parallel run failed (exit {done.returncode}): {root / 'parallel.log'}"
        )
    record = json.loads((project / "build" / "repro-logs" / "run.json").read_text())
    return seconds, record


def main(argv: list[str]) -> None:
    args = parse_arguments(argv)
    base = Path(tempfile.mkdtemp(prefix="parallel-repro-", dir=args.workdir))
    print(f"copies in {base}; {args.jobs} workers for the runner", flush=True)
    plain_seconds, stage_seconds = plain_run(base / "plain", args)
    print(f"dvc repro: {plain_seconds:.1f} s, {len(stage_seconds)} stages", flush=True)
    parallel_seconds, record = parallel_run(base / "parallel", args)
    print(f"parallel runner: {parallel_seconds:.1f} s, {len(record['stages'])} stages", flush=True)
    upstream, _ = read_pipeline(base / "plain" / "project")
    critical, chain = longest_chain(upstream, stage_seconds)
    work_bound = sum(stage_seconds.values()) / args.jobs
    bound = max(critical, work_bound)
    print()
    print_table(
        ["run", "seconds", "minutes", "vs dvc repro"],
        [
            [
                "dvc repro (one stage at a time)",
                f"{plain_seconds:.1f}",
                f"{plain_seconds / 60:.1f}",
                "1.00x",
            ],
            [
                f"parallel runner, {args.jobs} workers",
                f"{parallel_seconds:.1f}",
                f"{parallel_seconds / 60:.1f}",
                f"{plain_seconds / parallel_seconds:.2f}x",
            ],
            [
                "critical path (lower bound, any workers)",
                f"{critical:.1f}",
                f"{critical / 60:.1f}",
                f"{plain_seconds / critical:.2f}x",
            ],
            [
                f"bound on {args.jobs} workers: max(path, work / {args.jobs})",
                f"{bound:.1f}",
                f"{bound / 60:.1f}",
                f"{plain_seconds / bound:.2f}x",
            ],
        ],
    )
    print()
    print(f"critical path ({len(chain)} stages): {' -> '.join(chain)}")
    print(f"sum of the plain run's stage times: {sum(stage_seconds.values()):.1f} s")
    if args.keep:
        print(f"kept: {base} (plain/repro-1.log, parallel/parallel.log, each copy's build/)")
    else:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
