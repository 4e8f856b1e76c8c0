"""Does a recurrent network gain from reading the ridge model's anchor features beside its window?

    python tools/anchor_network_screen.py --seeds 1337 1 2          # after `dvc repro windows`
    python tools/anchor_network_screen.py --network gru_dropout --classical ridge_anchor

A screen, not a pipeline model. The network of params ``models.<network>`` (its layers, its recipe's
look back, hourly horizons and training) reads its window as the pipeline feeds it; beside its last
state, one dense layer also reads the anchor features of the ridge model ``classical.<classical>``
(standardized on the training windows), and maps both to the change of the target at each hourly
horizon up to 24 h ("wide and deep": the dense layer alone is a linear model of those features). It
is trained from every seed as the recipe trains (its optimizer, warm-up and decay, full passes,
early stopping on the 24 h forecast's validation MAE, the best epoch kept), on arrays in memory.

Printed per model: validation and test MAE as seed mean +- std (degC), the seed-mean skill with its
95% block-bootstrap interval, and the paired difference of the seed-mean validation MAE to the ridge
model (refitted here as its stage fits it). Test numbers are shown, never used to choose.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tools"))  # screening, the module the screening tools share

from screening import SPLITS, ridge_errors, ridge_features, score_cells, seed_scores  # noqa: E402

from jena_forecast.config import ModelSpec, PipelineConfig, load_params  # noqa: E402
from jena_forecast.data.windows import (  # noqa: E402
    WindowSpec,
    assemble_inputs,
    horizon_offsets,
    window_spec,  # noqa: E402
)
from jena_forecast.evaluation.scoring import bootstrap  # noqa: E402
from jena_forecast.evaluation.significance import paired_difference  # noqa: E402
from jena_forecast.plumbing.artifacts import load_array, load_arrays  # noqa: E402
from jena_forecast.plumbing.atomic import write_json  # noqa: E402
from jena_forecast.plumbing.errors import PipelineError  # noqa: E402


def anchor_matrix(
    config: PipelineConfig,
    classical: str,
    root: Path,
    data: np.ndarray,
    spec: WindowSpec,
    anchors: dict[str, np.ndarray],
) -> tuple[Any, dict[str, np.ndarray]]:
    """The ridge model's params and its anchor features per split (train/val/test), unscaled."""
    params, features = ridge_features(config, classical, root, data, spec)
    return params, {split: features.at(rows) for split, rows in anchors.items()}


HEADS = ("features", "ridge")


def wide_and_deep(
    network: ModelSpec, timesteps: int, columns: int, features: int, horizons: int, head: str
) -> Any:
    """The network's layers up to its last state, then Dense(horizons): the change of the target
    at each horizon. ``head`` features: the dense layer also reads the anchor features; ridge: it
    reads the state alone, starts at zero and is added to an offset input (the ridge model's
    24 h change in the last column), so the network learns what the ridge model leaves."""
    import keras

    built = network.builder_params.build((timesteps, columns))
    state = built.layers[-1].input  # what the network's own one-unit output layer reads
    if head == "features":
        side = keras.Input(shape=(features,), name="anchor_features")
        joined = keras.layers.Concatenate()([state, side])
        change = keras.layers.Dense(horizons, dtype="float32")(joined)
    else:
        side = keras.Input(shape=(horizons,), name="ridge_offset")
        correction = keras.layers.Dense(horizons, dtype="float32", kernel_initializer="zeros")(
            state
        )
        change = keras.layers.Add()([correction, side])
    return keras.Model([built.inputs[0], side], change, name=f"{network.name}_{head}")


def train_seed(
    network: ModelSpec,
    seed: int,
    inputs: dict[str, tuple[np.ndarray, np.ndarray]],
    change: dict[str, np.ndarray],
    head: str,
    features: int,
) -> tuple[dict[str, np.ndarray], int]:
    """Per split, the forecast 24 h change (normalized) of the model trained from ``seed``, and
    the epochs it ran."""
    import keras

    from jena_forecast.training.fit import forecast_mae, make_optimizer, make_reproducible

    make_reproducible(seed)
    keras.backend.clear_session()
    train = network.train
    sequence, side = inputs["train"]
    model = wide_and_deep(
        network, sequence.shape[1], sequence.shape[2], features, change["train"].shape[1], head
    )
    steps = math.ceil(len(sequence) / train.batch_size) * train.epochs
    model.compile(optimizer=make_optimizer(train, steps), loss="mae", metrics=[forecast_mae])
    stop = keras.callbacks.EarlyStopping(
        monitor="val_forecast_mae", mode="min", patience=train.patience, restore_best_weights=True
    )
    history = model.fit(
        list(inputs["train"]),
        change["train"],
        batch_size=train.batch_size,
        epochs=train.epochs,
        shuffle=train.shuffle,
        validation_data=(list(inputs["val"]), change["val"]),
        callbacks=[stop],
        verbose=2,
    )
    predicted = {
        split: model.predict(list(inputs[split]), batch_size=1024, verbose=0)[:, -1]
        for split in SPLITS
    }
    return predicted, len(history.history["loss"])


