"""Prediction intervals judged by what differs between models: their width, their interval
(Winkler) score, and their coverage season by season on test.

Adaptive conformal intervals hold their long-run coverage for any forecaster (every model, one at
4.3 degC MAE included, covers 79-81% at 80%), so the overall coverage says little; a good
forecaster earns narrower intervals for the same coverage. The Winkler score of an interval
``[l, u]`` at level ``1 - a`` for an outcome ``y`` is its width plus ``2 / a`` times the distance by
which ``y`` falls outside, so it rewards width and coverage at once (lower is better; Gneiting and
Raftery 2007, "interval score")::

    l, u, y, a = 10, 14, 15, 0.2  ->  (14 - 10) + 2 / 0.2 * (15 - 14) = 14

Coverage by the meteorological season of the target time shows whether the long-run coverage hides
a winter of too-narrow intervals and a summer of too-wide ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from jena_forecast.evaluation.forecasts import Forecasts
from jena_forecast.evaluation.intervals import (
    AdaptiveCalibration,
    half_widths,
    level_key,
)

SEASONS = {12: "djf", 1: "djf", 2: "djf", 3: "mam", 4: "mam", 5: "mam"}
SEASONS |= {6: "jja", 7: "jja", 8: "jja", 9: "son", 10: "son", 11: "son"}
SEASON_ORDER = ("djf", "mam", "jja", "son")


def winkler_scores(
    lower: np.ndarray, upper: np.ndarray, actual: np.ndarray, level: float
) -> np.ndarray:
    """Each window's interval score at ``level``: width plus ``2 / (1 - level)`` times the miss."""
    alpha = 1 - level
    below = np.clip(lower - actual, 0, None)
    above = np.clip(actual - upper, 0, None)
    return (upper - lower) + 2 / alpha * (below + above)


def interval_scores(
    model: str,
    kept: Forecasts,
    target_times: pd.DatetimeIndex,
    levels: tuple[float, ...],
    adaptive: AdaptiveCalibration | None,
) -> list[dict[str, Any]]:
    """One row per level for ``model``'s test windows (``target_times``: when each 24 h forecast
    is for): mean half-width and Winkler score in degC, coverage overall, by season (``djf`` ...,
    empty where test has no such season) and its lowest and highest month."""
    splits = ("val", "test")
    errors = {split: kept.abs_errors(split) for split in splits}
    widths = half_widths(errors, levels, adaptive)
    scale = kept.target_scale
    months = np.asarray(target_times.month)
    seasons = np.array([SEASONS[month] for month in months])
    rows = []
    for level in levels:
        width = widths[level]["test"]
        predicted, actual = kept.predicted["test"], kept.actual["test"]
        covered = errors["test"] <= width
        monthly = [covered[months == month].mean() for month in np.unique(months)]
        row: dict[str, Any] = {
            "model": model,
            "level": level_key(level),
            "half_width_degc": round(float(width.mean()) * scale, 4),
            "winkler_degc": round(
                float(winkler_scores(predicted - width, predicted + width, actual, level).mean())
                * scale,
                4,
            ),
            "test_coverage": round(float(covered.mean()), 6),
        }
        for season in SEASON_ORDER:
            inside = seasons == season
            row[f"coverage_{season}"] = (
                round(float(covered[inside].mean()), 4) if inside.any() else ""
            )
        row["coverage_month_min"] = round(float(min(monthly)), 4)
        row["coverage_month_max"] = round(float(max(monthly)), 4)
        rows.append(row)
    return rows
