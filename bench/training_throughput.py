"""Training samples/s per model: the project's input pipeline against timeseries_dataset_from_array.

    python bench/training_throughput.py --array data/processed/normalized.npy
    python bench/training_throughput.py --synthetic 60000 --models gru,conv1d --steps 30
    python bench/training_throughput.py --array ... --set train.jit_compile=true --set train.mixed_precision=true

Each model of ``--models`` is built and compiled as its ``train@`` stage does (params.yaml's builder
params and training params, ``--set`` overrides applied, deterministic ops as in the pipeline), then
``model.fit`` runs ``--steps`` steps three ways, each after a few warm-up steps:

* ``project``: fed by ``ShuffledWindowBatches``, the stage's own training batches;
* ``keras_ts``: fed by ``keras.utils.timeseries_dataset_from_array(..., sampling_rate=step,
  shuffle=True)`` over the same training rows (point targets only: none for ``seq2seq``);
* ``compute``: one batch, assembled once and repeated from memory: the train step alone.

Then the batches alone are timed: ``assemble`` is ``ShuffledWindowBatches[i]`` without a model.
``input share`` is assemble time over the project's fit time per step. The input pipeline is the
bottleneck when assembling a batch takes longer than the train step itself (``input-bound``):
Keras prefetches a ``PyDataset`` in a background thread, so below that it is mostly hidden.
The figures are printed, not checked.
"""

from __future__ import annotations

import argparse
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

WARMUP_STEPS = 3
DEFAULT_MODELS = "linear,dense,gru,conv1d"


def apply_overrides(raw: dict[str, Any], assignments: list[str]) -> dict[str, Any]:
    """``dotted.key=value`` assignments (values read as YAML, as ``dvc exp run -S`` does)."""
    for assignment in assignments:
        dotted, separator, value = assignment.partition("=")
        if not separator:
            raise SystemExit(f"--set: expected KEY=VALUE. Received: {assignment!r}")
        *parents, leaf = dotted.split(".")
        node = raw
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = yaml.safe_load(value)
    return raw


