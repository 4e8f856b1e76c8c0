"""What the bench scripts share: the input array, the training windows, a peak-RSS sampler, tables.

The scripts print figures; they assert nothing. Run them from the project root with the project
installed (``make setup``) or with ``PYTHONPATH=src``.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

os.environ.setdefault(
    "TF_CPP_MIN_LOG_LEVEL", "2"
)  # TensorFlow's C++ log lines stay out of the tables
PROJECT_ROOT = Path(__file__).resolve().parents[1]
JENA_COLUMNS = 14
TARGET_INDEX = 1  # "T (degC)": the second measurement column of the Jena header
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """``--array PATH`` | ``--synthetic ROWS``, plus the window geometry (params.yaml's defaults)."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--array", type=Path, help="a normalized (rows, features) .npy array")
    source.add_argument(
        "--synthetic", type=int, metavar="ROWS", help="a seeded random array of ROWS x 14 instead"
    )
    parser.add_argument("--target-index", type=int, default=TARGET_INDEX)
    parser.add_argument("--lookback", type=int, default=1440, help="lookback_rows")
    parser.add_argument("--step", type=int, default=6, help="step_rows")
    parser.add_argument("--delay", type=int, default=144, help="delay_rows")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--train-fraction", type=float, default=0.5, help="training rows: the first fraction"
    )
    parser.add_argument("--seed", type=int, default=1337)


def load_array(args: argparse.Namespace) -> np.ndarray:
    """The float32 array the arguments name."""
    if args.array is not None:
        data = np.load(args.array, allow_pickle=False)
        if data.ndim != 2:
            raise SystemExit(f"{args.array}: expected a 2-D (rows, features) array: {data.shape}")
        return np.ascontiguousarray(data, dtype=np.float32)
    rng = np.random.default_rng(args.seed)
    return rng.standard_normal((args.synthetic, JENA_COLUMNS), dtype=np.float32)


def input_label(args: argparse.Namespace, data: np.ndarray) -> str:
    source = args.array.name if args.array is not None else "synthetic"
    return f"{source}: {data.shape[0]:,} rows x {data.shape[1]} columns, {data.dtype}"


def train_end_row(args: argparse.Namespace, data: np.ndarray) -> int:
    return int(len(data) * args.train_fraction)


def current_rss_bytes() -> int:
    """This process's resident set size now (Linux /proc; elsewhere the peak so far)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * PAGE_BYTES
    except OSError:
        scale = 1 if sys.platform == "darwin" else 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


class PeakRss:
    """Samples the RSS every few milliseconds while inside; ``delta`` is the peak over the start."""

    def __init__(self, interval_seconds: float = 0.002) -> None:
        self.interval_seconds = interval_seconds
        self.start = self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, current_rss_bytes())
            time.sleep(self.interval_seconds)

    def __enter__(self) -> PeakRss:
        self.start = self.peak = current_rss_bytes()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, current_rss_bytes())

    @property
    def delta(self) -> int:
        return self.peak - self.start


def machine_load() -> str:
    """CPUs and load averages: the wall-clock figures mean little on a machine busy with other work."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return f"{os.cpu_count()} CPUs"
    return f"{os.cpu_count()} CPUs, load average {one:.1f} (1 min), {five:.1f} (5 min)"


def mib(count_bytes: float | None) -> str:
    return "n/a" if count_bytes is None else f"{count_bytes / 2**20:,.1f}"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain-text table, numbers right-aligned, as ``column -t`` would print it."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(str(h)), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            value.ljust(width) if i == 0 else value.rjust(width)
            for i, (value, width) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    print(line([str(h) for h in headers]))
    print(line(["-" * width for width in widths]))
    for row in cells:
        print(line(row))
