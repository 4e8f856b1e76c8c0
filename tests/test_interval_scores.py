"""Prediction intervals judged by width, interval (Winkler) score and coverage by season."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jena_forecast.evaluation.forecasts import Forecasts
from jena_forecast.evaluation.interval_scores import interval_scores, winkler_scores


def test_the_winkler_score_is_the_width_plus_the_weighted_miss():
    lower, upper = np.array([10.0, 10.0, 10.0]), np.array([14.0, 14.0, 14.0])
    actual = np.array([15.0, 12.0, 9.5])
    assert winkler_scores(lower, upper, actual, 0.8).tolist() == pytest.approx(
        [4 + 10 * 1.0, 4.0, 4 + 10 * 0.5]
    )


def forecasts_with_errors(val_errors: np.ndarray, test_errors: np.ndarray) -> Forecasts:
    sizes = {"val": val_errors.size, "test": test_errors.size}
    actual = {split: np.zeros(size) for split, size in sizes.items()}
    errors = {"val": val_errors, "test": test_errors}
    return Forecasts(
        predicted={split: errors[split] for split in sizes},
        actual=actual,
        naive={split: np.ones(size) for split, size in sizes.items()},
        anchors={"val": np.arange(sizes["val"]), "test": sizes["val"] + np.arange(sizes["test"])},
        target_mean=0.0,
        target_scale=2.0,
        data="rows=1 sha256=0",
        protocol="p",
    )


def test_coverage_by_season_shows_what_the_overall_coverage_hides():
    """Split conformal widths from validation errors uniform on [0, 1); test errors twice as large
    in winter (Dec-Feb) as in summer: the 80% interval covers all of summer, little of winter."""
    rng = np.random.default_rng(0)
    times = pd.date_range("2010-07-01", periods=365 * 4, freq="6h")
    winter = np.isin(times.month, [12, 1, 2])
    test_errors = rng.uniform(0, 1, times.size) * np.where(winter, 2.0, 0.7)
    kept = forecasts_with_errors(rng.uniform(0, 1, 5000), test_errors)
    (row,) = interval_scores("m", kept, times, (0.8,), adaptive=None)
    width = row["half_width_degc"] / 2  # in normalized units (target_scale 2)
    assert width == pytest.approx(0.8, abs=0.02)  # the 80% quantile of uniform validation errors
    assert row["coverage_jja"] == 1.0 and row["coverage_djf"] == pytest.approx(0.4, abs=0.05)
    assert row["coverage_djf"] < row["test_coverage"] < row["coverage_jja"]
    assert row["coverage_month_min"] <= row["coverage_djf"] and row["coverage_month_max"] == 1.0
    miss = np.clip(test_errors - width, 0, None)
    expected = 2 * width + 2 / 0.2 * miss
    assert row["winkler_degc"] == pytest.approx(float(expected.mean()) * 2.0, rel=1e-3)
    assert row["half_width_degc"] == pytest.approx(width * 2.0)