def screen(
    config: PipelineConfig,
    network_name: str,
    classical: str,
    root: Path,
    seeds: list[int],
    head: str = "features",
) -> dict[str, Any]:
    """Train the wide-and-deep network from each seed and score it beside the ridge model."""
    network = config.model(network_name)
    if network.builder_params.target_kind != "point" or not network.residual:
        raise PipelineError(f"models.{network_name}: a point model with residual: true is screened")
    spec, scale = window_spec(config.windows, root / "data" / "processed" / "scaler.json")
    data = load_array(root / "data" / "processed" / "normalized.npy")
    anchors = load_arrays(root / "data" / "windows" / "anchors.npz", ("train", *SPLITS))
    seen = spec.for_model(network.lookback_rows, network.step_rows)
    horizons = network.aux_horizons or 1
    offsets = horizon_offsets(spec, horizons)
    params, features = anchor_matrix(config, classical, root, data, spec, anchors)
    now = {s: data[a, spec.target_index].astype(np.float64) for s, a in anchors.items()}
    later = {
        s: data[a + spec.delay_rows, spec.target_index].astype(np.float64)
        for s, a in anchors.items()
    }
    ridge, alpha, ridge_change = ridge_errors(params, features, now, later)
    if head == "ridge":
        side = {s: np.zeros((a.size, horizons), np.float32) for s, a in anchors.items()}
        for s in anchors:
            side[s][:, -1] = ridge_change[s]
    else:
        mean, std = features["train"].mean(axis=0), features["train"].std(axis=0)
        std[std == 0] = 1.0
        side = {s: ((features[s] - mean) / std).astype(np.float32) for s in anchors}
    inputs = {
        s: (assemble_inputs(data, a, seen).astype(np.float32), side[s]) for s, a in anchors.items()
    }
    change = {
        s: (data[a[:, None] + offsets[None, :], spec.target_index] - now[s][:, None]).astype(
            np.float32
        )
        for s, a in anchors.items()
    }
    naive = {s: np.abs(later[s] - now[s]) for s in SPLITS}
    resampling = bootstrap(config, min(naive[s].size for s in SPLITS))
    errors: dict[str, list[np.ndarray]] = {s: [] for s in SPLITS}
    epochs = []
    for seed in seeds:
        predicted, ran = train_seed(network, seed, inputs, change, head, features["train"].shape[1])
        epochs.append(ran)
        for s in SPLITS:
            errors[s].append(np.abs(now[s] + predicted[s] - later[s]))
    record: dict[str, Any] = {
        "network": network_name,
        "classical": classical,
        "head": head,
        "seeds": seeds,
        "epochs": epochs,
    }
    for name, per_split in (
        (classical, {s: ridge[s][None, :] for s in SPLITS}),
        (f"{network_name} + {classical} {head}", {s: np.stack(errors[s]) for s in SPLITS}),
    ):
        rows = {s: seed_scores(per_split[s], naive[s], resampling, scale) for s in SPLITS}
        gap = paired_difference(ridge["val"], per_split["val"].mean(axis=0), resampling)
        rows["val_vs_ridge_degc"] = {
            "mean_difference": gap.mean_difference * scale,
            "low": gap.low * scale,
            "high": gap.high * scale,
            "verdict": gap.verdict,
        }
        record[name] = rows
        cells = [f"{name:36s}", *score_cells(rows)]
        g = rows["val_vs_ridge_degc"]
        cells.append(
            f"val vs ridge {g['mean_difference']:+.3f} [{g['low']:+.3f}, {g['high']:+.3f}]"
        )
        print("  ".join(cells), flush=True)
    record["ridge_alpha"] = alpha
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--network", default="gru", help="a point network of models, residual")
    parser.add_argument("--classical", default="ridge_anchor", help="a ridge of classical")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1337, 1, 2])
    parser.add_argument(
        "--head",
        choices=HEADS,
        default="features",
        help="features: the output layer reads the anchor features too; ridge: the network "
        "corrects the ridge model's forecast",
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="the project (default: this one)")
    parser.add_argument("--output", type=Path, help="every figure as JSON")
    args = parser.parse_args(argv)
    try:
        config = load_params(args.root / "params.yaml")
        record = screen(config, args.network, args.classical, args.root, args.seeds, args.head)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.output:
        write_json(args.output, record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
