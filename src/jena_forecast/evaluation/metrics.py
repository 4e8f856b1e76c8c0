"""Mean absolute errors, exact per window, of a model's forecasts and of the naive baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jena_forecast.data.windows import WindowSpec, assemble_targets, naive_forecast
from jena_forecast.plumbing.atomic import write_text
from jena_forecast.plumbing.tables import read_table

FORECAST_DAYS = 14.0  # the stretch of the test split whose forecasts are saved for plots


def mean_absolute_error(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Mean of |predicted - actual| over every window, accumulated in float64."""
    predicted = np.asarray(predicted, dtype=np.float64).reshape(-1)
    actual = np.asarray(actual, dtype=np.float64).reshape(-1)
    if predicted.shape != actual.shape:
        raise ValueError(f"predicted has {predicted.size} values, actual has {actual.size}")
    return float(np.mean(np.abs(predicted - actual)))


def split_metrics(
    predicted_norm: np.ndarray,
    data: np.ndarray,
    anchors: np.ndarray,
    spec: WindowSpec,
    target_scale: float,
) -> dict[str, float]:
    """MAE of ``predicted_norm`` and of the naive forecast on the same windows, normalized and in degC.

    ``target_scale`` is the training standard deviation of the target column, so an error of 1 in
    normalized units is ``target_scale`` degrees. Skill is ``1 - MAE / naive MAE``: positive when the
    forecast beats the naive baseline.
    """
    actual = assemble_targets(data, anchors, spec)
    mae_norm = mean_absolute_error(predicted_norm, actual)
    naive_norm = mean_absolute_error(naive_forecast(data, anchors, spec), actual)
    return {
        "mae_degc": round(mae_norm * target_scale, 6),
        "mae_norm": round(mae_norm, 6),
        "naive_mae_degc": round(naive_norm * target_scale, 6),
        "naive_mae_norm": round(naive_norm, 6),
        "skill_vs_naive": round(1.0 - mae_norm / naive_norm, 6) if naive_norm > 0 else 0.0,
        "windows": int(len(anchors)),
    }


def forecast_paths(raw_predictions: np.ndarray) -> np.ndarray:
    """The forecast from "now" of each window: (windows, horizons) for a sequence model's
    (windows, timesteps, horizons) output (its last timestep), or (windows, 1) for a point model."""
    return raw_predictions[:, -1, :] if raw_predictions.ndim == 3 else raw_predictions


def delay_forecast(paths_norm: np.ndarray) -> np.ndarray:
    """The forecast ``delay_rows`` ahead (24 h) of each window: the last column of its path, (windows, 1)."""
    return paths_norm[:, -1:]


def scores(
    paths_norm: dict[str, np.ndarray],
    data: np.ndarray,
    anchors: dict[str, np.ndarray],
    spec: WindowSpec,
    target_scale: float,
) -> dict[str, dict[str, float]]:
    """``split_metrics`` of the ``delay_rows``-ahead forecast of each split in ``paths_norm``."""
    return {
        split: split_metrics(delay_forecast(paths), data, anchors[split], spec, target_scale)
        for split, paths in paths_norm.items()
    }


def horizon_metrics(
    paths_norm: np.ndarray,
    data: np.ndarray,
    anchors: np.ndarray,
    spec: WindowSpec,
    offsets_rows: np.ndarray,
    target_scale: float,
    minutes_per_row: int,
) -> list[dict[str, float]]:
    """MAE in degC of each forecast horizon and of the naive forecast at that horizon, one row each."""
    naive = naive_forecast(data, anchors, spec)[:, 0]
    rows = []
    for column, offset in enumerate(offsets_rows):
        actual = data[anchors + offset, spec.target_index]
        mae = mean_absolute_error(paths_norm[:, column], actual)
        naive_mae = mean_absolute_error(naive, actual)
        rows.append(
            {
                "horizon_hours": round(float(offset) * minutes_per_row / 60, 4),
                "mae_degc": round(mae * target_scale, 6),
                "naive_mae_degc": round(naive_mae * target_scale, 6),
                "skill_vs_naive": round(1.0 - mae / naive_mae, 6) if naive_mae > 0 else 0.0,
            }
        )
    return rows


def forecast_stretch(
    timestamps: pd.DatetimeIndex,
    anchors: np.ndarray,
    spec: WindowSpec,
    days: float,
) -> np.ndarray:
    """Positions in ``anchors`` of the windows whose target time is within ``days`` of the first one."""
    if len(anchors) == 0:
        return np.zeros(0, dtype=np.int64)
    target_times = timestamps[np.asarray(anchors) + spec.delay_rows]
    return np.flatnonzero(target_times < target_times[0] + pd.Timedelta(days=days))


def forecast_table(
    timestamps: pd.DatetimeIndex,
    predicted_norm: np.ndarray,
    data: np.ndarray,
    anchors: np.ndarray,
    spec: WindowSpec,
    target_mean: float,
    target_scale: float,
) -> pd.DataFrame:
    """Tidy forecasts in degC, one row per window: target ``timestamp``, actual, predicted, naive."""

    def degc(values: np.ndarray) -> np.ndarray:
        return np.round(
            np.asarray(values, dtype=np.float64).reshape(-1) * target_scale + target_mean, 4
        )

    return pd.DataFrame(
        {
            "timestamp": timestamps[np.asarray(anchors) + spec.delay_rows].strftime(
                "%Y-%m-%dT%H:%M:%S"
            ),
            "actual_degc": degc(assemble_targets(data, anchors, spec)),
            "predicted_degc": degc(predicted_norm),
            "naive_degc": degc(naive_forecast(data, anchors, spec)),
        }
    )


def headline(record: dict[str, Any]) -> dict[str, float]:
    """The few numbers people compare across revisions, from a model's or a seed study's record.

    A single run gives its val/test MAE (degC), skill vs naive and the 95% interval of its test
    skill (when the record has one); a seed study gives the means over seeds and the test MAE's
    sample std. ``dvc metrics show`` prints one row per such file.
    """
    suffix = "_mean" if "mae_degc_mean" in record["val"] else ""
    scores = {
        f"{split}_{name}": record[split][f"{key}{suffix}"]
        for split in ("val", "test")
        for name, key in (("mae_degc", "mae_degc"), ("skill", "skill_vs_naive"))
    }
    if suffix:
        return scores | {"test_mae_std": record["test"]["mae_degc_std"]}
    test = record["test"]
    interval = {"test_skill_low": test.get("skill_low"), "test_skill_high": test.get("skill_high")}
    return scores | {key: value for key, value in interval.items() if value is not None}


def write_forecasts(
    predictions_path: Path,
    table_path: Path,
    test_paths: np.ndarray,
    data: np.ndarray,
    test_anchors: np.ndarray,
    spec: WindowSpec,
    mean: float,
    scale: float,
) -> None:
    """The 24 h forecasts in degC, next to the actual and naive ones, of the first
    ``FORECAST_DAYS`` days of the test split."""
    timestamps = pd.DatetimeIndex(read_table(table_path).index)
    stretch = forecast_stretch(timestamps, test_anchors, spec, FORECAST_DAYS)
    forecasts = forecast_table(
        timestamps,
        delay_forecast(test_paths[stretch]),
        data,
        test_anchors[stretch],
        spec,
        mean,
        scale,
    )
    write_text(predictions_path, forecasts.to_csv(index=False, lineterminator="\n"))
