"""A paired difference between two models' errors on the same windows that counts the seed too.

A network's score moves with its seed (``gru``'s test MAE: 2.488 or 2.426 degC from the seed
alone), so two runs differ by the seed even where the change between them does nothing. Each side
is the mean over its seeds of the per-window errors. Each replication adds two draws: the
difference of the two sides' means on windows drawn in circular blocks (as every interval here),
and the seeds' share, a Student t draw scaled by the variance of the difference of the seed means
(``seed_variance``: the per-seed MAEs' sample variance over the seed count, per side, with
Welch-Satterthwaite's degrees of freedom). A t, not a resampling of the seeds: with 3 seeds,
resampling them gives 2/3 of their variance and ignores how little 3 values say about it; on
simulated errors at this data's autocorrelation, resampled seeds called 12% of equal pairs
different at 5% (100 simulations), the t share 4.25% (400; tests/test_seed_compare.py). A side with one run takes the
variance of one run from the other side's study. Two single runs have no seed noise to draw: the
interval is the windows' alone.

The p-value is the draws' own: twice the share of replications on the far side of 0 (the level at
which the percentile interval just reaches 0), so interval and p agree by construction::

    errors_a: (3 seeds, n windows), errors_b: (3 seeds, n windows)
    -> mean_difference = mean(errors_b) - mean(errors_a), low/high with seeds and blocks, p
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jena_forecast.evaluation.significance import (
    Bootstrap,
    _percentiles,  # the resampling and percentiles of every interval here
    _resampled_means,
    detectable_difference,
)
from jena_forecast.plumbing.errors import PipelineError


@dataclass(frozen=True)
class SeedAwareDifference:
    """Errors ``b`` against errors ``a`` (each a seed study or one run) on the same windows."""

    mean_difference: float  # mean over seeds and windows of b, minus a's; negative: b is better
    low: float
    high: float  # interval over window blocks and seeds
    p_value: float  # the interval's own two-sided p
    verdict: str  # "better" if high < 0, "worse" if low > 0, else "within the noise"
    resolution: float  # the smallest |difference| found at 80% power (detectable_difference)


def _runs(errors: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(errors, dtype=np.float64)
    array = array[None, :] if array.ndim == 1 else array
    if array.ndim != 2 or array.size == 0:
        raise PipelineError(f"{name} must be (seeds, windows) errors; received shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise PipelineError(f"{name} must be finite; received NaN/inf")
    return array


def seed_aware_difference(
    errors_a: np.ndarray, errors_b: np.ndarray, bootstrap: Bootstrap
) -> SeedAwareDifference:
    """Is ``b`` better than ``a``? ``errors_*``: (seeds, windows) absolute errors of each side's
    runs on the same windows (a 1-D array: one run). See the module docstring for the resampling.

    ``b`` better than ``a`` by 0.25 on every window and for every seed: ``mean_difference == low
    == high == -0.25``, ``verdict == "better"``.
    """
    a, b = _runs(errors_a, "errors_a"), _runs(errors_b, "errors_b")
    if a.shape[1] != b.shape[1]:
        raise PipelineError(
            f"errors_b must have as many windows as errors_a ({a.shape[1]}); received {b.shape[1]}"
        )
    # the two sides' seed means, resampled on the same blocks as every interval here
    means = _resampled_means(np.stack([a.mean(axis=0), b.mean(axis=0)]), bootstrap)
    windows = means[:, 1] - means[:, 0]
    variance, degrees = seed_variance(a.mean(axis=1), b.mean(axis=1))
    draws = windows
    if variance > 0:
        rng = np.random.default_rng([bootstrap.seed, a.shape[0], b.shape[0]])
        draws = windows + np.sqrt(variance) * rng.standard_t(degrees, bootstrap.replications)
    low, high = _percentiles(draws, bootstrap.level)
    below, above = float(np.mean(draws <= 0)), float(np.mean(draws >= 0))
    p_value = min(1.0, 2 * min(below, above) + 1 / (bootstrap.replications + 1))
    return SeedAwareDifference(
        mean_difference=float(b.mean() - a.mean()),
        low=low,
        high=high,
        p_value=p_value,
        verdict="better" if high < 0 else "worse" if low > 0 else "within the noise",
        resolution=detectable_difference(low, high, bootstrap.level),
    )


def seed_variance(maes_a: np.ndarray, maes_b: np.ndarray) -> tuple[float, float]:
    """The seed's share of the variance of ``mean(maes_b) - mean(maes_a)`` (each side's per-seed
    MAEs) and its Welch-Satterthwaite degrees of freedom; a single run takes the variance of one
    run in the other side's study. ``(0, inf)`` for two single runs.

    Seeds 1.0, 1.2, 1.4 against 1.1, 1.3, 1.5: ``(0.04 / 3 + 0.04 / 3, 4.0)``.
    """
    study = maes_a if maes_a.size > 1 else maes_b
    if study.size < 2:
        return 0.0, float("inf")
    terms = []  # (variance of the side's mean, its degrees of freedom)
    for maes in (maes_a, maes_b):
        if maes.size > 1:
            terms.append((float(np.var(maes, ddof=1)) / maes.size, maes.size - 1))
        else:
            terms.append((float(np.var(study, ddof=1)), study.size - 1))
    variance = sum(term for term, _ in terms)
    if variance == 0:
        return 0.0, float("inf")
    degrees = variance**2 / sum(term**2 / df for term, df in terms)
    return variance, float(degrees)
