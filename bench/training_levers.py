"""Training speed of each network family with each lever: plain, XLA, steps per execution, both.

    python bench/training_levers.py --array data/processed/normalized.npy
    python bench/training_levers.py --array data/processed/normalized.npy --models gru,seq2seq --spe 32
    python bench/training_levers.py --synthetic 60000 --models dense --steps 64 --repeats 1

Each model of ``--models`` is built and compiled as its ``train@`` stage builds it (params.yaml's
builder, recipe and training params), once per lever:

* ``plain``: no XLA, a step per execution, TensorFlow's intra-op pool at its default (a thread
  per core): how every network trained before the levers;
* ``xla``: ``train.jit_compile: true`` (TensorFlow's deterministic ops then not requested);
* ``spe``: ``train.steps_per_execution: --spe``;
* ``1 thread``: ``train.intra_op_threads: 1``;
* the combinations the params use: all three (the recurrent networks), spe and 1 thread (dense
  and convolutional).

Every lever runs in a process of its own (TensorFlow sizes its pools once), on the same batches:
a warm-up fit
(tracing and XLA compilation, reported as ``first call s``), then ``--repeats`` fits of ``--steps``
training steps each, of which the median counts (the machine's other load moves single fits), and
one pass of ``model.evaluate`` over ``--val-steps`` validation batches. ``epoch s`` is what one
epoch of the model's own recipe takes at those rates: its training steps (``steps_per_epoch``, or
one pass over the training windows) plus a pass over every validation window. ``speed-up`` is the
plain lever's epoch time over the lever's. The figures are printed, not checked. Fusing several
seeds' replicas into one graph is not a lever here: docs/performance.md says why.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from common import (
    PROJECT_ROOT,
    add_input_arguments,
    input_label,
    load_array,
    machine_load,
    print_table,
)
from training_throughput import apply_overrides

DEFAULT_MODELS = "dense,simple_rnn,gru,lstm,bidirectional,conv1d_gru,seq2seq,stacked_gru"
WARMUP_EXECUTIONS = 2


def levers(spe: int) -> dict[str, dict[str, Any]]:
    """Each lever's training params; ``plain`` is how every network trained before the levers."""
    plain = {"jit_compile": False, "steps_per_execution": 1, "intra_op_threads": None}
    return {
        "plain": plain,
        "xla": {**plain, "jit_compile": True},
        f"spe {spe}": {**plain, "steps_per_execution": spe},
        "1 thread": {**plain, "intra_op_threads": 1},
        f"xla+spe {spe}+1 thread": {
            "jit_compile": True,
            "steps_per_execution": spe,
            "intra_op_threads": 1,
        },
        f"spe {spe}+1 thread": {**plain, "steps_per_execution": spe, "intra_op_threads": 1},
    }


