"""DVC stage classical@<model>: fit one scikit-learn model of params classical, score it like the others."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jena_forecast.classical.spec import ClassicalConfig
from jena_forecast.data.normalize import SPLIT_NAMES, column_stats
from jena_forecast.data.windows import assemble_targets, load_windows, naive_forecast, window_spec
from jena_forecast.evaluation.forecasts import save_forecasts
from jena_forecast.evaluation.metrics import (
    FORECAST_DAYS,
    forecast_stretch,
    forecast_table,
    headline,
    horizon_metrics,
)
from jena_forecast.evaluation.scoring import ScoringConfig, score_forecasts
from jena_forecast.plumbing.atomic import read_json, write_json, write_text
from jena_forecast.plumbing.cli import call_with_paths, run_stage
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.tables import read_table, tsv
from jena_forecast.plumbing.timings import split_timings, write_timings


class Config(ClassicalConfig, ScoringConfig):
    """The params this stage reads: the estimator's, and how it is scored."""


def run(
    config: Config,
    name: str,
    *,
    table_path: Path,
    array_path: Path,
    scaler_path: Path,
    anchors_path: Path,
    metrics_path: Path,
    scores_path: Path,
    horizons_path: Path,
    predictions_path: Path,
    forecasts_path: Path,
    model_path: Path,
    timing_path: Path | None = None,
) -> dict[str, Any]:
    """Fit classical model ``name`` on the training windows, score it like a deep model.

    The same windows (anchors), targets and naive forecasts as every other model; the metrics file
    has the deep models' shape, with the estimator's own choices (``alpha``, ``iterations``) beside.
    Its 24 h forecast of every val and test window is saved at ``forecasts_path`` (see
    ``jena_forecast.evaluation.forecasts``), for the ensemble and for later comparisons; the fitted
    estimator at ``model_path`` (``classical.persist``), for the forecaster and the backtest.
    """
    from jena_forecast.classical.design import classical_features
    from jena_forecast.classical.estimators import fit_classical
    from jena_forecast.classical.persist import save_estimator

    model_spec = config.classical_model(name)
    spec, scale = window_spec(config.windows, scaler_path)
    scaler_record = read_json(scaler_path)
    mean, _ = column_stats(scaler_record, config.windows.target_column, str(scaler_path))
    data, anchors = load_windows(array_path, anchors_path)
    timestamps = pd.DatetimeIndex(read_table(table_path).index)
    if len(timestamps) != data.shape[0]:
        raise PipelineError(
            f"{table_path} has {len(timestamps)} rows but {array_path} has {data.shape[0]}; "
            "rerun the pipeline from the parse stage"
        )
    started = time.perf_counter()
    features = classical_features(
        data,
        timestamps,
        scaler_record,
        spec,
        model_spec.params,
        60 // config.parse.interval_minutes,
    )
    design = {}
    for split in SPLIT_NAMES:
        x = features.at(anchors[split])
        if np.isnan(x).any():
            raise ValueError(f"{split} windows have missing features; the anchors are stale")
        naive = naive_forecast(data, anchors[split], spec)[:, 0].astype(np.float64)
        change = assemble_targets(data, anchors[split], spec)[:, 0].astype(np.float64) - naive
        design[split] = (x, change, naive)
    feature_seconds = time.perf_counter() - started
    fit = fit_classical(
        model_spec.estimator,
        model_spec.params,
        config.seed,
        (design["train"][0], design["train"][1], anchors["train"]),
        (design["val"][0], design["val"][1]),
        spec.span_rows,
    )
    forecasts = {
        split: fit.forecast(design[split][0], design[split][2]) for split in ("val", "test")
    }
    metrics, kept = score_forecasts(config, forecasts, data, anchors, spec, scale, mean)
    rows = horizon_metrics(
        forecasts["test"],
        data,
        anchors["test"],
        spec,
        np.array([spec.delay_rows]),
        scale,
        config.parse.interval_minutes,
    )
    write_text(horizons_path, tsv(rows))
    stretch = forecast_stretch(timestamps, anchors["test"], spec, FORECAST_DAYS)
    table = forecast_table(
        timestamps, forecasts["test"][stretch], data, anchors["test"][stretch], spec, mean, scale
    )
    write_text(predictions_path, table.to_csv(index=False, lineterminator="\n"))
    metrics.update(
        {
            "estimator": model_spec.estimator,
            "window_features": len(features.names),
            "feature_seconds": round(feature_seconds, 2),
            "train_seconds": round(fit.train_seconds, 2),
            **fit.record,
        }
    )
    save_forecasts(forecasts_path, kept)
    save_estimator(model_path, fit.estimator)
    record, timings = split_timings(metrics)
    write_json(metrics_path, record)
    write_timings(timing_path, timings)
    write_json(scores_path, headline(record))
    return record


def main() -> str:
    (name,), metrics = call_with_paths(run)
    val, test = metrics["val"], metrics["test"]
    return (
        f"{name}: "
        f"{metrics['estimator']} fitted, "
        f"MAE val {val['mae_degc']:.3f} degC (naive {val['naive_mae_degc']:.3f}), "
        f"test {test['mae_degc']:.3f} degC (naive {test['naive_mae_degc']:.3f}), "
        f"skill val {val['skill_vs_naive']:+.1%} test {test['skill_vs_naive']:+.1%}"
    )


if __name__ == "__main__":
    run_stage("classical", main)
