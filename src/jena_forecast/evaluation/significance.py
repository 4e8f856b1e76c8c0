"""How sure a score is: block-bootstrap intervals, paired tests and the model confidence set.

Inputs are per-window series (absolute errors, 0/1 "covered" indicators). A window every 10
minutes forecasting 24 h ahead makes neighbours' errors strongly autocorrelated (Politis-White
block length on the real data: 330-380 windows), hence a circular block bootstrap (arch) whose
blocks depend on ``Bootstrap.seed`` and the length alone: every function resamples a model and
its rival with the same blocks, so comparisons are paired. Same inputs and seed, same bits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from arch.bootstrap import MCS, CircularBlockBootstrap, optimal_block_length
from pydantic import (
    Field,
    PositiveFloat,
)
from scipy.stats import norm
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.multitest import multipletests

from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.params import Frozen


class SignificanceConfig(Frozen):
    """The uncertainty of every score and comparison (``jena_forecast.evaluation.significance``): a circular
    block bootstrap over windows, and the model confidence set that finds the models tied with
    the best."""

    block_days: PositiveFloat
    replications: int = Field(ge=100)
    level: float = Field(gt=0.0, lt=1.0)
    seed: int
    tie_size: float = Field(gt=0.0, lt=1.0)


MIN_BLOCKS = 10  # a split shorter than this many blocks resamples shorter blocks


@dataclass(frozen=True)
class Bootstrap:
    """How intervals are resampled."""

    block_windows: int  # circular block length, in windows (>= 1)
    replications: int  # bootstrap replications (>= 100)
    level: float  # two-sided confidence level, e.g. 0.95
    seed: int

    def __post_init__(self) -> None:
        for field, valid, expected in (
            ("block_windows", self.block_windows >= 1, ">= 1"),
            ("replications", self.replications >= 100, ">= 100"),
            ("level", 0.0 < self.level < 1.0, "in (0, 1), e.g. 0.95"),
        ):
            if not valid:
                raise PipelineError(
                    f"bootstrap.{field} must be {expected}; received {getattr(self, field)}"
                )


def block_windows(block_days: float, minutes_per_window: float) -> int:
    """Windows per block: ``round(block_days * 1440 / minutes_per_window)``, at least 1.

    ``block_windows(3, 10) == 432``, ``block_windows(2.5, 10) == 360``, ``block_windows(1e-3, 10) == 1``
    """
    for name, value in (("block_days", block_days), ("minutes_per_window", minutes_per_window)):
        if not (np.isfinite(value) and value > 0):
            raise PipelineError(f"{name} must be a positive number; received {name}={value}")
    return max(1, round(block_days * 1440 / minutes_per_window))


def politis_white_block(values: np.ndarray) -> int:
    """The data-driven circular block length of a per-window series, in windows (Politis and
    White 2004 with Patton, Politis and White's correction; arch's ``optimal_block_length``),
    rounded up, at least 1. On the embedded record's test errors: 380-410 windows (2.6-2.9 days).
    """
    series = _series(values, "values")
    if np.all(series == series[0]):
        return 1
    return max(1, int(np.ceil(optimal_block_length(series)["circular"].iloc[0])))


def _series(values: np.ndarray, name: str, like: tuple[str, int] | None = None) -> np.ndarray:
    """``values`` as a 1-D float64 array: non-empty, finite and, given ``like``, as long as it."""
    array = np.asarray(values, dtype=np.float64)
    array = array[:, 0] if array.ndim == 2 and array.shape[1] == 1 else array
    if array.ndim != 1 or array.size == 0:
        raise PipelineError(f"{name} must be a non-empty 1-D series; received shape {array.shape}")
    if like is not None and array.size != like[1]:
        raise PipelineError(
            f"{name} must have as many windows as {like[0]} ({like[1]}); received {array.size}"
        )
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise PipelineError(
            f"{name} must be finite; received {bad.size} NaN/inf, first at window {bad[0]}"
        )
    return array


def _check_block(bootstrap: Bootstrap, windows: int) -> None:
    if bootstrap.block_windows >= windows:
        raise PipelineError(
            f"bootstrap.block_windows ({bootstrap.block_windows}) must be smaller than the number of "
            f"windows ({windows}); one block would be every resample"
        )


RESAMPLE_CHUNK_ELEMENTS = 2_000_000  # block lookups held at once: short blocks stay in memory


def _resampled_means(rows: np.ndarray, bootstrap: Bootstrap) -> np.ndarray:
    """(replications, k) means of the rows of ``rows`` (k, n) over circular block resamples.

    The blocks' first windows are arch's own draws, in the order
    ``CircularBlockBootstrap.update_indices`` makes them (so ``MCS`` resamples the same blocks). A
    resample is its blocks laid end to end, the last one cut at n windows; its sum is read off
    prefix sums of the circularly extended rows, two lookups a block, instead of gathering every
    window (the same means to 1e-13, a few hundred times fewer operations at 3-day blocks).
    """
    windows, block = rows.shape[1], bootstrap.block_windows
    _check_block(bootstrap, windows)
    generator = CircularBlockBootstrap(block, rows[0], seed=bootstrap.seed).generator
    assert isinstance(generator, np.random.Generator)  # an integer seed makes arch a Generator
    blocks = -(-windows // block)
    lengths = np.full(blocks, block)
    lengths[-1] = windows - block * (blocks - 1)
    extended = np.concatenate([rows, rows[:, :block]], axis=1)
    prefix = np.zeros((rows.shape[0], extended.shape[1] + 1))
    np.cumsum(extended, axis=1, out=prefix[:, 1:])
    means = np.empty((bootstrap.replications, rows.shape[0]))
    chunk = max(1, RESAMPLE_CHUNK_ELEMENTS // (blocks * rows.shape[0]))
    for first in range(0, bootstrap.replications, chunk):
        count = min(chunk, bootstrap.replications - first)
        starts = np.stack(
            [generator.integers(windows, size=blocks, dtype=np.int64) for _ in range(count)]
        )
        sums = (prefix[:, starts + lengths] - prefix[:, starts]).sum(axis=2)  # (k, count)
        means[first : first + count] = (sums / windows).T
    return means


def _percentiles(draws: np.ndarray, level: float) -> tuple[float, float]:
    low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def mean_interval(values: np.ndarray, bootstrap: Bootstrap) -> tuple[float, float]:
    """Percentile interval of the mean of a per-window series.

    Absolute errors give an MAE interval; 0/1 "covered" indicators give a coverage interval.
    A constant series gives ``(c, c)``.
    """
    series = _series(values, "values")
    return _percentiles(_resampled_means(series[None, :], bootstrap)[:, 0], bootstrap.level)


def skill_interval(
    model_abs_errors: np.ndarray, naive_abs_errors: np.ndarray, bootstrap: Bootstrap
) -> tuple[float, float]:
    """Interval of skill = 1 - mean(model)/mean(naive), both series resampled with the same blocks."""
    model = _series(model_abs_errors, "model_abs_errors")
    naive = _series(naive_abs_errors, "naive_abs_errors", ("model_abs_errors", model.size))
    for name, errors in (("model_abs_errors", model), ("naive_abs_errors", naive)):
        if errors.min() < 0:
            raise PipelineError(f"{name} must be >= 0 (absolute); received min {errors.min()}")
    if not naive.any():
        raise PipelineError("naive_abs_errors must not all be 0: skill = 1 - MAE / naive MAE")
    means = _resampled_means(np.stack([model, naive]), bootstrap)
    with np.errstate(divide="ignore", invalid="ignore"):  # a resample of only zero naive errors
        return _percentiles(1.0 - means[:, 0] / means[:, 1], bootstrap.level)


def diebold_mariano(abs_errors_a: np.ndarray, abs_errors_b: np.ndarray, hac_lags: int) -> float:
    """Two-sided p-value of H0 "equal mean absolute error" (Diebold-Mariano).

    The loss differential ``d = b - a`` is regressed on a constant with a Newey-West (Bartlett,
    ``hac_lags`` lags) covariance. A constant ``d`` has zero variance: p = 1.0 when it is 0
    (identical series), 0.0 otherwise (one is better on every window by the same amount).
    """
    a = _series(abs_errors_a, "abs_errors_a")
    b = _series(abs_errors_b, "abs_errors_b", ("abs_errors_a", a.size))
    if not 0 <= hac_lags < a.size:
        raise PipelineError(f"hac_lags must be in [0, {a.size}), the windows; received {hac_lags}")
    difference = b - a
    if np.all(difference == difference[0]):
        return 1.0 if difference[0] == 0 else 0.0
    fit = OLS(difference, np.ones(difference.size)).fit(
        cov_type="HAC", cov_kwds={"maxlags": int(hac_lags)}
    )
    return float(fit.pvalues[0])


@dataclass(frozen=True)
class PairedDifference:
    """Forecast ``b`` against forecast ``a`` on the same windows."""

    mean_difference: float  # mean(b) - mean(a), in the errors' unit; negative: b is better
    low: float
    high: float  # bootstrap interval of the mean difference
    p_value: float  # diebold_mariano with hac_lags = bootstrap.block_windows
    verdict: str  # "better" if high < 0, "worse" if low > 0, else "within the noise" (b vs a)
    resolution: float  # the smallest |difference| found at 80% power (detectable_difference)


def paired_difference(
    abs_errors_a: np.ndarray, abs_errors_b: np.ndarray, bootstrap: Bootstrap
) -> PairedDifference:
    """Is ``b`` better than ``a``? The mean of ``b - a`` with its block-bootstrap interval and DM p.

    ``b`` better than ``a`` by 0.25 on every window: ``mean_difference == low == high == -0.25``,
    ``verdict == "better"``.
    """
    a = _series(abs_errors_a, "abs_errors_a")
    b = _series(abs_errors_b, "abs_errors_b", ("abs_errors_a", a.size))
    difference = b - a  # resampled as one series: mean(b*) - mean(a*) on the same blocks
    low, high = mean_interval(difference, bootstrap)
    verdict = "better" if high < 0 else "worse" if low > 0 else "within the noise"
    return PairedDifference(
        mean_difference=float(difference.mean()),  # mean(b) - mean(a), exact for constant gaps
        low=low,
        high=high,
        p_value=diebold_mariano(a, b, hac_lags=bootstrap.block_windows),
        verdict=verdict,
        resolution=detectable_difference(low, high, bootstrap.level),
    )


def split_uncertainty(
    model_abs_errors: np.ndarray,
    naive_abs_errors: np.ndarray,
    bootstrap: Bootstrap,
    target_scale: float,
) -> dict[str, float | str]:
    """The record written beside a model's MAE for one split.

    Errors are normalized; ``target_scale`` (degC per normalized unit) converts the MAE interval.
    ``verdict_vs_naive`` is ``"better"`` when the model beats naive beyond the noise. The MAE
    interval resamples blocks at least as long as the errors' own Politis-White length (at most a
    tenth of the windows); ``block_windows`` and ``politis_white_block_windows`` record both.
    """
    if not (np.isfinite(target_scale) and target_scale > 0):
        raise PipelineError(f"target_scale must be > 0 (degC per unit); received {target_scale}")
    data_driven = politis_white_block(model_abs_errors)
    longest = max(1, np.asarray(model_abs_errors).size // MIN_BLOCKS)
    mae_block = max(bootstrap.block_windows, min(data_driven, longest))
    mae_low, mae_high = mean_interval(
        model_abs_errors,
        Bootstrap(mae_block, bootstrap.replications, bootstrap.level, bootstrap.seed),
    )
    skill_low, skill_high = skill_interval(model_abs_errors, naive_abs_errors, bootstrap)
    versus_naive = paired_difference(naive_abs_errors, model_abs_errors, bootstrap)
    return {
        "mae_degc_low": round(mae_low * target_scale, 6),
        "mae_degc_high": round(mae_high * target_scale, 6),
        "skill_low": round(skill_low, 6),
        "skill_high": round(skill_high, 6),
        "p_value_vs_naive": round(versus_naive.p_value, 6),
        "verdict_vs_naive": versus_naive.verdict,
        "resolution_vs_naive_degc": round(versus_naive.resolution * target_scale, 6),
        "block_windows": mae_block,
        "politis_white_block_windows": data_driven,
    }


def tied_with_best(
    losses: dict[str, np.ndarray], bootstrap: Bootstrap, size: float
) -> dict[str, float]:
    """Each model's model-confidence-set p-value (Hansen, Lunde and Nason 2011; arch's ``MCS``).

    T_max statistic, circular blocks of ``bootstrap.block_windows``, ``bootstrap.replications``,
    ``bootstrap.seed``. Models with p >= ``size`` cannot be told apart from the best. Models with
    identical losses share one p-value; a single distinct model gets 1.0.
    """
    if not losses:
        raise PipelineError("losses must name at least one model; received none")
    if not 0.0 < size < 1.0:
        raise PipelineError(f"size must be in (0, 1), e.g. 0.1; received {size}")
    names = list(losses)
    first = _series(losses[names[0]], f"losses[{names[0]!r}]")
    like = (f"losses[{names[0]!r}]", first.size)
    series = {name: _series(losses[name], f"losses[{name!r}]", like) for name in names}
    distinct = list(dict.fromkeys(series[name].tobytes() for name in names))  # identical -> one
    if len(distinct) == 1:
        return dict.fromkeys(names, 1.0)
    _check_block(bootstrap, first.size)
    mcs = MCS(
        np.column_stack([np.frombuffer(key) for key in distinct]),
        size=size,
        reps=bootstrap.replications,
        block_size=bootstrap.block_windows,
        method="max",  # arch's "R" method fails when the models left have equal mean losses
        bootstrap="circular",
        seed=bootstrap.seed,
    )
    mcs.compute()
    p_values = mcs.pvalues["Pvalue"]
    return {name: float(p_values.loc[distinct.index(series[name].tobytes())]) for name in names}


POWER = 0.8  # the power at which a test's resolution is stated


def detectable_difference(
    low: float, high: float, level: float, power: float = POWER, tests: int = 1
) -> float:
    """The smallest true difference a two-sided test at ``level`` finds with probability ``power``,
    from the ``level`` interval ``[low, high]`` of the estimate (its standard error is the half
    width over z): ``(z[1 - alpha / 2m] + z[power]) * se`` for ``m = tests`` tests at once (the
    Bonferroni bound of Holm's first step). "Within the noise" means "not resolved at +-this".

    For a 95% interval of half width 1.96 (se 1): 1.96 + 0.84 = 2.80.
    """
    alpha = 1 - level
    standard_error = (high - low) / 2 / norm.ppf(1 - alpha / 2)
    return float((norm.ppf(1 - alpha / (2 * tests)) + norm.ppf(power)) * standard_error)


def holm(p_values: Mapping[str, float]) -> dict[str, float]:
    """Holm's step-down adjusted p-values of a family of tests (statsmodels' ``multipletests``):
    a verdict at level ``alpha`` on the adjusted p holds for the whole family at once (family-wise
    error ``alpha``). NaN p-values are not tests and stay NaN.

    ``holm({"a": 0.01, "b": 0.04, "c": 0.03}) == {"a": 0.03, "b": 0.06, "c": 0.06}``
    """
    tested = {name: p for name, p in p_values.items() if np.isfinite(p)}
    adjusted = dict.fromkeys(p_values, float("nan"))
    if tested:
        corrected = multipletests(list(tested.values()), method="holm")[1]
        adjusted.update(zip(tested, map(float, corrected), strict=True))
    return adjusted


def adjusted_verdict(difference: float, p_adjusted: float, alpha: float) -> str:
    """``better`` or ``worse`` (the sign of ``difference``, negative: lower error) where the
    family-adjusted p is below ``alpha``, else ``within the noise``; empty where there is no test."""
    if not np.isfinite(p_adjusted):
        return ""
    if p_adjusted >= alpha or difference == 0:
        return "within the noise"
    return "better" if difference < 0 else "worse"
