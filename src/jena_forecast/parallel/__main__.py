"""python -m jena_forecast.parallel --jobs N [--scheduler tcp://host:8786] [targets...]"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from jena_forecast.parallel.runner import Settings, StopSignalError, run, stop_signals


def parse_arguments(argv: Sequence[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(
        prog="python -m jena_forecast.parallel",
        description="Run the stale stages of dvc.yaml on a Dask cluster, each once the stages "
        "it reads from have finished; end on dvc status.",
    )
    parser.add_argument(
        "targets", nargs="*", help="stages or foreach groups, with all they need (default: all)"
    )
    parser.add_argument(
        "--jobs", "-j", type=int, default=2, help="workers of the local cluster (default: 2)"
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a running Dask scheduler (tcp://host:8786) whose workers each run in a clone of "
        "this project at its commit, instead of a local cluster",
    )
    parser.add_argument(
        "--threads-per-job",
        type=int,
        metavar="N",
        help="threads of every pool of each stage: TensorFlow's two, OpenMP's and BLAS's; the "
        "pools that split a sum change bits, and a convolution's scores (default: TensorFlow's "
        "inter-op pool at a machine's CPUs over its workers, the others at their defaults, as "
        "under dvc repro; 0 leaves every library's default). Training's intra-op pool is the "
        "param train.intra_op_threads, whatever this says",
    )
    parser.add_argument(
        "--log-dir",
        type=Path,
        default=Path("build/repro-logs"),
        help="each stage's log and run.json (default: build/repro-logs)",
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1. Received: {args.jobs}")
    if args.threads_per_job is not None and args.threads_per_job < 0:
        parser.error(f"--threads-per-job must be 0 or more. Received: {args.threads_per_job}")
    root = Path.cwd()
    return Settings(
        root=root,
        jobs=args.jobs,
        scheduler=args.scheduler,
        targets=tuple(args.targets),
        threads=args.threads_per_job,
        log_dir=args.log_dir if args.log_dir.is_absolute() else root / args.log_dir,
    )


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_arguments(argv)
    with stop_signals():
        try:
            return run(settings).exit_code
        except (KeyboardInterrupt, StopSignalError) as stop:  # before any stage started
            number = stop.number if isinstance(stop, StopSignalError) else signal.SIGINT
            print(f"stopped by {signal.Signals(number).name} before any stage started")
            return 128 + number


if __name__ == "__main__":
    sys.exit(main())
