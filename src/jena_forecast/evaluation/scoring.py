"""Every model scored the same way: MAE against naive, its uncertainty, prediction intervals, and
the record of which data and windows the numbers belong to."""

from __future__ import annotations

from typing import Any

import numpy as np

from jena_forecast.data.parse import ParseConfig
from jena_forecast.data.protocol import ProtocolConfig
from jena_forecast.data.windows import WindowSpec, assemble_targets
from jena_forecast.evaluation.forecasts import SPLITS, Forecasts, forecasts_of
from jena_forecast.evaluation.intervals import (
    IntervalsConfig,
    adaptive_calibration,
    covered_indicators,
    interval_record,
)
from jena_forecast.evaluation.metrics import split_metrics
from jena_forecast.evaluation.significance import (
    MIN_BLOCKS,
    Bootstrap,
    SignificanceConfig,
    block_windows,
    mean_interval,
    split_uncertainty,
)


class ScoringConfig(ProtocolConfig):
    """What scoring reads besides the windows: ``intervals``, ``significance`` and the record's
    row interval (``parse.interval_minutes``)."""

    intervals: IntervalsConfig
    significance: SignificanceConfig
    parse: ParseConfig


def bootstrap(config: ScoringConfig, windows: int | None = None) -> Bootstrap:
    """The bootstrap of params ``significance``, its blocks counted in windows (one per row).

    With ``windows`` (the fewest of the series it will resample), a block is at most a tenth of
    them: a short record still gets an interval, from shorter blocks (the record says how long).
    """
    significance = config.significance
    block = block_windows(significance.block_days, config.parse.interval_minutes)
    if windows is not None:
        block = max(1, min(block, windows // MIN_BLOCKS))
    return Bootstrap(
        block_windows=block,
        replications=significance.replications,
        level=significance.level,
        seed=significance.seed,
    )


def test_coverage_intervals(
    config: ScoringConfig, forecasts: Forecasts, spec: WindowSpec, resampling: Bootstrap
) -> dict[str, dict[str, float]]:
    """Per prediction-interval level, the 95% interval of its test coverage (``test_coverage_low``
    and ``_high``): the block bootstrap of the per-window 0/1 "inside" indicators."""
    calibration = adaptive_calibration(
        config.intervals, forecasts.anchors, spec.delay_rows, config.parse.interval_minutes
    )
    covered = covered_indicators(
        forecasts.predicted, forecasts.actual, config.intervals.levels, calibration
    )
    result = {}
    for key, by_split in covered.items():
        low, high = mean_interval(by_split["test"], resampling)
        result[key] = {"test_coverage_low": round(low, 6), "test_coverage_high": round(high, 6)}
    return result


def score_forecasts(
    config: ScoringConfig,
    predicted_norm: dict[str, np.ndarray],
    data: np.ndarray,
    anchors: dict[str, np.ndarray],
    spec: WindowSpec,
    scale: float,
    mean: float,
) -> tuple[dict[str, Any], Forecasts]:
    """Score normalized 24 h forecasts of the val and test windows the way every model is scored.

    Per split: MAE next to naive's (``evaluate.split_metrics``) and their uncertainty
    (``significance.split_uncertainty``: 95% intervals of MAE and skill, the p-value and verdict
    against naive); the prediction intervals; the protocol, features and data. Also returns the
    forecasts with their windows, for ``forecasts.save_forecasts``.
    """
    forecasts = forecasts_of(predicted_norm, data, anchors, spec, mean, scale, config.protocol())
    resampling = bootstrap(config, min(len(anchors[split]) for split in SPLITS))
    metrics: dict[str, Any] = {
        split: split_metrics(predicted_norm[split], data, anchors[split], spec, scale)
        | split_uncertainty(
            forecasts.abs_errors(split), forecasts.naive_abs_errors(split), resampling, scale
        )
        for split in SPLITS
    }
    metrics["intervals"] = prediction_intervals(config, predicted_norm, data, anchors, spec, scale)
    for key, covered in test_coverage_intervals(config, forecasts, spec, resampling).items():
        metrics["intervals"][key].update(covered)
    metrics["uncertainty"] = {
        "method": "circular block bootstrap over windows; Diebold-Mariano with HAC variance",
        "block_windows": resampling.block_windows,
        "replications": resampling.replications,
        "level": resampling.level,
        "seed": resampling.seed,
    }
    metrics.update(config.data_record(forecasts.data))
    return metrics, forecasts


def prediction_intervals(
    config: ScoringConfig,
    forecasts_norm: dict[str, np.ndarray],
    data: np.ndarray,
    anchors: dict[str, np.ndarray],
    spec: WindowSpec,
    scale: float,
) -> dict[str, Any]:
    """Conformal intervals of the 24 h forecasts at ``intervals.levels`` by ``intervals.method``
    (``split``: widths from ``val``; ``adaptive``: online through ``val`` then ``test``, each error
    used once known, ``spec.delay_rows`` after its anchor), coverage on ``val`` and ``test`` (see
    ``jena_forecast.evaluation.intervals``)."""
    splits = ("val", "test")
    return interval_record(
        {split: forecasts_norm[split] for split in splits},
        {split: assemble_targets(data, anchors[split], spec) for split in splits},
        config.intervals.levels,
        scale,
        adaptive_calibration(
            config.intervals, anchors, spec.delay_rows, config.parse.interval_minutes
        ),
    )
