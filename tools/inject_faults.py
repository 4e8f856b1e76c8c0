"""Inject known faults into the statistics, one at a time, and show which tests catch each.

Each fault is a one-line edit of the library or a stage, made in a temporary copy of the
checkout; the statistics' tests run against that copy and the tests that fail are listed. A fault
no test catches is printed as ``NOT CAUGHT`` and the tool exits 1::

    python tools/inject_faults.py            # every fault (about a minute)
    python tools/inject_faults.py --list     # the faults and their edits
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("src", "stages", "tests", "tools", "params.yaml", "dvc.yaml", "pyproject.toml")
TESTS = (
    "tests/test_statistics_hold.py",
    "tests/test_significance.py",
    "tests/test_leaderboard.py",
    "tests/test_seed_compare.py",
)


@dataclass(frozen=True)
class Fault:
    name: str
    path: str
    old: str
    new: str


FAULTS = (
    Fault(
        "bootstrap blocks of one window",
        "src/jena_forecast/evaluation/scoring.py",
        "block = block_windows(significance.block_days, config.parse.interval_minutes)",
        "block = 1",
    ),
    Fault(
        "blocks a quarter as long",
        "src/jena_forecast/evaluation/scoring.py",
        "block = block_windows(significance.block_days, config.parse.interval_minutes)",
        "block = block_windows(significance.block_days / 4, config.parse.interval_minutes)",
    ),
    Fault(
        "no minimum block count for short records",
        "src/jena_forecast/evaluation/scoring.py",
        "block = max(1, min(block, windows // MIN_BLOCKS))",
        "block = max(1, min(block, windows - 1))",
    ),
    Fault(
        "Diebold-Mariano with 0 HAC lags",
        "src/jena_forecast/evaluation/significance.py",
        "p_value=diebold_mariano(a, b, hac_lags=bootstrap.block_windows)",
        "p_value=diebold_mariano(a, b, hac_lags=0)",
    ),
    Fault(
        "model confidence set with blocks of one window",
        "src/jena_forecast/evaluation/significance.py",
        "block_size=bootstrap.block_windows,",
        "block_size=1,",
    ),
    Fault(
        "model confidence set: 100 replications of blocks of 2",
        "src/jena_forecast/evaluation/significance.py",
        "reps=bootstrap.replications,\n        block_size=bootstrap.block_windows,",
        "reps=100,\n        block_size=2,",
    ),
    Fault(
        "MAE intervals without the errors' own block length",
        "src/jena_forecast/evaluation/significance.py",
        "mae_block = max(bootstrap.block_windows, min(data_driven, longest))",
        "mae_block = bootstrap.block_windows",
    ),
    Fault(
        "validation naive errors in the seed-mean test intervals",
        "stages/leaderboard.py",
        'naive_losses = naive.naive_abs_errors("test")',
        'naive_losses = naive.naive_abs_errors("val")',
    ),
    Fault(
        "compare without the seeds' noise",
        "src/jena_forecast/comparison/seed_noise.py",
        "    if variance > 0:",
        "    if False:",
    ),
)


def inject(fault: Fault, copy: Path) -> None:
    path = copy / fault.path
    text = path.read_text(encoding="utf-8")
    if text.count(fault.old) != 1:
        raise SystemExit(f"{fault.path}: expected the line to edit once: {fault.old!r}")
    path.write_text(text.replace(fault.old, fault.new), encoding="utf-8")


def failing_tests(copy: Path) -> list[str]:
    """The tests of ``TESTS`` that fail in ``copy``."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow", *TESTS],
        cwd=copy,
        env={**os.environ, "PYTHONPATH": str(copy / "src")},
        capture_output=True,
        text=True,
    )
    return sorted(set(re.findall(r"^FAILED (\S+?)(?: - |$)", result.stdout, re.M)))


def main() -> int:
    if "--list" in sys.argv[1:]:
        for fault in FAULTS:
            print(f"{fault.name}: {fault.path}: {fault.old!r} -> {fault.new!r}")
        return 0
    missed = 0
    with tempfile.TemporaryDirectory() as tmp:
        clean = Path(tmp) / "clean"
        for name in COPIED:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, clean / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(source, clean / name)
        if failing_tests(clean):
            raise SystemExit("the statistics' tests fail without any fault: fix them first")
        for fault in FAULTS:
            copy = Path(tmp) / "fault"
            shutil.copytree(clean, copy)
            inject(fault, copy)
            failed = failing_tests(copy)
            shutil.rmtree(copy)
            missed += not failed
            print(f"{fault.name}: " + (", ".join(failed) if failed else "NOT CAUGHT"), flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
