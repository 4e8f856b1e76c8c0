"""Throughput and peak memory of assembling shuffled training batches, four ways, side by side.

    python bench/window_assembly.py --array data/processed/normalized.npy
    python bench/window_assembly.py --synthetic 100000 --batches 100

Every method draws shuffled batches of ``--batch-size`` windows (lookback 1440 rows, one input every
6 rows, target 144 rows after the last input by default) from the training rows, the first half of
the array:

* ``project``: ``ShuffledWindowBatches``, a seeded permutation of the anchors and a block copy per
  phase of the batch (``InputGather``); windows are never stored.
* ``dlwp_generator``: Deep Learning with Python (1st ed.), listing 6.33, as printed: a Python loop
  over the rows of each batch into float64 arrays, rows drawn with replacement. (Its inputs end
  ``step`` rows before ``row`` and its target is ``delay`` rows after ``row``: the same number of
  inputs, a target ``step`` rows further ahead.)
* ``keras_timeseries``: ``keras.utils.timeseries_dataset_from_array(..., sampling_rate=6,
  shuffle=True)``, the tf.data pipeline of DLwP 2nd/3rd ed.
* ``tf_window``: the TensorFlow course's ``Dataset.window(...).flat_map(...)`` recipe with its
  1000-window shuffle buffer, adapted to several columns, a step and a delay.

Each method runs in a fresh interpreter (same imports, same array) so its memory figures are its own:
the peak RSS over the interpreter's RSS before the method starts, sampled every 2 ms, and the peak of
``tracemalloc`` (Python and NumPy allocations only: tf.data's buffers show in RSS, not there). Then the
project's batcher runs again over a quarter, half and all of the training windows, and for four
times as many batches, to show what its memory grows with. The figures are printed, not checked.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    PeakRss,
    add_input_arguments,
    input_label,
    load_array,
    machine_load,
    mib,
    print_table,
    train_end_row,
)

METHODS = ("project", "dlwp_generator", "keras_timeseries", "tf_window")
WARMUP_BATCHES = 2
TRACEMALLOC_BATCHES = 20


def dlwp_generator(
    data: np.ndarray,
    lookback: int,
    delay: int,
    min_index: int,
    max_index: int | None,
    shuffle: bool = False,
    batch_size: int = 128,
    step: int = 6,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Chollet, Deep Learning with Python (1st ed.), listing 6.33, unchanged but for names' style."""
    if max_index is None:
        max_index = len(data) - delay - 1
    i = min_index + lookback
    while 1:
        if shuffle:
            rows = np.random.randint(min_index + lookback, max_index, size=batch_size)
        else:
            if i + batch_size >= max_index:
                i = min_index + lookback
            rows = np.arange(i, min(i + batch_size, max_index))
            i += len(rows)
        samples = np.zeros((len(rows), lookback // step, data.shape[-1]))
        targets = np.zeros((len(rows),))
        for j, _row in enumerate(rows):
            indices = range(rows[j] - lookback, rows[j], step)
            samples[j] = data[indices]
            targets[j] = data[rows[j] + delay][1]
        yield samples, targets


def batch_source(
    method: str, data: np.ndarray, args: argparse.Namespace, batches: int
) -> Callable[[], Any]:
    """A function returning the next batch of ``method``; building it is part of the setup time."""
    train_end = train_end_row(args, data)
    if method == "project":
        from jena_forecast.data.windows import WindowSpec
        from jena_forecast.training.batches import ShuffledWindowBatches

        spec = WindowSpec(args.lookback, args.step, args.delay, args.target_index)
        anchors = training_anchors(data, args)
        dataset = ShuffledWindowBatches(data, anchors, spec, args.batch_size, batches, args.seed)
        items = iter(range(len(dataset)))
        return lambda: dataset[next(items)]
    if method == "dlwp_generator":
        np.random.seed(args.seed)
        generator = dlwp_generator(
            data, args.lookback, args.delay, 0, train_end, True, args.batch_size, args.step
        )
        return lambda: next(generator)
    import tensorflow as tf

    tf.random.set_seed(args.seed)
    if method == "keras_timeseries":
        import keras

        # Sequence i covers rows i, i+step, ..., i+lookback-step: its last input (the anchor) is
        # row i+lookback-step and its target row i+lookback-step+delay.
        target_offset = args.lookback - args.step + args.delay
        dataset = keras.utils.timeseries_dataset_from_array(
            data,
            targets=data[target_offset:, args.target_index : args.target_index + 1],
            sequence_length=args.lookback // args.step,
            sampling_rate=args.step,
            batch_size=args.batch_size,
            shuffle=True,
            seed=args.seed,
            start_index=0,
            end_index=train_end - args.delay,
        ).repeat()
    else:  # tf_window: the TensorFlow course's windowed_dataset
        span = args.lookback + args.delay  # first row a window covers .. its target, included
        target = args.target_index
        dataset = tf.data.Dataset.from_tensor_slices(data[:train_end])
        dataset = dataset.window(span, shift=1, drop_remainder=True)
        dataset = dataset.flat_map(lambda window: window.batch(span))
        dataset = dataset.shuffle(args.shuffle_buffer, seed=args.seed).map(
            lambda window: (
                window[args.step - 1 : args.lookback : args.step],
                window[-1, target : target + 1],
            )
        )
        dataset = dataset.batch(args.batch_size).prefetch(1).repeat()
    iterator = iter(dataset)
    return lambda: next(iterator)


def training_anchors(data: np.ndarray, args: argparse.Namespace) -> np.ndarray:
    """The project's training anchors: every window in the training rows without a missing value."""
    from jena_forecast.data.windows import WindowSpec, window_anchors

    spec = WindowSpec(args.lookback, args.step, args.delay, args.target_index)
    valid = np.isfinite(data).all(axis=1)
    anchors = window_anchors(valid, 0, train_end_row(args, data), spec)
    return anchors[: max(1, int(len(anchors) * args.anchor_fraction))]


def describe(batch: Any) -> str:
    """Shape and dtype of a batch's inputs (NumPy array or tf.Tensor)."""
    return f"{tuple(batch[0].shape)} {batch[0].dtype.name}"


def run_worker(args: argparse.Namespace) -> dict[str, Any]:
    """Time and measure one method in this interpreter (the orchestrator starts one per method)."""
    # Every method's interpreter starts from the same imports, outside the measurements.
    import keras  # noqa: F401
    import tensorflow  # noqa: F401

    import jena_forecast.training.batches  # noqa: F401

    data = load_array(args)
    batches = args.batches
    with PeakRss() as rss:
        started = time.perf_counter()
        next_batch = batch_source(args.worker, data, args, batches + WARMUP_BATCHES)
        for _ in range(WARMUP_BATCHES):
            batch = next_batch()
        warm, warm_cpu = time.perf_counter(), time.process_time()
        for _ in range(batches):
            batch = next_batch()
        done, done_cpu = time.perf_counter(), time.process_time()
    shape = describe(batch)
    del batch, next_batch
    tracemalloc.start()
    next_batch = batch_source(args.worker, data, args, TRACEMALLOC_BATCHES)
    for _ in range(min(batches, TRACEMALLOC_BATCHES)):
        _held = next_batch()  # held while the next one is assembled, as a consumer does
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "method": args.worker,
        "windows": len(training_anchors(data, args)),
        "batches": batches,
        "samples_per_second": batches * args.batch_size / (done - warm),
        "samples_per_cpu_second": batches * args.batch_size / (done_cpu - warm_cpu),
        "setup_seconds": warm - started,
        "rss_delta_bytes": rss.delta,
        "tracemalloc_peak_bytes": traced_peak,
        "batch": shape,
    }


def run_in_fresh_interpreter(argv: list[str], method: str, **overrides: object) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), *argv, "--worker", method]
    for name, value in overrides.items():
        command += [f"--{name.replace('_', '-')}", str(value)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{method} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_input_arguments(parser)
    parser.add_argument("--batches", type=int, default=200, help="timed batches per method")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated subset")
    parser.add_argument("--shuffle-buffer", type=int, default=1000, help="tf_window's buffer")
    parser.add_argument("--anchor-fraction", type=float, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=METHODS, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    args = parse_arguments(argv)
    if args.worker:
        print(json.dumps(run_worker(args)))
        return
    methods = [name.strip() for name in args.methods.split(",") if name.strip()]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise SystemExit(f"--methods: unknown {unknown}. Expected some of: {', '.join(METHODS)}")
    data = load_array(args)
    print(f"input: {input_label(args, data)}; training rows [0, {train_end_row(args, data):,})")
    print(
        f"windows: lookback {args.lookback}, step {args.step}, delay {args.delay}; "
        f"batch {args.batch_size}; {args.batches} timed batches after {WARMUP_BATCHES} warm-up"
    )
    print(f"machine before: {machine_load()}")
    results = [run_in_fresh_interpreter(argv, method) for method in methods]
    print(f"machine after:  {machine_load()}")
    print()
    reference = next((r for r in results if r["method"] == "project"), None)

    def ratio(result: dict[str, Any], key: str) -> str:
        return f"{result[key] / reference[key]:.2f}x" if reference else "n/a"

    rows = []
    for result in results:
        rows.append(
            [
                result["method"],
                f"{result['samples_per_second']:,.0f}",
                ratio(result, "samples_per_second"),
                f"{result['samples_per_cpu_second']:,.0f}",
                ratio(result, "samples_per_cpu_second"),
                f"{result['setup_seconds']:.2f}",
                mib(result["rss_delta_bytes"]),
                mib(result["tracemalloc_peak_bytes"]),
                result["batch"],
            ]
        )
    print_table(
        [
            "method",
            "samples/s",
            "vs project",
            "samples/CPU-s",
            "vs project",
            "setup+warm-up s",
            "peak RSS delta MiB",
            "tracemalloc peak MiB",
            "batch inputs",
        ],
        rows,
    )
    print(
        "(samples/s: wall clock; samples/CPU-s: per second of CPU time of the process, all its "
        "threads, steadier on a busy machine. tracemalloc sees Python and NumPy allocations only; "
        "tf.data's own buffers show in RSS.)"
    )
    if "project" not in methods:
        return
    print()
    print("project batcher: memory against the number of windows and of batches drawn")
    scaling = [
        run_in_fresh_interpreter(argv, "project", anchor_fraction=fraction)
        for fraction in (0.25, 0.5)
    ]
    scaling += [reference] if reference else []
    scaling += [run_in_fresh_interpreter(argv, "project", batches=4 * args.batches)]
    features = data.shape[1]
    print_table(
        [
            "windows",
            "batches",
            "peak RSS delta MiB",
            "tracemalloc peak MiB",
            "all windows stored would take MiB",
        ],
        [
            [
                f"{result['windows']:,}",
                result["batches"],
                mib(result["rss_delta_bytes"]),
                mib(result["tracemalloc_peak_bytes"]),
                mib(result["windows"] * (args.lookback // args.step) * features * 4),
            ]
            for result in scaling
        ],
    )
    print(
        "(the batcher keeps the anchors and one permutation of them, 16 bytes a window, one copy "
        "of the array split by phase, and one batch; windows themselves are never stored)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