def bench_lever(
    name: str, lever: dict[str, Any], data: np.ndarray, args: argparse.Namespace
) -> dict[str, Any]:
    """Times one model under one lever: first call, median training step, validation batch."""
    from jena_forecast.config import parse_params
    from jena_forecast.data.windows import WindowSpec, window_anchors
    from jena_forecast.models.registry import build_model
    from jena_forecast.training.batches import OrderedWindowBatches, ShuffledWindowBatches
    from jena_forecast.training.fit import (
        make_loss,
        make_optimizer,
        make_reproducible,
        model_targets,
        model_window_spec,
    )
    from jena_forecast.training.threads import use_intra_op_threads

    raw = yaml.safe_load(args.params.read_text(encoding="utf-8"))
    sets = [
        f"models.{name}.train.{key}={yaml.safe_dump(value).split()[0]}"
        for key, value in lever.items()
    ]
    spec = parse_params(apply_overrides(raw, sets), source=str(args.params)).model(name)
    train = spec.train
    use_intra_op_threads(train.intra_op_threads)
    make_reproducible(args.seed, deterministic_ops=not train.jit_compile)
    window_spec = model_window_spec(
        WindowSpec(args.lookback, args.step, args.delay, args.target_index), spec
    )
    valid = np.isfinite(data).all(axis=1)
    train_end = int(len(data) * args.train_fraction)
    val_end = int(len(data) * (args.train_fraction + (1 - args.train_fraction) / 2))
    train_anchors = window_anchors(valid, 0, train_end, window_spec)
    val_anchors = window_anchors(valid, train_end, val_end, window_spec)
    targets = model_targets(spec)
    spe = train.steps_per_execution
    warmup = WARMUP_EXECUTIONS * spe
    steps = math.ceil(args.steps / spe) * spe
    batches = ShuffledWindowBatches(
        data,
        train_anchors,
        window_spec,
        train.batch_size,
        warmup + steps,
        args.seed,
        targets=targets,
    )
    model = build_model(
        spec.builder,
        (window_spec.timesteps, data.shape[1]),
        spec.builder_params,
        window_spec.target_index if spec.residual else None,
        spec.aux_horizons,
    )
    model.compile(
        optimizer=make_optimizer(train, 10_000),
        loss=make_loss(train),
        jit_compile=train.jit_compile,
        steps_per_execution=spe,
    )
    started = time.perf_counter()
    model.fit(batches, epochs=1, steps_per_epoch=warmup, shuffle=False, verbose=0)
    first_call = time.perf_counter() - started
    step_seconds = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        model.fit(batches, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0)
        step_seconds.append((time.perf_counter() - started) / steps)
    val_count = min(len(val_anchors), args.val_steps * train.batch_size)
    val_batches = OrderedWindowBatches(
        data, val_anchors[:val_count], window_spec, train.batch_size, targets
    )
    model.evaluate(val_batches, steps=1, verbose=0)  # traced here, not timed
    started = time.perf_counter()
    model.evaluate(val_batches, verbose=0)
    val_seconds_per_window = (time.perf_counter() - started) / val_count
    train_steps = train.steps_per_epoch or math.ceil(len(train_anchors) / train.batch_size)
    step = statistics.median(step_seconds)
    return {
        "first_call": first_call,
        "step": step,
        "spread": (max(step_seconds) - min(step_seconds)) / step,
        "epoch": train_steps * step + len(val_anchors) * val_seconds_per_window,
        "train_steps": train_steps,
    }


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_input_arguments(parser)
    parser.add_argument("--params", type=Path, default=PROJECT_ROOT / "params.yaml")
    parser.add_argument("--models", default=DEFAULT_MODELS, help="comma-separated params models")
    parser.add_argument("--spe", type=int, default=16, help="steps_per_execution of the lever")
    parser.add_argument("--steps", type=int, default=128, help="timed training steps per fit")
    parser.add_argument("--repeats", type=int, default=3, help="timed fits per lever (median)")
    parser.add_argument("--val-steps", type=int, default=40, help="validation batches timed")
    parser.add_argument("--one", nargs=2, metavar=("MODEL", "LEVER"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def measured(name: str, label: str, argv: list[str]) -> dict[str, Any]:
    """One model under one lever, in a fresh process: TensorFlow sizes its pools once."""
    done = subprocess.run(
        [sys.executable, __file__, *argv, "--one", name, label],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{name} {label} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    args = parse_arguments(argv)
    data = load_array(args)
    if args.one:
        name, label = args.one
        print(json.dumps(bench_lever(name, levers(args.spe)[label], data, args)))
        return
    names = [name.strip() for name in args.models.split(",") if name.strip()]
    print(f"input: {input_label(args, data)}; training rows the first {args.train_fraction:.0%}")
    print(f"{args.repeats} x {args.steps} timed steps per lever, median; machine: {machine_load()}")
    rows = []
    for name in names:
        plain_epoch = None
        for label in levers(args.spe):
            result = measured(name, label, argv)
            plain_epoch = plain_epoch or result["epoch"]
            rows.append(
                [
                    name,
                    label,
                    f"{1 / result['step']:.1f}",
                    f"{1000 * result['step']:.1f}",
                    f"{result['spread']:.0%}",
                    f"{result['first_call']:.1f}",
                    f"{result['epoch']:.1f}",
                    f"{plain_epoch / result['epoch']:.2f}x",
                ]
            )
            print(f"  {name} {label}: done", file=sys.stderr, flush=True)
    print(f"machine after: {machine_load()}")
    print_table(
        [
            "model",
            "lever",
            "steps/s",
            "ms/step",
            "spread",
            "first call s",
            "epoch s",
            "speed-up",
        ],
        rows,
    )
    print("(spread: (slowest - fastest) / median of the timed fits; epoch s: the recipe's")
    print(" training steps plus one pass over the validation windows, at the measured rates)")


if __name__ == "__main__":
    main(sys.argv[1:])
