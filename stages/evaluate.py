"""DVC stage evaluate@<model>: val/test MAE of one model next to the naive baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from jena_forecast.data.anchor_column import model_data
from jena_forecast.data.normalize import column_stats
from jena_forecast.data.windows import horizon_offsets, load_windows, window_spec
from jena_forecast.evaluation.forecasts import save_forecasts
from jena_forecast.evaluation.metrics import (
    delay_forecast,
    headline,
    horizon_metrics,
    write_forecasts,
)
from jena_forecast.evaluation.scoring import ScoringConfig, score_forecasts
from jena_forecast.models.spec import ModelsConfig
from jena_forecast.plumbing.atomic import read_json, write_json, write_text
from jena_forecast.plumbing.cli import call_with_paths, run_stage
from jena_forecast.plumbing.tables import tsv


class Config(ModelsConfig, ScoringConfig):
    """The params this stage reads: the model's, and how it is scored."""


def run(
    config: Config,
    name: str,
    *,
    array_path: Path,
    scaler_path: Path,
    anchors_path: Path,
    model_path: Path,
    summary_path: Path,
    metrics_path: Path,
    scores_path: Path,
    horizons_path: Path,
    table_path: Path,
    predictions_path: Path,
    forecasts_path: Path,
    anchor_column_path: Path | None = None,
) -> dict[str, Any]:
    """Score model ``name`` against the naive baseline on the val and test windows.

    Also writes the test MAE per forecast horizon (one row for a point model, one per hour for a
    sequence model) next to the naive forecast's, and the model's forecasts in degC next to the
    actual and naive ones for the first ``FORECAST_DAYS`` days of the test split, and its 24 h
    forecast of every val and test window (``forecasts_path``, see ``jena_forecast.evaluation.forecasts``).
    """
    model_spec = config.model(name)
    base_spec, scale = window_spec(config.windows, scaler_path)
    mean, _ = column_stats(read_json(scaler_path), config.windows.target_column, str(scaler_path))
    data, anchors = load_windows(array_path, anchors_path)
    from jena_forecast.training.fit import model_window_spec
    from jena_forecast.training.predict import load_model, predict_paths
    from jena_forecast.training.threads import use_intra_op_threads

    use_intra_op_threads(model_spec.train.intra_op_threads)  # the pool its seed study predicts with
    spec = model_window_spec(base_spec, model_spec)
    inputs = model_data(data, name, model_spec.anchor, anchor_column_path)
    paths = predict_paths(load_model(model_path), model_spec, inputs, anchors, base_spec)
    point = {split: delay_forecast(split_paths) for split, split_paths in paths.items()}
    metrics, forecasts = score_forecasts(config, point, data, anchors, spec, scale, mean)
    horizons = model_spec.horizons
    offsets = horizon_offsets(spec, horizons) if horizons else np.array([spec.delay_rows])
    rows = horizon_metrics(
        paths["test"], data, anchors["test"], spec, offsets, scale, config.parse.interval_minutes
    )
    write_text(horizons_path, tsv(rows))
    metrics.update(read_json(summary_path))
    metrics["recipe"] = model_spec.recipe or ""
    write_forecasts(
        predictions_path, table_path, paths["test"], data, anchors["test"], spec, mean, scale
    )
    save_forecasts(forecasts_path, forecasts)
    write_json(metrics_path, metrics)
    write_json(scores_path, headline(metrics))
    return metrics


def main() -> str:
    (name,), metrics = call_with_paths(run)
    val, test = metrics["val"], metrics["test"]
    return (
        f"{name}: "
        f"MAE val {val['mae_degc']:.3f} degC (naive {val['naive_mae_degc']:.3f}), "
        f"test {test['mae_degc']:.3f} degC (naive {test['naive_mae_degc']:.3f}), "
        f"skill val {val['skill_vs_naive']:+.1%} test {test['skill_vs_naive']:+.1%}"
    )


if __name__ == "__main__":
    run_stage("evaluate", main)
