"""Prediction intervals by split conformal prediction: widths from validation errors, coverage on test.

A point forecast ``f`` becomes the interval ``f ± w``, where ``w`` is the
``ceil((n + 1) * level)``-th smallest absolute error of the ``n`` validation windows. Were the
windows exchangeable, a new window would fall inside with probability at least ``level``; weather
windows are neither independent nor identically distributed (overlapping inputs, seasons), so the
test split's empirical coverage is what tells how well the width holds up, and it is recorded next
to the width. Nothing is fitted on the test split.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from jena_forecast.errors import PipelineError


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


def interval_record(
    forecasts: dict[str, np.ndarray],
    actuals: dict[str, np.ndarray],
    levels: Sequence[float],
    target_scale: float,
) -> dict[str, Any]:
    """Per level: the half-width in degC (from ``val``) and the share of windows inside it per split.

    ``forecasts`` and ``actuals`` hold normalized 24 h forecasts and targets of the ``val`` and
    ``test`` windows; ``target_scale`` converts normalized units to degC.
    """
    errors = {
        split: np.abs(
            np.asarray(forecasts[split], dtype=np.float64).reshape(-1)
            - np.asarray(actuals[split], dtype=np.float64).reshape(-1)
        )
        for split in ("val", "test")
    }
    record: dict[str, Any] = {}
    for level in levels:
        half_width = conformal_half_width(errors["val"], level)
        record[level_key(level)] = {
            "level": level,
            "half_width_degc": round(half_width * target_scale, 6),
            "val_coverage": round(float(np.mean(errors["val"] <= half_width)), 6),
            "test_coverage": round(float(np.mean(errors["test"] <= half_width)), 6),
        }
    return record
