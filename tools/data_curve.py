"""Does more training data help a model? It is fitted on a share of the training weeks and scored
on the same validation and test windows.

    python tools/data_curve.py --model ridge_anchor                    # a ridge entry of classical
    python tools/data_curve.py --model gru_dropout --seeds 1 2 3      # a network, from each seed
    python tools/data_curve.py --model gru_dropout --shares 0.25 0.5 1 --output curve.json

Reads the pipeline's normalized array, scaler, parsed table and window anchors (run `dvc repro
windows` first; ``--root`` points at another copy of the project). A share keeps that fraction of
the training weeks, spread evenly over the training slice (a share of 0.5 keeps every other week),
so every season stays in it and only the amount of weather seen shrinks; the validation and test
windows and the scaler stay the pipeline's. A network is trained from every seed as its ``seeds@``
stage trains it, on the kept training windows only (a recipe of full passes then takes fewer
steps, as it would on a shorter record); a ridge model makes its own alpha choice on validation.

Printed per share: training windows and their span in years, validation and test MAE (seed mean
+- std, degC), the seed-mean skill of each with its 95% block-bootstrap interval, and the paired
difference of the seed-mean validation MAE to the full training slice. Last, the least-squares
slope of validation and test skill per doubling of the training data. Test numbers are shown,
never used to choose. Finished seeds are kept under ``data/checkpoints/data_curve/``.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tools"))  # screening, the module the screening tools share

from screening import SPLITS, ridge_errors, ridge_features, seed_errors, seed_scores  # noqa: E402

from jena_forecast.config import PipelineConfig, load_params  # noqa: E402
from jena_forecast.data.windows import WindowSpec, window_spec  # noqa: E402
from jena_forecast.evaluation.scoring import bootstrap  # noqa: E402
from jena_forecast.evaluation.significance import paired_difference  # noqa: E402
from jena_forecast.plumbing.artifacts import load_array, load_arrays  # noqa: E402
from jena_forecast.plumbing.atomic import write_json  # noqa: E402
from jena_forecast.plumbing.errors import PipelineError  # noqa: E402

DAYS_PER_YEAR = 365.25


def kept_weeks(anchors: np.ndarray, share: float, rows_per_week: int) -> np.ndarray:
    """The training anchors of ``share`` of the weeks, spread evenly: week ``w`` (counted from the
    first anchor) is kept when ``floor((w + 1) * share) > floor(w * share)``.

    ``kept_weeks(np.arange(4), 0.5, 1)`` keeps weeks 1 and 3; a share of 1 keeps every anchor.
    """
    if not 0.0 < share <= 1.0:
        raise PipelineError(f"--shares: each share must be in (0, 1]; received {share}")
    week = (anchors - anchors.min()) // rows_per_week
    return anchors[np.floor((week + 1) * share) > np.floor(week * share)]


def ridge_fit(
    config: PipelineConfig, name: str, root: Path, data: np.ndarray, spec: WindowSpec
) -> Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]:
    """A function of the training anchors: per split, (1, windows) absolute errors in normalized
    units of the ridge model ``name`` fitted on them (its own alpha choice on validation)."""
    params, features = ridge_features(config, name, root, data, spec)

    def errors(anchors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        x = {s: features.at(a) for s, a in anchors.items()}
        naive = {s: data[a, spec.target_index].astype(np.float64) for s, a in anchors.items()}
        actual = {
            s: data[a + spec.delay_rows, spec.target_index].astype(np.float64)
            for s, a in anchors.items()
        }
        fitted, _, _ = ridge_errors(params, x, naive, actual)
        return {split: fitted[split][None, :] for split in SPLITS}

    return errors


def curve(
    config: PipelineConfig,
    name: str,
    root: Path,
    shares: list[float],
    seeds: list[int],
    cache: Path | None,
) -> list[dict[str, Any]]:
    """One row per share (see the module's docstring); the full slice is the reference."""
    spec, scale = window_spec(config.windows, root / "data" / "processed" / "scaler.json")
    data = load_array(root / "data" / "processed" / "normalized.npy")
    anchors = load_arrays(root / "data" / "windows" / "anchors.npz", ("train", *SPLITS))
    naive = {
        s: np.abs(
            data[anchors[s], spec.target_index].astype(np.float64)
            - data[anchors[s] + spec.delay_rows, spec.target_index]
        )
        for s in SPLITS
    }
    resampling = bootstrap(config, min(naive[s].size for s in SPLITS))
    rows_per_day = 24 * 60 // config.parse.interval_minutes
    classical = name in config.classical
    fit_ridge_on = ridge_fit(config, name, root, data, spec) if classical else None
    errors, train_windows = {}, {}
    for share in sorted(set(shares) | {1.0}):
        train = kept_weeks(anchors["train"], share, 7 * rows_per_day)
        if train.size == 0:
            raise PipelineError(
                f"--shares: a share of {share:g} keeps none of the training slice's "
                f"{anchors['train'].size} windows (a week is {7 * rows_per_day} rows); give a larger one"
            )
        subset = {**anchors, "train": train}
        if fit_ridge_on is not None:
            errors[share] = fit_ridge_on(subset)
        else:
            errors[share] = seed_errors(config.model(name), seeds, data, subset, spec, scale, cache)
        train_windows[share] = int(train.size)
    reference = errors[1.0]
    rows = []
    for share in sorted(shares):
        row: dict[str, Any] = {
            "share": share,
            "train_windows": train_windows[share],
            "train_years": train_windows[share] / rows_per_day / DAYS_PER_YEAR,
        }
        for split in SPLITS:
            row[split] = seed_scores(errors[share][split], naive[split], resampling, scale)
        gap = paired_difference(
            reference["val"].mean(axis=0), errors[share]["val"].mean(axis=0), resampling
        )
        row["val_vs_full_degc"] = {
            "mean_difference": gap.mean_difference * scale,
            "low": gap.low * scale,
            "high": gap.high * scale,
            "verdict": gap.verdict,
        }
        rows.append(row)
    return rows


def slope_per_doubling(rows: list[dict[str, Any]], split: str) -> float:
    """Least-squares slope of a split's skill against log2 of the training windows."""
    x = np.log2([row["train_windows"] for row in rows])
    y = np.array([row[split]["skill"] for row in rows])
    return float(np.polyfit(x, y, 1)[0]) if len(rows) > 1 else math.nan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model", required=True, help="a network of models or a ridge of classical"
    )
    parser.add_argument("--shares", type=float, nargs="+", default=[0.25, 0.5, 0.75, 1.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--root", type=Path, default=ROOT, help="the project (default: this one)")
    parser.add_argument("--cache", type=Path, default=ROOT / "data" / "checkpoints" / "data_curve")
    parser.add_argument("--output", type=Path, help="every figure as JSON")
    args = parser.parse_args(argv)
    try:
        config = load_params(args.root / "params.yaml")
        if args.model not in config.models and args.model not in config.classical:
            raise PipelineError(f"--model {args.model!r} is in neither params models nor classical")
        rows = curve(config, args.model, args.root, args.shares, args.seeds, args.cache)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{args.model}: skill against naive on the same windows, by share of the training weeks")
    print(
        "| share | train windows (years) | val MAE | val skill [95%] | test MAE | test skill [95%] | val vs full [95%] |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        cells = [f"{row['share']:g}", f"{row['train_windows']} ({row['train_years']:.2f})"]
        for split in SPLITS:
            scores = row[split]
            cells.append(f"{scores['mae_degc_mean']:.3f} ± {scores['mae_degc_std']:.3f}")
            cells.append(
                f"{scores['skill']:+.1%} [{scores['skill_low']:+.1%}, {scores['skill_high']:+.1%}]"
            )
        gap = row["val_vs_full_degc"]
        cells.append(
            f"{gap['mean_difference']:+.3f} [{gap['low']:+.3f}, {gap['high']:+.3f}] {gap['verdict']}"
        )
        print("| " + " | ".join(cells) + " |")
    slopes = {split: slope_per_doubling(rows, split) for split in SPLITS}
    print(
        f"skill per doubling of the training data: val {slopes['val']:+.1%}, "
        f"test {slopes['test']:+.1%} (least squares on log2 of the windows)"
    )
    if args.output:
        write_json(args.output, {"model": args.model, "rows": rows, "slope_per_doubling": slopes})
    return 0


if __name__ == "__main__":
    sys.exit(main())