class Clock:
    """Wall seconds and CPU seconds (this process, all its threads) since it was made."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def elapsed(self) -> dict[str, float]:
        return {"wall": time.perf_counter() - self.wall, "cpu": time.process_time() - self.cpu}


def timed_fit(model: Any, dataset: Any, steps: int) -> dict[str, float]:
    """Wall and CPU seconds for ``steps`` training steps, after the train function is traced."""
    model.fit(dataset, epochs=1, steps_per_epoch=WARMUP_STEPS, shuffle=False, verbose=0)
    clock = Clock()
    model.fit(dataset, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0)
    return clock.elapsed()


def bench_model(
    name: str, config: Any, data: np.ndarray, args: argparse.Namespace
) -> dict[str, Any]:
    import keras
    import tensorflow as tf

    from jena_forecast.data.windows import WindowSpec, window_anchors
    from jena_forecast.models.registry import build_model
    from jena_forecast.training.batches import ShuffledWindowBatches
    from jena_forecast.training.distribute import model_scope
    from jena_forecast.training.fit import (
        make_loss,
        make_optimizer,
        make_reproducible,
        model_targets,
        model_window_spec,
    )

    spec = config.model(name)
    train = spec.train
    scope = model_scope(train)
    make_reproducible(config.seed, deterministic_ops=not train.jit_compile)
    window_spec = model_window_spec(
        WindowSpec(args.lookback, args.step, args.delay, args.target_index), spec
    )
    train_end = int(len(data) * args.train_fraction)
    valid = np.isfinite(data).all(axis=1)
    anchors = window_anchors(valid, 0, train_end, window_spec)
    batch_size = train.batch_size
    total_steps = WARMUP_STEPS + args.steps

    def project_batches(steps: int) -> ShuffledWindowBatches:
        return ShuffledWindowBatches(
            data, anchors, window_spec, batch_size, steps, config.seed, targets=model_targets(spec)
        )

    with scope:
        model = build_model(
            spec.builder, (window_spec.timesteps, data.shape[1]), spec.builder_params
        )
        model.compile(
            optimizer=make_optimizer(train, total_steps),
            loss=make_loss(train),
            jit_compile=train.jit_compile,
        )
    result: dict[str, Any] = {"model": name, "parameters": model.count_params()}
    result["project"] = timed_fit(model, project_batches(total_steps), args.steps)

    inputs, targets = project_batches(1)[0]
    cached = tf.data.Dataset.from_tensors((inputs, targets)).repeat()
    result["compute"] = timed_fit(model, cached, args.steps)

    result["keras_ts"] = None
    if spec.target_kind == "point":
        target_offset = window_spec.lookback_rows - window_spec.step_rows + window_spec.delay_rows
        keras_ts = keras.utils.timeseries_dataset_from_array(
            data,
            targets=data[target_offset:, args.target_index : args.target_index + 1],
            sequence_length=window_spec.timesteps,
            sampling_rate=window_spec.step_rows,
            batch_size=batch_size,
            shuffle=True,
            seed=config.seed,
            start_index=0,
            end_index=train_end - window_spec.delay_rows,
        ).repeat()
        result["keras_ts"] = timed_fit(model, keras_ts, args.steps)
        iterator = iter(keras_ts)
        next(iterator)
        clock = Clock()
        for _ in range(args.steps):
            next(iterator)
        result["keras_ts_assemble"] = clock.elapsed()

    batches = project_batches(args.steps)
    clock = Clock()
    for item in range(args.steps):
        _ = batches[item]
    result["assemble"] = clock.elapsed()
    result["batch_size"] = batch_size
    return result


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_input_arguments(parser)
    parser.add_argument("--params", type=Path, default=PROJECT_ROOT / "params.yaml")
    parser.add_argument("--models", default=DEFAULT_MODELS, help="comma-separated params models")
    parser.add_argument("--steps", type=int, default=50, help="timed training steps per run")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a param, e.g. train.mixed_precision=true (repeatable)",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    args = parse_arguments(argv)
    from jena_forecast.config import parse_params

    raw = apply_overrides(yaml.safe_load(args.params.read_text(encoding="utf-8")), args.set)
    config = parse_params(raw, source=str(args.params))
    names = [name.strip() for name in args.models.split(",") if name.strip()]
    for name in names:
        config.model(name)  # an unknown name stops here, listing the known ones
    data = load_array(args)
    print(f"input: {input_label(args, data)}; training rows the first {args.train_fraction:.0%}")
    print(
        f"windows: lookback {args.lookback}, step {args.step} (or the model's own), delay "
        f"{args.delay}; {args.steps} timed steps per run after {WARMUP_STEPS} warm-up"
        + (f"; overrides: {', '.join(args.set)}" if args.set else "")
    )
    print(f"machine before: {machine_load()}")
    results = []
    for name in names:
        results.append(bench_model(name, config, data, args))
        print(f"  {name}: done", file=sys.stderr, flush=True)
    print(f"machine after:  {machine_load()}")
    print()
    print("wall clock")
    print_table(
        [
            "model",
            "params",
            "project samples/s",
            "keras_ts samples/s",
            "project speed-up",
            "compute-only samples/s",
            "assemble ms/batch",
            "keras_ts batch ms",
            "train step ms",
            "project fit ms/step",
            "input share",
            "input-bound",
        ],
        [table_row(result, "wall", args.steps, with_bottleneck=True) for result in results],
    )
    print(
        "(speed-up: keras_ts fit time / project fit time; input share: assemble / project fit "
        "per step; input-bound: assembling a batch takes longer than the train step alone)"
    )
    print()
    print("CPU time of this process, all threads (steadier than the wall clock on a busy machine)")
    print_table(
        [
            "model",
            "params",
            "project samples/CPU-s",
            "keras_ts samples/CPU-s",
            "project saving",
            "compute-only samples/CPU-s",
            "assemble CPU ms/batch",
            "keras_ts batch CPU ms",
            "train step CPU ms",
            "project fit CPU ms/step",
            "input share of CPU",
        ],
        [table_row(result, "cpu", args.steps, with_bottleneck=False) for result in results],
    )
    print("(saving: keras_ts CPU time / project CPU time for the same training steps)")


def table_row(result: dict[str, Any], clock: str, steps: int, with_bottleneck: bool) -> list[str]:
    """One model's row from its ``wall`` or ``cpu`` seconds."""
    samples = steps * result["batch_size"]

    def seconds(key: str) -> float | None:
        measured = result.get(key)
        return None if measured is None else measured[clock]

    def rate(key: str) -> str:
        value = seconds(key)
        return "n/a" if value is None else f"{samples / value:,.0f}"

    def per_step_ms(key: str) -> str:
        value = seconds(key)
        return "n/a" if value is None else f"{1000 * value / steps:.1f}"

    keras_ts, project = seconds("keras_ts"), seconds("project")
    assert project is not None
    row = [
        result["model"],
        f"{result['parameters']:,}",
        rate("project"),
        rate("keras_ts"),
        "n/a" if keras_ts is None else f"{keras_ts / project:.2f}x",
        rate("compute"),
        per_step_ms("assemble"),
        per_step_ms("keras_ts_assemble"),
        per_step_ms("compute"),
        per_step_ms("project"),
        f"{result['assemble'][clock] / project:.0%}",
    ]
    if with_bottleneck:
        row.append("yes" if result["assemble"][clock] >= result["compute"][clock] else "no")
    return row


if __name__ == "__main__":
    main(sys.argv[1:])
