"""How far damped persistence toward a climatology goes: variants of the baseline, chosen on validation.

    python tools/persistence_variants.py      # after dvc repro windows

The baseline (``classical.damped_persistence``, ``classical/damped_persistence.py``) forecasts
the climatology at the target time plus today's anomaly times a factor fitted per season and hour.
Its variants here add predictors of the anomaly at the target time (the anomaly's mean over the
last 24 h, its change over the last 3 h), change the climatology's harmonics or the number of
seasons, or fit each group by least absolute deviations (the score is an MAE) instead of least
squares. Each is fitted on the training windows only; printed per variant: train, validation and
test skill against naive, the test skill's 95% block-bootstrap interval and its paired verdict
against naive. The first row is the pipeline's own model, refitted here (its forecasts are checked
against the library's). Validation chooses; test is shown.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from jena_forecast.classical.anchor_features import clock  # noqa: E402
from jena_forecast.classical.damped_persistence import (  # noqa: E402
    DampedPersistence,
    persistence_features,
)
from jena_forecast.classical.params import DampedPersistenceParams  # noqa: E402
from jena_forecast.config import load_params  # noqa: E402
from jena_forecast.data.windows import window_spec  # noqa: E402
from jena_forecast.evaluation.scoring import bootstrap  # noqa: E402
from jena_forecast.evaluation.significance import paired_difference, skill_interval  # noqa: E402
from jena_forecast.plumbing.artifacts import load_array, load_arrays  # noqa: E402

SPLITS = ("train", "val", "test")
LAD_ITERATIONS = 30  # iteratively reweighted least squares
LAD_FLOOR = 0.02  # normalized units: the smallest residual a weight 1/|r| is taken at


@dataclass(frozen=True)
class Variant:
    label: str
    seasons: int = 4
    year_harmonics: int = 2
    predictors: tuple[str, ...] = ("now",)
    absolute: bool = False  # least absolute deviations per group


VARIANTS = [
    Variant("the pipeline's model"),
    Variant("one season (per hour only)", seasons=1),
    Variant("12 seasons (months)", seasons=12),
    Variant("1 year harmonic", year_harmonics=1),
    Variant("+ 24 h mean anomaly", predictors=("now", "mean 24 h")),
    Variant("+ 24 h mean + 3 h change", predictors=("now", "mean 24 h", "change 3 h")),
    Variant("  ... one season", seasons=1, predictors=("now", "mean 24 h", "change 3 h")),
    Variant("least absolute deviations", absolute=True),
    Variant("  ... one season", seasons=1, absolute=True),
    Variant(
        "  ... + 24 h mean + 3 h change, one season",
        seasons=1,
        predictors=("now", "mean 24 h", "change 3 h"),
        absolute=True,
    ),
]


def group_fit(x: np.ndarray, y: np.ndarray, absolute: bool) -> np.ndarray:
    """Coefficients of ``y ~ x`` (no intercept) by least squares or least absolute deviations."""
    weights = np.ones(len(y))
    coefficients = np.zeros(x.shape[1])
    for _ in range(LAD_ITERATIONS if absolute else 1):
        weighted = x * weights[:, None]
        coefficients = np.linalg.solve(weighted.T @ x, weighted.T @ y)
        weights = 1.0 / np.maximum(np.abs(y - x @ coefficients), LAD_FLOOR)
    return coefficients


def forecasts(
    variant: Variant,
    target: np.ndarray,
    hour: np.ndarray,
    day: np.ndarray,
    anchors: dict[str, np.ndarray],
    delay: int,
    rows_per_hour: int,
    day_harmonics: int,
) -> dict[str, np.ndarray]:
    """The variant's forecast of the target ``delay`` rows after every anchor, per split."""
    model = DampedPersistence(variant.year_harmonics, day_harmonics, variant.seasons)
    train = anchors["train"]
    climatology = np.linalg.lstsq(model.basis(hour[train], day[train]), target[train], rcond=None)[
        0
    ]
    anomaly = target - model.basis(hour, day) @ climatology
    series = {
        "now": anomaly,
        "mean 24 h": pd.Series(anomaly).rolling(24 * rows_per_hour).mean().to_numpy(),
        "change 3 h": anomaly - np.roll(anomaly, 3 * rows_per_hour),
    }
    x = np.stack([series[name] for name in variant.predictors], axis=1)
    groups = model.season_hour_groups(hour, day)
    overall = group_fit(x[train], anomaly[train + delay], variant.absolute)
    coefficients = np.tile(overall, (variant.seasons * 24, 1))
    for group in np.unique(groups[train]):
        members = train[groups[train] == group]
        coefficients[group] = group_fit(x[members], anomaly[members + delay], variant.absolute)
    return {
        split: target[a + delay] - anomaly[a + delay] + np.sum(x[a] * coefficients[groups[a]], 1)
        for split, a in anchors.items()
    }


def main() -> None:
    config = load_params(ROOT / "params.yaml")
    params = config.classical_model("damped_persistence").params
    if not isinstance(params, DampedPersistenceParams):
        raise SystemExit("classical.damped_persistence is not a damped-persistence model")
    scaler_path = ROOT / "data" / "processed" / "scaler.json"
    spec, scale = window_spec(config.windows, scaler_path)
    data = load_array(ROOT / "data" / "processed" / "normalized.npy")
    stamps = pd.DatetimeIndex(pd.read_parquet(ROOT / "data" / "interim" / "jena.parquet").index)
    anchors = load_arrays(ROOT / "data" / "windows" / "anchors.npz", SPLITS)
    rows_per_hour = 60 // config.parse.interval_minutes
    target = data[:, spec.target_index].astype(np.float64)
    hour, day = clock(stamps)
    delay = spec.delay_rows
    actual = {split: target[a + delay] for split, a in anchors.items()}
    naive_errors = {split: np.abs(target[a] - actual[split]) for split, a in anchors.items()}
    resampling = bootstrap(config, min(len(anchors["val"]), len(anchors["test"])))

    features = persistence_features(data, stamps, spec, rows_per_hour)
    library = DampedPersistence(params.year_harmonics, params.day_harmonics, params.seasons)
    library.fit(features.at(anchors["train"]), actual["train"] - target[anchors["train"]])
    print(
        f"naive MAE: val {naive_errors['val'].mean() * scale:.3f} degC, "
        f"test {naive_errors['test'].mean() * scale:.3f} degC"
    )
    for variant in VARIANTS:
        forecast = forecasts(
            variant, target, hour, day, anchors, delay, rows_per_hour, params.day_harmonics
        )
        if variant is VARIANTS[0]:
            own = library.predict(features.at(anchors["test"])) + target[anchors["test"]]
            gap = float(np.max(np.abs(own - forecast["test"])))
            if gap > 1e-6:
                raise SystemExit(f"the refit differs from the library's model by {gap:.2e}")
        errors = {split: np.abs(forecast[split] - actual[split]) for split in SPLITS}
        cells = [f"{variant.label:44s}"]
        for split in SPLITS:
            skill = 1 - errors[split].mean() / naive_errors[split].mean()
            cells.append(f"{split} {errors[split].mean() * scale:.3f} ({skill:+.1%})")
        low, high = skill_interval(errors["test"], naive_errors["test"], resampling)
        verdict = paired_difference(naive_errors["test"], errors["test"], resampling).verdict
        cells.append(f"test skill [{low:+.1%}, {high:+.1%}] {verdict}")
        print("  ".join(cells), flush=True)


if __name__ == "__main__":
    main()
