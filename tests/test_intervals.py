"""Conformal prediction intervals: widths from validation errors only, coverage measured per split."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import with_defaults

from jena_forecast.config import parse_params
from jena_forecast.errors import PipelineError
from jena_forecast.intervals import conformal_half_width, interval_record, level_key


def test_half_width_is_the_conformal_rank_of_the_absolute_errors():
    errors = np.array([9.0, -1.0, 3.0, 7.0, 2.0, -8.0, 5.0, 4.0, 6.0])  # |e| = 1..9
    # ceil((9 + 1) * 0.8) = 8: the 8th smallest |error|.
    assert conformal_half_width(np.abs(errors), 0.8) == 8.0
    assert conformal_half_width(np.abs(errors), 0.5) == 5.0
    with pytest.raises(PipelineError, match=r"intervals.levels: a 0.95 interval needs at least 10"):
        conformal_half_width(np.abs(errors), 0.95)


def test_level_keys_read_as_percentiles():
    assert [level_key(level) for level in (0.8, 0.9, 0.95, 0.975)] == [
        "p80",
        "p90",
        "p95",
        "p97.5",
    ]


def test_exchangeable_errors_are_covered_at_the_level_and_test_never_sets_the_width():
    rng = np.random.default_rng(0)
    actual = {split: rng.normal(size=4000) for split in ("val", "test")}
    forecast = {split: actual[split] + rng.normal(scale=0.5, size=4000) for split in actual}
    record = interval_record(forecast, actual, (0.8, 0.9), target_scale=2.0)
    for key, level in (("p80", 0.8), ("p90", 0.9)):
        assert record[key]["val_coverage"] >= level
        assert record[key]["test_coverage"] == pytest.approx(level, abs=0.02)
        # |N(0, 0.5)| has its `level` quantile at 0.5 * z; in degC, times the scale 2.
        z = {0.8: 1.2816, 0.9: 1.6449}[level]
        assert record[key]["half_width_degc"] == pytest.approx(2.0 * 0.5 * z, rel=0.05)
    worse = {"val": forecast["val"], "test": forecast["test"] + 3.0}
    shifted = interval_record(worse, actual, (0.8, 0.9), target_scale=2.0)
    assert shifted["p90"]["half_width_degc"] == record["p90"]["half_width_degc"]
    assert shifted["p90"]["test_coverage"] < 0.1


@pytest.mark.parametrize("levels", [[], [0.0], [1.0], [1.5], [0.8, 0.8]])
def test_bad_levels_are_refused_naming_the_param(levels):
    with pytest.raises(PipelineError, match=r"intervals.levels"):
        parse_params(with_defaults({"intervals": {"levels": levels}}))


def test_levels_are_sorted():
    assert parse_params(with_defaults({"intervals": {"levels": [0.9, 0.5]}})).intervals.levels == (
        0.5,
        0.9,
    )
