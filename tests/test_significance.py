"""Uncertainty of scores: block-bootstrap intervals, Diebold-Mariano and the model confidence set."""

from __future__ import annotations

import math

import numpy as np
import pytest

from jena_forecast.evaluation.significance import (
    Bootstrap,
    block_windows,
    detectable_difference,
    diebold_mariano,
    mean_interval,
    paired_difference,
    politis_white_block,
    skill_interval,
    split_uncertainty,
    tied_with_best,
)
from jena_forecast.plumbing.errors import PipelineError

IID = Bootstrap(block_windows=1, replications=2000, level=0.95, seed=0)
BLOCKS = Bootstrap(block_windows=10, replications=500, level=0.95, seed=0)
ERRORS = (
    np.arange(1.0, 201.0) % 17
)  # 200 windows of made-up absolute errors: 1, 2, ..., 16, 0, 1, ...


def ar1(phi: float, size: int, seed: int) -> np.ndarray:
    """x[t] = phi * x[t-1] + e[t], e ~ N(0, 1): errors that persist like neighbouring windows'."""
    noise = np.random.default_rng(seed).normal(size=size)
    series = np.empty(size)
    series[0] = noise[0] / math.sqrt(1 - phi**2)
    for t in range(1, size):
        series[t] = phi * series[t - 1] + noise[t]
    return series


def test_block_windows_is_days_in_windows():
    assert block_windows(3, 10) == 432  # 3 * 1440 minutes / 10
    assert block_windows(2.5, 10) == 360
    assert block_windows(1, 60) == 24
    assert block_windows(0.001, 10) == 1  # 1.44 minutes rounds to 0 windows; at least 1
    with pytest.raises(PipelineError, match="block_days must be a positive"):
        block_windows(0, 10)
    with pytest.raises(PipelineError, match="minutes_per_window must be a positive"):
        block_windows(3, 0)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("block_windows", {"block_windows": 0}),
        ("replications", {"replications": 99}),
        ("level", {"level": 1.0}),
    ],
)
def test_bootstrap_settings_are_checked(field, kwargs):
    settings = {"block_windows": 10, "replications": 500, "level": 0.95, "seed": 0} | kwargs
    with pytest.raises(PipelineError, match=f"bootstrap.{field} must be"):
        Bootstrap(**settings)


def test_identical_forecasts_differ_by_exactly_nothing():
    result = paired_difference(ERRORS, ERRORS.copy(), BLOCKS)
    assert (result.mean_difference, result.low, result.high) == (0.0, 0.0, 0.0)
    assert result.p_value == 1.0
    assert result.verdict == "within the noise"


def test_better_on_every_window_by_a_constant_is_better_by_that_constant():
    # Every resample of a constant gap of 0.25 has mean gap 0.25, exactly (0.25 is a power of 2).
    better = paired_difference(ERRORS + 0.25, ERRORS, BLOCKS)
    assert (better.mean_difference, better.low, better.high) == (-0.25, -0.25, -0.25)
    assert better.p_value == 0.0
    assert better.verdict == "better"
    worse = paired_difference(ERRORS, ERRORS + 0.25, BLOCKS)
    assert (worse.mean_difference, worse.low, worse.high) == (0.25, 0.25, 0.25)
    assert worse.verdict == "worse"


def test_noise_is_within_the_noise():
    shuffled = np.random.default_rng(1).permutation(ERRORS)  # the same errors, the same mean
    result = paired_difference(ERRORS, shuffled, BLOCKS)
    assert result.mean_difference == pytest.approx(0.0, abs=1e-12)
    assert result.low < 0 < result.high
    assert result.p_value > 0.99
    assert result.verdict == "within the noise"


def test_iid_data_with_blocks_of_one_give_the_textbook_interval():
    values = np.random.default_rng(2).normal(loc=3.0, scale=2.0, size=2000)
    standard_error = values.std() / math.sqrt(values.size)
    low, high = mean_interval(values, IID)
    # Monte Carlo error of a 2.5% percentile of 2000 replications: ~0.06 standard errors.
    assert low == pytest.approx(values.mean() - 1.96 * standard_error, abs=0.25 * standard_error)
    assert high == pytest.approx(values.mean() + 1.96 * standard_error, abs=0.25 * standard_error)


def test_blocks_widen_the_interval_of_autocorrelated_errors_by_the_long_run_factor():
    # The mean of an AR(1) with phi = 0.9 has sqrt((1 + phi) / (1 - phi)) = 4.36 times the
    # i.i.d. standard error; blocks of 200 (>> 1 / (1 - phi)) recover most of it.
    values = ar1(0.9, 10_000, seed=3)
    iid_low, iid_high = mean_interval(values, Bootstrap(1, 1000, 0.95, seed=0))
    block_low, block_high = mean_interval(values, Bootstrap(200, 1000, 0.95, seed=0))
    assert 3.0 < (block_high - block_low) / (iid_high - iid_low) < 5.8


