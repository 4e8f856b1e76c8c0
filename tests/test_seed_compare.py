"""Seed-aware paired differences: the seed's noise is in the interval, at the level stated."""

from __future__ import annotations

import numpy as np
import pytest

from jena_forecast.comparison.seed_noise import seed_aware_difference, seed_variance
from jena_forecast.evaluation.significance import Bootstrap, paired_difference

BOOTSTRAP = Bootstrap(block_windows=30, replications=200, level=0.95, seed=0)


def autocorrelated_errors(rng: np.random.Generator, windows: int) -> np.ndarray:
    """|AR(1)| errors with lag-1 correlation 0.95, about this data's at a 10-minute step."""
    series = np.zeros(windows)
    shocks = rng.normal(scale=0.3, size=windows)
    for window in range(1, windows):
        series[window] = 0.95 * series[window - 1] + shocks[window]
    return np.abs(series) + 0.5


def test_a_constant_gap_for_every_seed_and_window_is_exact():
    errors = np.tile(np.linspace(0.5, 1.5, 600), (3, 1))
    result = seed_aware_difference(errors, errors - 0.25, BOOTSTRAP)
    assert result.mean_difference == pytest.approx(-0.25)
    assert (result.low, result.high) == pytest.approx((-0.25, -0.25))
    assert result.verdict == "better" and result.p_value < 0.01


def test_the_seed_variance_is_welchs():
    variance, degrees = seed_variance(np.array([1.0, 1.2, 1.4]), np.array([1.1, 1.3, 1.5]))
    assert variance == pytest.approx(0.04 / 3 + 0.04 / 3)
    assert degrees == pytest.approx(4.0)
    # one run on a side: the variance of one run of the other side's study, its 2 degrees
    variance, degrees = seed_variance(np.array([1.0, 1.2, 1.4]), np.array([1.3]))
    assert variance == pytest.approx(0.04 / 3 + 0.04) and degrees == pytest.approx(
        (0.04 / 3 + 0.04) ** 2 / ((0.04 / 3) ** 2 / 2 + 0.04**2 / 2)
    )
    assert seed_variance(np.array([1.0]), np.array([1.3])) == (0.0, float("inf"))


def test_equal_pairs_are_called_different_at_the_stated_rate_only_with_the_seed_in():
    """Both sides the same model (the same errors per window, a seed offset each run): at 5%, the
    seed-aware interval calls about 5% of pairs different; the windows alone call nearly all."""
    rng = np.random.default_rng(0)
    simulations, called, called_without_seeds = 100, 0, 0
    for simulation in range(simulations):
        base = autocorrelated_errors(rng, 1500)
        a = base + rng.normal(0, 0.1, size=(3, 1)) + rng.normal(0, 0.02, size=(3, 1500))
        b = base + rng.normal(0, 0.1, size=(3, 1)) + rng.normal(0, 0.02, size=(3, 1500))
        bootstrap = Bootstrap(30, 200, 0.95, simulation)
        called += seed_aware_difference(a, b, bootstrap).verdict != "within the noise"
        plain = paired_difference(a.mean(axis=0), b.mean(axis=0), bootstrap)
        called_without_seeds += plain.verdict != "within the noise"
    assert called / simulations <= 0.10
    assert called_without_seeds / simulations >= 0.9


def test_a_real_gap_beyond_the_seed_noise_is_found():
    rng = np.random.default_rng(1)
    base = autocorrelated_errors(rng, 1500)
    a = base + np.array([[0.0], [0.02], [-0.02]])
    b = base - 0.3 + np.array([[0.01], [-0.01], [0.0]])
    result = seed_aware_difference(a, b, BOOTSTRAP)
    assert result.verdict == "better" and result.high < -0.2


def test_one_run_against_a_study_carries_one_runs_noise():
    rng = np.random.default_rng(2)
    base = autocorrelated_errors(rng, 1500)
    study = base + np.array([[0.0], [0.2], [-0.2]])
    single = base[None, :] + 0.05
    alone = seed_aware_difference(study[:1], single, BOOTSTRAP)
    with_study = seed_aware_difference(study, single, BOOTSTRAP)
    assert alone.high - alone.low < 0.01  # the same windows, no seed noise: a tight interval
    assert with_study.low < 0 < with_study.high and with_study.high - with_study.low > 0.4


def test_mismatched_windows_are_refused():
    with pytest.raises(Exception, match="as many windows as errors_a"):
        seed_aware_difference(np.ones((3, 100)), np.ones((3, 90)), BOOTSTRAP)
