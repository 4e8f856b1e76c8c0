"""The pipeline's statistics, checked where they matter: on autocorrelated errors, with the
settings params.yaml gives, against computations made here independently (statsmodels' HAC
regression, arch's model confidence set, the true mean of a simulated series).

Each test is written to fail when one known fault is injected into the pipeline (blocks of one
window, blocks a quarter as long, no minimum block count, a Diebold-Mariano test without HAC lags,
a model confidence set with other blocks, the validation naive errors in a test interval);
``tools/inject_faults.py`` injects each one and shows which tests fail.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from arch.bootstrap import MCS
from statsmodels.regression.linear_model import OLS

from jena_forecast.evaluation.forecasts import Forecasts
from jena_forecast.evaluation.scoring import ScoringConfig, bootstrap
from jena_forecast.evaluation.significance import (
    Bootstrap,
    mean_interval,
    paired_difference,
    split_uncertainty,
    tied_with_best,
)

PROJECT_PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"
RAW = yaml.safe_load(PROJECT_PARAMS.read_text())
CONFIG = ScoringConfig.load(PROJECT_PARAMS)
# Windows of 10 minutes in a block of significance.block_days, as written in params.yaml.
CONFIGURED_BLOCK = round(
    RAW["significance"]["block_days"] * 24 * 60 / RAW["parse"]["interval_minutes"]
)


def ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """A stationary AR(1) series of unit variance: neighbours correlated by ``phi``."""
    noise = rng.standard_normal(n) * math.sqrt(1 - phi**2)
    series = np.empty(n)
    series[0] = rng.standard_normal()
    for t in range(1, n):
        series[t] = phi * series[t - 1] + noise[t]
    return series


def hac_p_value(difference: np.ndarray, lags: int) -> float:
    """Two-sided p of "mean 0" with a Newey-West variance of ``lags`` lags (statsmodels)."""
    fit = OLS(difference, np.ones(difference.size)).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    return float(fit.pvalues[0])


def test_the_pipeline_resamples_blocks_of_the_configured_days():
    assert CONFIGURED_BLOCK == 432  # 3 days of 10-minute windows
    resampling = bootstrap(CONFIG, 25_064)  # the test split of the embedded record
    assert resampling.block_windows == CONFIGURED_BLOCK
    assert (resampling.replications, resampling.level, resampling.seed) == (
        RAW["significance"]["replications"],
        RAW["significance"]["level"],
        RAW["significance"]["seed"],
    )


def test_a_short_record_still_gets_ten_blocks():
    # 1,000 windows hold fewer than 10 blocks of 432: blocks of 100 keep 10 of them.
    assert bootstrap(CONFIG, 1_000).block_windows == 100
    assert bootstrap(CONFIG, 4_320).block_windows == CONFIGURED_BLOCK
    assert bootstrap(CONFIG, 4_319).block_windows == 431


def test_mae_intervals_cover_the_true_mean_of_autocorrelated_errors():
    """|AR(1)| errors with neighbours correlated 0.99 (about a day of 10-minute windows, as the
    pipeline's errors): the true mean is sqrt(2/pi). With the pipeline's blocks, 95% intervals
    cover it in most of 40 simulated records; blocks of one window would in under half."""
    rng = np.random.default_rng(2024)
    truth = math.sqrt(2 / math.pi)
    n = 4_320  # 30 days
    resampling = bootstrap(CONFIG, n)
    resampling = Bootstrap(resampling.block_windows, 400, resampling.level, resampling.seed)
    covered = 0
    for _ in range(40):
        low, high = mean_interval(np.abs(ar1(rng, n, 0.99)), resampling)
        covered += low <= truth <= high
    assert covered >= 28  # 70%; iid-style intervals cover about 30% here


def test_diebold_mariano_uses_the_bootstrap_block_as_its_hac_lags():
    rng = np.random.default_rng(7)
    a = np.abs(ar1(rng, 5_000, 0.99)) + 1.0
    b = a + 0.05 + 0.3 * ar1(rng, 5_000, 0.99)  # worse by 0.05 on average, autocorrelated
    resampling = Bootstrap(block_windows=300, replications=200, level=0.95, seed=0)
    p_value = paired_difference(a, b, resampling).p_value
    assert p_value == pytest.approx(hac_p_value(b - a, 300), rel=1e-9)
    # Where it matters: without the lags the same difference would look certain.
    assert hac_p_value(b - a, 0) < 1e-6 < p_value


def test_the_record_against_naive_tests_with_the_pipelines_hac_lags():
    rng = np.random.default_rng(8)
    naive = np.abs(ar1(rng, 5_000, 0.99)) + 1.0
    model = naive - 0.04 + 0.3 * ar1(rng, 5_000, 0.99)
    resampling = bootstrap(CONFIG, naive.size)
    record = split_uncertainty(model, naive, resampling, target_scale=8.0)
    assert record["p_value_vs_naive"] == pytest.approx(
        hac_p_value(model - naive, resampling.block_windows), abs=1e-6
    )


def test_the_model_confidence_set_is_arch_s_with_the_pipelines_blocks():
    rng = np.random.default_rng(9)
    shared = np.abs(ar1(rng, 3_000, 0.99)) + 1.0
    losses = {
        "best": shared,
        "close": shared + 0.03 + 0.2 * ar1(rng, 3_000, 0.99),
        "worse": shared + 0.5 + 0.2 * ar1(rng, 3_000, 0.99),
    }
    resampling = Bootstrap(block_windows=150, replications=300, level=0.95, seed=3)
    p_values = tied_with_best(losses, resampling, size=0.1)
    mcs = MCS(
        np.column_stack(list(losses.values())),
        size=0.1,
        reps=300,
        block_size=150,
        method="max",
        bootstrap="circular",
        seed=3,
    )
    mcs.compute()
    expected = mcs.pvalues["Pvalue"]
    assert p_values == {name: float(expected.loc[i]) for i, name in enumerate(losses)}
    # Where the blocks matter: the close model is tied with the best over days-long blocks.
    assert p_values["close"] >= 0.1 > p_values["worse"]


def test_seed_mean_intervals_judge_test_errors_against_tests_naive_errors():
    from stages.leaderboard import Config, seed_mean_uncertainty

    config = Config.load(PROJECT_PARAMS)
    rng = np.random.default_rng(10)
    n = 5_000
    actual = {split: rng.standard_normal(n) for split in ("val", "test")}
    naive = {  # validation's naive errors twice test's: swapping them moves the skill by half
        "val": actual["val"] + 2.0 * np.abs(ar1(rng, n, 0.99)),
        "test": actual["test"] + np.abs(ar1(rng, n, 0.99)),
    }
    forecasts = Forecasts(
        predicted=naive,
        actual=actual,
        naive=naive,
        anchors={split: np.arange(n) for split in ("val", "test")},
        target_mean=0.0,
        target_scale=8.0,
        data="synthetic",
        protocol="synthetic",
    )
    model = {split: 0.8 * np.abs(naive[split] - actual[split]) for split in ("val", "test")}
    record = seed_mean_uncertainty(config, {"m": model}, forecasts)["m"]
    naive_test = np.abs(naive["test"] - actual["test"])
    expected = split_uncertainty(model["test"], naive_test, bootstrap(config, n), 8.0)
    assert record == expected
    assert record["skill_low"] <= 0.2 <= record["skill_high"]