def test_constant_series_and_coverage_indicators():
    assert mean_interval(np.full(50, 0.75), BLOCKS) == (0.75, 0.75)
    covered = (np.arange(200) % 10 != 0).astype(float)  # 90% of windows covered
    low, high = mean_interval(covered, BLOCKS)
    assert 0.0 <= low <= 0.9 <= high <= 1.0


def test_same_seed_same_bits_and_a_new_seed_new_draws():
    values = ar1(0.5, 300, seed=4)
    assert mean_interval(values, BLOCKS) == mean_interval(values.copy(), BLOCKS)
    reseeded = Bootstrap(BLOCKS.block_windows, BLOCKS.replications, BLOCKS.level, seed=1)
    assert mean_interval(values, reseeded) != mean_interval(values, BLOCKS)


def test_skill_interval_holds_the_point_skill_and_is_exact_for_a_proportional_model():
    naive = np.abs(ar1(0.8, 500, seed=5)) + 0.1
    model = np.abs(ar1(0.8, 500, seed=6)) + 0.1
    low, high = skill_interval(model, naive, BLOCKS)
    assert low < 1 - model.mean() / naive.mean() < high
    # A model with 60% of naive's error on every window has skill 0.4 in every resample.
    low, high = skill_interval(0.6 * naive, naive, BLOCKS)
    assert low == pytest.approx(0.4, abs=1e-12) and high == pytest.approx(0.4, abs=1e-12)


def test_diebold_mariano_is_the_newey_west_z_test():
    rng = np.random.default_rng(7)
    a = np.abs(rng.normal(size=400))
    b = a + 0.03 + ar1(0.5, 400, seed=8) * 0.3
    d = b - a
    centred, lags = d - d.mean(), 3
    long_run_variance = centred @ centred / d.size + 2 * sum(
        (1 - lag / (lags + 1)) * (centred[lag:] @ centred[:-lag]) / d.size
        for lag in range(1, lags + 1)
    )
    z = d.mean() / math.sqrt(long_run_variance / d.size)
    assert diebold_mariano(a, b, hac_lags=lags) == pytest.approx(math.erfc(abs(z) / math.sqrt(2)))


def test_diebold_mariano_small_for_a_clearly_better_series_large_for_noise():
    a = np.abs(ar1(0.5, 1000, seed=9)) + 1.0
    clearly_better = a - 0.5 + 0.1 * np.random.default_rng(10).normal(size=a.size)
    assert diebold_mariano(a, clearly_better, hac_lags=10) < 1e-6
    assert diebold_mariano(a, np.random.default_rng(11).permutation(a), hac_lags=10) > 0.99
    assert diebold_mariano(a, a.copy(), hac_lags=10) == 1.0


def test_split_uncertainty_record_for_a_model_with_half_the_naive_error():
    naive = np.abs(ar1(0.8, 400, seed=12)) + 0.1
    record = split_uncertainty(0.5 * naive, naive, BLOCKS, target_scale=8.0)
    low, high = mean_interval(0.5 * naive, BLOCKS)
    dm_low, dm_high = mean_interval(0.5 * naive - naive, BLOCKS)
    z95, z80 = 1.959964, 0.841621  # standard normal quantiles at 0.975 and 0.8
    resolution = 8.0 * (z95 + z80) * (dm_high - dm_low) / (2 * z95)
    assert record == {
        "mae_degc_low": round(8.0 * low, 6),
        "mae_degc_high": round(8.0 * high, 6),
        "skill_low": 0.5,
        "skill_high": 0.5,
        "p_value_vs_naive": 0.0,
        "verdict_vs_naive": "better",
        # the smallest difference to naive found at 80% power: (z 0.975 + z 0.8) standard errors
        "resolution_vs_naive_degc": pytest.approx(resolution, rel=1e-5),
        "block_windows": BLOCKS.block_windows,  # the errors' own length (8) is shorter
        "politis_white_block_windows": politis_white_block(0.5 * naive),
    }


def test_a_tests_resolution_is_the_difference_it_finds_at_80_percent_power():
    # A 95% interval of half width 1.96 is a standard error of 1: 1.96 + 0.84 of them.
    assert detectable_difference(-1.959964, 1.959964, 0.95) == pytest.approx(2.801585, abs=1e-5)
    # Three tests at once (Bonferroni's bound of Holm's first step): z at 1 - 0.05 / 6.
    assert detectable_difference(-1.959964, 1.959964, 0.95, tests=3) == pytest.approx(
        2.393980 + 0.841621, abs=1e-5
    )


def test_the_data_driven_block_is_short_for_noise_and_long_for_persistent_errors():
    assert politis_white_block(np.random.default_rng(3).normal(size=5_000)) <= 5
    assert politis_white_block(np.abs(ar1(0.99, 5_000, seed=4))) >= 50
    assert politis_white_block(np.full(100, 2.0)) == 1


