"""Prediction intervals around the 24 h forecasts: split or adaptive conformal, coverage per split.

A point forecast ``f`` becomes the interval ``f ± w``. Two ways to choose ``w`` (``intervals.method``):

``split``
    One width for every window: the ``ceil((n + 1) * level)``-th smallest absolute error of the
    ``n`` validation windows. Were the windows exchangeable, a new window would fall inside with
    probability at least ``level``. Weather windows are not: validation (Jan-Jul of the last year
    with dlwp2) is another season than test (Jul-Jan), and validation also chose early stopping and
    the classical models' hyperparameters, so its errors run small and test coverage falls short.

``adaptive``
    Adaptive conformal inference (Gibbs & Candès 2021, "Adaptive conformal inference under
    distribution shift"), run online through the validation windows and then the test windows, in
    time order. Window ``t`` gets the conformal rank ``ceil((n + 1) * (1 - alpha_t))`` of the ``n``
    absolute errors known at ``t`` among the latest ``calibration_windows`` known ones, and the
    miss rate ``alpha_t`` steers towards ``1 - level``::

        alpha_{t+1} = alpha_t + adaptation_rate * ((1 - level) - miss_j)

    A window anchored at row ``a`` forecasts row ``a + delay_rows``: its error is *known* only to
    windows anchored at ``a + delay_rows`` or later, and the update for window ``j`` (``miss_j``:
    its error fell outside its own interval) is applied then, not at ``j``. With one window per
    10-minute row and a 24 h delay, 144 windows are always in flight. Validation serves as warm-up
    (its first windows see few known errors: they use those they see; the first ``delay_rows`` see
    none and get the whole line, counted covered, with no update); nothing is fitted to test
    except by this online feedback from test errors already known.

    ``alpha_t >= 1`` gives width 0; ``alpha_t`` low enough that the rank exceeds ``n`` (``alpha_t <
    1 / (n + 1)``, including ``alpha_t <= 0``, where the paper takes the whole line) gives the
    largest known error, so every width is finite and every miss is counted.

    Choosing ``adaptation_rate`` (gamma): the updates telescope, so a split's coverage misses
    ``level`` by about ``|alpha_end - alpha_start| / (gamma * windows)``: gamma too small and
    alpha cannot pull coverage back within a split. Too large and alpha overshoots: its feedback
    arrives ``delay_rows`` windows late and a bad day brings 144 correlated misses, so with
    ``gamma * delay_rows`` near 1 alpha swings below 0 for whole days, and those windows take the
    largest error of the calibration window. ``gamma = 0.001`` (``gamma * delay_rows = 0.14``,
    ``gamma * test windows = 25``) sits between.

A record holds per level the half-width in degC (split: the width; adaptive: the mean over test
windows) and each split's coverage; ``covered_indicators`` gives the per-window 0/1 coverage, for
a block bootstrap of coverage.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import (
    Field,
    PositiveFloat,
    field_validator,
)

from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.params import Frozen


class IntervalsConfig(Frozen):
    """Prediction intervals (``jena_forecast.evaluation.intervals``): the coverage levels, and how widths are
    calibrated: ``split`` conformal from the validation errors, or ``adaptive`` conformal inference
    run online through val and test with step ``adaptation_rate`` over the latest
    ``calibration_days`` of known errors."""

    levels: tuple[float, ...]
    method: Literal["adaptive", "split"]
    adaptation_rate: float = Field(ge=0.0, lt=1.0)
    calibration_days: PositiveFloat

    @field_validator("levels")
    @classmethod
    def _distinct_fractions(cls, levels: tuple[float, ...]) -> tuple[float, ...]:
        if not levels:
            raise ValueError("must name at least one coverage level")
        if any(not 0.0 < level < 1.0 for level in levels):
            raise ValueError("every level must be a fraction strictly between 0 and 1")
        if len(set(levels)) != len(levels):
            raise ValueError("must not name a level twice")
        return tuple(sorted(levels))


SPLITS = ("val", "test")
MINUTES_PER_DAY = 24 * 60


def level_key(level: float) -> str:
    """The record key of a coverage level: ``p80`` for 0.8, ``p95`` for 0.95, ``p97.5`` for 0.975."""
    return f"p{round(level * 100, 4):g}"


def conformal_half_width(abs_errors: np.ndarray, level: float) -> float:
    """The ``ceil((n + 1) * level)``-th smallest of ``n`` absolute validation errors."""
    errors = np.sort(np.asarray(abs_errors, dtype=np.float64).reshape(-1))
    rank = math.ceil((errors.size + 1) * level)
    if rank > errors.size:
        raise PipelineError(
            f"intervals.levels: a {level:g} interval needs at least {rank} validation windows; "
            f"there are {errors.size}. Lower the level or use more data"
        )
    return float(errors[rank - 1])


def adaptive_half_widths(
    anchors: np.ndarray,
    abs_errors: np.ndarray,
    level: float,
    *,
    delay_rows: int,
    calibration_windows: int,
    adaptation_rate: float,
) -> np.ndarray:
    """The half-width of each window by adaptive conformal inference with delayed feedback.

    ``anchors`` (strictly increasing rows) and ``abs_errors`` name the windows in time order. Before
    window ``t`` is given its width, every window ``j`` with ``anchors[j] + delay_rows <=
    anchors[t]`` is known: its error joins the calibration set (which keeps the latest
    ``calibration_windows``) and ``alpha`` moves by ``adaptation_rate * ((1 - level) - miss_j)``.
    The width is the ``ceil((n + 1) * (1 - alpha))``-th smallest of the ``n`` errors in the set:
    0 when that rank is below 1, the largest when it is above ``n``, inf when ``n == 0`` (such a
    window teaches ``alpha`` nothing). With ``level=0.5``, ``delay_rows=2``,
    ``calibration_windows=3``, anchors ``0 1 2 3 4`` and errors ``5 1 4 2 3``::

        window 0, 1: nothing known                       width inf, inf
        window 2: knows [5]        rank ceil(2 * 0.5)=1  width 5
        window 3: knows [1 5]      rank ceil(3 * 0.5)=2  width 5
        window 4: knows [1 4 5]    rank ceil(4 * 0.5)=2  width 4

    (window 2's error 4 is inside its width 5, so from window 4 on ``alpha`` is ``0.5 + 0.5 *
    adaptation_rate``: the rank stays 2 for any ``adaptation_rate < 0.5``.)
    """
    anchors = np.asarray(anchors, dtype=np.int64).reshape(-1)
    errors = np.asarray(abs_errors, dtype=np.float64).reshape(-1)
    if anchors.size != errors.size:
        raise ValueError(f"{anchors.size} anchors but {errors.size} errors")
    if anchors.size > 1 and np.any(np.diff(anchors) <= 0):
        raise ValueError("anchors must be strictly increasing (windows in time order)")
    error_list = errors.tolist()
    # Window j's error is known to windows t >= known_from[j]; known_from is non-decreasing.
    known_from = np.searchsorted(anchors, anchors + delay_rows, side="left").tolist()
    target_miss = 1.0 - level
    alpha = target_miss
    calibration: list[float] = []  # the latest calibration_windows known errors, sorted
    widths: list[float] = []
    released = 0
    for t in range(len(error_list)):
        while released < t and known_from[released] <= t:
            error = error_list[released]
            insort(calibration, error)
            if released >= calibration_windows:  # the oldest known error leaves the window
                oldest = error_list[released - calibration_windows]
                del calibration[bisect_left(calibration, oldest)]
            width = widths[released]
            if width != math.inf:  # the whole line taught nothing
                alpha += adaptation_rate * (target_miss - (error > width))
            released += 1
        known = len(calibration)
        if not known:
            widths.append(math.inf)
            continue
        rank = math.ceil((known + 1) * (1.0 - alpha))
        widths.append(0.0 if rank <= 0 else calibration[min(rank, known) - 1])
    return np.asarray(widths, dtype=np.float64)


@dataclass(frozen=True)
class AdaptiveCalibration:
    """What adaptive conformal inference needs beyond the errors: each split's window anchors (rows,
    in time order, ``val`` before ``test``), the forecast delay in rows, how many of the latest
    known errors calibrate a width, and the step ``gamma`` of the miss-rate update."""

    anchors: dict[str, np.ndarray]
    delay_rows: int
    calibration_windows: int
    adaptation_rate: float


def adaptive_calibration(
    intervals: IntervalsConfig,
    anchors: dict[str, np.ndarray],
    delay_rows: int,
    minutes_per_row: int,
) -> AdaptiveCalibration | None:
    """What ``intervals.method`` needs besides the errors: None for ``split``. Windows are anchored
    at every valid row, so ``calibration_days`` holds ``calibration_days * rows per day`` windows
    (28 days of 10-minute rows: 4032)."""
    if intervals.method == "split":
        return None
    rows_per_day = MINUTES_PER_DAY / minutes_per_row
    return AdaptiveCalibration(
        anchors={split: anchors[split] for split in SPLITS},
        delay_rows=delay_rows,
        calibration_windows=max(1, round(intervals.calibration_days * rows_per_day)),
        adaptation_rate=intervals.adaptation_rate,
    )


def _abs_errors(
    forecasts: dict[str, np.ndarray], actuals: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    return {
        split: np.abs(
            np.asarray(forecasts[split], dtype=np.float64).reshape(-1)
            - np.asarray(actuals[split], dtype=np.float64).reshape(-1)
        )
        for split in SPLITS
    }


def half_widths(
    errors: dict[str, np.ndarray],
    levels: Sequence[float],
    adaptive: AdaptiveCalibration | None,
) -> dict[float, dict[str, np.ndarray]]:
    """Per level and split, the half-width of each window (normalized units) from the absolute
    ``errors`` of the ``val`` and ``test`` windows: split conformal when ``adaptive`` is None."""
    sizes = [errors[split].size for split in SPLITS]
    widths: dict[float, dict[str, np.ndarray]] = {}
    for level in levels:
        if adaptive is None:
            width = conformal_half_width(errors["val"], level)
            widths[level] = {
                split: np.full(size, width) for split, size in zip(SPLITS, sizes, strict=True)
            }
            continue
        online = adaptive_half_widths(
            np.concatenate([adaptive.anchors[split] for split in SPLITS]),
            np.concatenate([errors[split] for split in SPLITS]),
            level,
            delay_rows=adaptive.delay_rows,
            calibration_windows=adaptive.calibration_windows,
            adaptation_rate=adaptive.adaptation_rate,
        )
        widths[level] = dict(zip(SPLITS, np.split(online, [sizes[0]]), strict=True))
    return widths


def covered_indicators(
    forecasts: dict[str, np.ndarray],
    actuals: dict[str, np.ndarray],
    levels: Sequence[float],
    adaptive: AdaptiveCalibration | None = None,
) -> dict[str, dict[str, np.ndarray]]:
    """Per level key and split, 1.0 for each window whose actual lies inside its interval, else 0.0
    (their mean is the coverage; a block bootstrap of them gives its uncertainty)."""
    errors = _abs_errors(forecasts, actuals)
    widths = half_widths(errors, levels, adaptive)
    return {
        level_key(level): {
            split: (errors[split] <= widths[level][split]).astype(np.float64) for split in SPLITS
        }
        for level in levels
    }


def interval_record(
    forecasts: dict[str, np.ndarray],
    actuals: dict[str, np.ndarray],
    levels: Sequence[float],
    target_scale: float,
    adaptive: AdaptiveCalibration | None = None,
) -> dict[str, Any]:
    """Per level: the half-width in degC and the share of windows inside it per split.

    ``forecasts`` and ``actuals`` hold normalized 24 h forecasts and targets of the ``val`` and
    ``test`` windows; ``target_scale`` converts normalized units to degC. Split conformal (when
    ``adaptive`` is None) records its one width, from ``val``; adaptive records the mean width over
    the test windows.
    """
    errors = _abs_errors(forecasts, actuals)
    widths = half_widths(errors, levels, adaptive)
    record: dict[str, Any] = {}
    for level in levels:
        half_width = (
            conformal_half_width(errors["val"], level)
            if adaptive is None
            else float(np.mean(widths[level]["test"]))
        )
        record[level_key(level)] = {
            "level": level,
            "half_width_degc": round(half_width * target_scale, 6),
            **{
                f"{split}_coverage": round(float(np.mean(errors[split] <= widths[level][split])), 6)
                for split in SPLITS
            },
        }
    return record
