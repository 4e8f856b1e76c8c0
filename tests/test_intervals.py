"""Conformal prediction intervals: split (widths from validation errors only) and adaptive (online
through val and test, each error used only once known); coverage measured per split."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import with_defaults

from jena_forecast.config import parse_params
from jena_forecast.evaluation.intervals import (
    AdaptiveCalibration,
    adaptive_calibration,
    adaptive_half_widths,
    conformal_half_width,
    covered_indicators,
    interval_record,
    level_key,
)
from jena_forecast.plumbing.errors import PipelineError


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


def test_adaptive_widths_follow_the_docstring_example():
    widths = adaptive_half_widths(
        np.arange(5),
        np.array([5.0, 1.0, 4.0, 2.0, 3.0]),
        0.5,
        delay_rows=2,
        calibration_windows=3,
        adaptation_rate=0.1,
    )
    assert widths.tolist() == [math.inf, math.inf, 5.0, 5.0, 4.0]


def test_miss_rate_steps_by_the_adaptation_rate_and_clips_at_zero_and_the_largest_error():
    # level 0.5 and adaptation_rate 0.5: a window inside its interval adds 0.25 to alpha when its
    # error becomes known (delay 1: at the next window), a miss takes 0.25 away.
    errors = np.array([1.0, 1.0, 1.0, 5.0, 5.0, 5.0, 9.0, 2.0, 0.0])
    widths = adaptive_half_widths(
        np.arange(9),
        errors,
        0.5,
        delay_rows=1,
        calibration_windows=100,
        adaptation_rate=0.5,
    )
    expected = [
        math.inf,  # nothing known; no update when it becomes known
        1.0,  # alpha 0.5, known [1]: rank ceil(2 * 0.5) = 1
        1.0,  # 1 <= 1 inside: alpha 0.75, rank ceil(3 * 0.25) = 1
        0.0,  # inside: alpha 1.0, rank 0: width 0
        1.0,  # 5 > 0 missed: alpha 0.75, known [1 1 1 5], rank ceil(5 * 0.25) = 2
        1.0,  # missed: alpha 0.5, known [1 1 1 5 5], rank 3
        5.0,  # missed: alpha 0.25, known [1 1 1 5 5 5], rank ceil(7 * 0.75) = 6
        9.0,  # 9 > 5 missed: alpha 0, rank 8 > 7 known: the largest, 9
        5.0,  # 2 <= 9 inside: alpha 0.25, known [1 1 1 2 5 5 5 9], rank ceil(9 * 0.75) = 7
    ]
    assert widths.tolist() == expected


def test_without_adaptation_a_width_is_the_conformal_rank_of_the_errors_known_in_the_window():
    rng = np.random.default_rng(1)
    anchors = np.concatenate([np.arange(0, 300), np.arange(420, 700)])  # a gap of 120 rows
    errors = rng.exponential(size=anchors.size)
    delay, window, level = 24, 50, 0.8
    widths = adaptive_half_widths(
        anchors, errors, level, delay_rows=delay, calibration_windows=window, adaptation_rate=0.0
    )
    for t, anchor in enumerate(anchors):
        known = errors[anchors + delay <= anchor][-window:]  # the latest `window` known errors
        if known.size == 0:
            assert widths[t] == math.inf
            continue
        rank = min(math.ceil((known.size + 1) * level), known.size)
        assert widths[t] == np.sort(known)[rank - 1]


@pytest.mark.parametrize("adaptation_rate", [0.0, 0.01, 0.2])
def test_an_error_is_never_used_before_it_is_known(adaptation_rate):
    # Window j forecasts row anchors[j] + delay: window t may use its error only when that row is
    # at or before its own anchor. Changing every error not yet known at t (the windows in flight
    # and the later ones) must leave the widths up to t unchanged; using any of them would not.
    rng = np.random.default_rng(2)
    anchors = np.concatenate([np.arange(0, 400), np.arange(450, 900)])
    errors = rng.exponential(size=anchors.size)
    delay = 30

    def widths(errs):
        return adaptive_half_widths(
            anchors,
            errs,
            0.8,
            delay_rows=delay,
            calibration_windows=100,
            adaptation_rate=adaptation_rate,
        )

    before = widths(errors)
    for t in (5, 29, 30, 31, 200, 399, 400, 430, 849):
        unknown = anchors + delay > anchors[t]
        after = widths(np.where(unknown, errors * 10.0 + 10.0, errors))
        np.testing.assert_array_equal(after[: t + 1], before[: t + 1])
        # ...and the next unknown error does matter once known (the test could not pass vacuously).
        first_unknown = int(np.argmax(unknown))
        known_from = int(np.searchsorted(anchors, anchors[first_unknown] + delay))
        if known_from < anchors.size:
            assert after[known_from:].tolist() != before[known_from:].tolist()


def _shifted_errors(rng, windows, scale):
    """Forecasts and actuals whose errors are N(0, scale) per window."""
    actual = rng.normal(size=windows)
    return actual + rng.normal(scale=scale, size=windows), actual


def test_adaptive_coverage_recovers_after_the_errors_double_while_split_does_not():
    # val: errors N(0, 1); test: N(0, 1) for its first half, N(0, 2) for its second.
    rng = np.random.default_rng(3)
    half = 20_000
    val = _shifted_errors(rng, 2 * half, 1.0)
    test_first, test_second = _shifted_errors(rng, half, 1.0), _shifted_errors(rng, half, 2.0)
    forecasts = {"val": val[0], "test": np.concatenate([test_first[0], test_second[0]])}
    actuals = {"val": val[1], "test": np.concatenate([test_first[1], test_second[1]])}
    adaptive = AdaptiveCalibration(
        anchors={"val": np.arange(2 * half), "test": np.arange(2 * half, 4 * half) + 500},
        delay_rows=144,
        calibration_windows=2000,
        adaptation_rate=0.005,
    )
    levels = (0.8, 0.9)
    split = covered_indicators(forecasts, actuals, levels)
    online = covered_indicators(forecasts, actuals, levels, adaptive)
    for level in levels:
        key = level_key(level)
        # Split widths are the `level` quantile of |N(0, 1)|, z; |N(0, 2)| falls inside z with
        # probability 2 * Phi(z / 2) - 1: 0.52 at 80%, 0.59 at 90%.
        z = {0.8: 1.2816, 0.9: 1.6449}[level]
        inside_doubled = math.erf(z / 2 / math.sqrt(2))
        assert split[key]["test"][half:].mean() == pytest.approx(inside_doubled, abs=0.02)
        # Adaptive coverage: near the level on the doubled half; after the first 2000 windows of
        # it (the calibration window), close to it.
        assert online[key]["test"][half:].mean() == pytest.approx(level, abs=0.025)
        assert online[key]["test"][half + 2000 :].mean() == pytest.approx(level, abs=0.015)
        assert set(np.unique(online[key]["test"])) <= {0.0, 1.0}
    record = interval_record(forecasts, actuals, levels, 1.0, adaptive)
    for level in levels:
        key = level_key(level)
        assert record[key]["test_coverage"] == pytest.approx(online[key]["test"].mean(), abs=1e-6)
        assert record[key]["val_coverage"] == pytest.approx(online[key]["val"].mean(), abs=1e-6)


def test_adaptive_record_gives_the_mean_test_width():
    # With adaptation_rate 0 and a calibration window longer than val, every test window sees
    # exactly the val errors (test anchors start after every val error is known) plus the test
    # errors known so far; with a constant error of 1, every width is 1.
    ones = {"val": np.ones(300), "test": np.ones(200)}
    zeros = {"val": np.zeros(300), "test": np.zeros(200)}
    adaptive = AdaptiveCalibration(
        anchors={"val": np.arange(300), "test": np.arange(400, 600)},
        delay_rows=10,
        calibration_windows=1000,
        adaptation_rate=0.0,
    )
    record = interval_record(ones, zeros, (0.8,), 2.5, adaptive)
    # The first 10 val windows know nothing: inf width, covered.
    assert record["p80"] == {
        "level": 0.8,
        "half_width_degc": 2.5,
        "val_coverage": 1.0,
        "test_coverage": 1.0,
    }


def test_params_pick_the_method_and_give_the_calibration_in_windows():
    intervals = parse_params(
        with_defaults(
            {"intervals": {"method": "adaptive", "adaptation_rate": 0.002, "calibration_days": 28}}
        )
    ).intervals
    anchors = {"train": np.arange(5), "val": np.arange(10, 20), "test": np.arange(30, 40)}
    adaptive = adaptive_calibration(intervals, anchors, delay_rows=144, minutes_per_row=10)
    assert adaptive is not None
    assert adaptive.calibration_windows == 28 * 144  # one window per 10-minute row
    assert (adaptive.delay_rows, adaptive.adaptation_rate) == (144, 0.002)
    assert set(adaptive.anchors) == {"val", "test"}
    split = parse_params(with_defaults({"intervals": {"method": "split"}})).intervals
    assert adaptive_calibration(split, anchors, delay_rows=144, minutes_per_row=10) is None


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("method", "quantile"),
        ("method", None),
        ("adaptation_rate", -0.01),
        ("adaptation_rate", 1.0),
        ("adaptation_rate", "fast"),
        ("calibration_days", 0),
        ("calibration_days", -7),
    ],
)
def test_bad_interval_params_are_refused_naming_the_key(key, value):
    with pytest.raises(PipelineError, match=rf"intervals\.{key}: .*Received: intervals\.{key}="):
        parse_params(with_defaults({"intervals": {key: value}}))


@pytest.mark.parametrize("key", ["method", "adaptation_rate", "calibration_days"])
def test_a_missing_interval_param_is_named(key):
    raw = with_defaults({})
    del raw["intervals"][key]
    with pytest.raises(PipelineError, match=rf"intervals\.{key}: required param is missing"):
        parse_params(raw)