def test_mae_intervals_resample_blocks_at_least_as_long_as_the_errors_own():
    # Configured blocks of 5 windows; the errors persist for hundreds: the MAE interval takes the
    # data's length (at most a tenth of the windows), the skill interval keeps the configured one.
    naive = np.abs(ar1(0.99, 5_000, seed=5)) + 0.1
    model = 0.9 * naive
    configured = Bootstrap(5, 300, 0.95, seed=0)
    record = split_uncertainty(model, naive, configured, target_scale=1.0)
    data_driven = politis_white_block(model)
    assert record["politis_white_block_windows"] == data_driven > 5
    assert record["block_windows"] == min(data_driven, 500)
    low, high = mean_interval(model, Bootstrap(record["block_windows"], 300, 0.95, seed=0))
    assert (record["mae_degc_low"], record["mae_degc_high"]) == (round(low, 6), round(high, 6))
    narrow_low, narrow_high = mean_interval(model, configured)
    assert high - low > 1.5 * (narrow_high - narrow_low)


def test_model_confidence_set_drops_the_clearly_worse_model_and_keeps_the_twins():
    rng = np.random.default_rng(13)
    good = np.abs(rng.normal(size=500))
    losses = {
        "good": good,
        "twin": good.copy(),  # identical losses: one model as far as the MCS can tell
        "shuffled": rng.permutation(good),  # the same mean loss, other windows
        "worse": good + 0.3 + 0.1 * rng.normal(size=500),
    }
    p_values = tied_with_best(losses, Bootstrap(5, 200, 0.95, seed=0), size=0.1)
    assert p_values["worse"] < 0.1
    assert p_values["good"] == p_values["twin"] >= 0.1
    assert p_values["shuffled"] >= 0.1
    assert tied_with_best({"only": good}, BLOCKS, size=0.1) == {"only": 1.0}


def test_model_confidence_set_is_reproducible():
    losses = {f"m{i}": np.abs(ar1(0.5, 300, seed=20 + i)) + 0.02 * i for i in range(4)}
    assert tied_with_best(losses, BLOCKS, 0.1) == tied_with_best(losses, BLOCKS, 0.1)


SHORT, EMPTY, GAP = ERRORS[:-1], np.array([]), np.where(np.arange(200) == 7, np.nan, ERRORS)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: mean_interval(EMPTY, BLOCKS), "values must be a non-empty"),
        (
            lambda: mean_interval(GAP, BLOCKS),
            "values must be finite; received 1 NaN/inf, first at window 7",
        ),
        (
            lambda: skill_interval(ERRORS, SHORT, BLOCKS),
            r"naive_abs_errors must have as many windows as model_abs_errors \(200\); received 199",
        ),
        (lambda: skill_interval(GAP, ERRORS, BLOCKS), "model_abs_errors must be finite"),
        (lambda: skill_interval(-ERRORS, ERRORS, BLOCKS), "model_abs_errors must be >= 0"),
        (
            lambda: skill_interval(ERRORS, np.zeros(200), BLOCKS),
            "naive_abs_errors must not all be 0",
        ),
        (
            lambda: diebold_mariano(ERRORS, SHORT, 5),
            "abs_errors_b must have as many windows as abs_errors_a",
        ),
        (lambda: diebold_mariano(ERRORS, ERRORS, 200), r"hac_lags must be in \[0, 200\)"),
        (lambda: paired_difference(EMPTY, EMPTY, BLOCKS), "abs_errors_a must be a non-empty"),
        (lambda: paired_difference(ERRORS, GAP, BLOCKS), "abs_errors_b must be finite"),
        (
            lambda: split_uncertainty(ERRORS, SHORT, BLOCKS, 8.0),
            "naive_abs_errors must have as many",
        ),
        (lambda: split_uncertainty(ERRORS, ERRORS, BLOCKS, 0.0), "target_scale must be > 0"),
        (
            lambda: tied_with_best({"a": ERRORS, "b": SHORT}, BLOCKS, 0.1),
            r"losses\['b'\] must have as many windows as losses\['a'\]",
        ),
        (
            lambda: tied_with_best({"a": ERRORS, "b": GAP}, BLOCKS, 0.1),
            r"losses\['b'\] must be finite",
        ),
        (lambda: tied_with_best({}, BLOCKS, 0.1), "losses must name at least one model"),
        (
            lambda: mean_interval(ERRORS[:10], BLOCKS),
            r"bootstrap.block_windows \(10\) must be smaller than the number of windows \(10\)",
        ),
    ],
)
def test_bad_input_is_a_pipeline_error_naming_the_argument(call, message):
    with pytest.raises(PipelineError, match=message):
        call()
