"""Engineered features of each supervised window, for estimators that take a flat row per window.

A window is the same as for the deep models (see ``jena_forecast.data.windows``): named by its anchor,
covering the ``lookback_rows`` rows ending at it. Its features, all computed from those rows only:

* the last value (at the anchor) of every column;
* the target column at every whole hour back, 1 to ``lag_hours`` hours before the anchor;
* the mean, minimum and maximum of every column over the last ``recent_hours`` hours and over the
  whole lookback;
* the time of day and of year of the anchor as sines and cosines.

Nothing loops over windows: the rolling statistics are computed once for every row of the array
(the statistics of the window that would end there) and gathered at the anchors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from jena_forecast.classical.params import EstimatorParams
from jena_forecast.data.features import time_signals
from jena_forecast.data.windows import WindowSpec

ROLLING_STATISTICS = ("mean", "min", "max")


@dataclass(frozen=True)
class WindowFeatures:
    """Per-row features of the window ending at that row; ``values[anchors]`` is the design matrix."""

    values: np.ndarray
    names: list[str]

    def at(self, anchors: np.ndarray) -> np.ndarray:
        """The (windows, features) matrix of the windows at ``anchors``."""
        return self.values[np.asarray(anchors, dtype=np.int64)]


def lagged(column: np.ndarray, lag_rows: int) -> np.ndarray:
    """``column`` shifted ``lag_rows`` rows later: row r holds row r - lag_rows (NaN before)."""
    lagged = np.full(column.shape, np.nan, dtype=np.float64)
    lagged[lag_rows:] = column[: column.shape[0] - lag_rows]
    return lagged


def check_reach(
    data: np.ndarray,
    timestamps: pd.DatetimeIndex,
    spec: WindowSpec,
    params: EstimatorParams,
    rows_per_hour: int,
) -> None:
    """One timestamp per row of ``data``, and ``lag_hours`` within the window's lookback."""
    if data.shape[0] != len(timestamps):
        raise ValueError(f"data has {data.shape[0]} rows, timestamps {len(timestamps)}")
    if params.lag_hours * rows_per_hour >= spec.lookback_rows:
        raise ValueError("lag_hours reaches beyond the lookback")


def window_features(
    data: np.ndarray,
    timestamps: pd.DatetimeIndex,
    columns: list[str],
    spec: WindowSpec,
    params: EstimatorParams,
    rows_per_hour: int,
) -> WindowFeatures:
    """The features of the window ending at each row of ``data`` (rows, columns), float32.

    Rows too early for a full lookback, or whose lookback touches a missing value, get missing
    features; valid windows (see ``window_anchors``) never do.
    """
    check_reach(data, timestamps, spec, params, rows_per_hour)
    if params.recent_hours * rows_per_hour > spec.lookback_rows:
        raise ValueError("recent_hours is longer than the lookback")
    values = np.asarray(data, dtype=np.float64)
    target = values[:, spec.target_index]
    target_name = columns[spec.target_index]
    widths = (
        (f"last {params.recent_hours} h", params.recent_hours * rows_per_hour),
        ("lookback", spec.lookback_rows),
    )
    clock = time_signals(timestamps)
    names = [f"{column} last" for column in columns]
    names += [f"{target_name} {hours} h ago" for hours in range(1, params.lag_hours + 1)]
    for label, _ in widths:
        for statistic in ROLLING_STATISTICS:
            names += [f"{column} {statistic} {label}" for column in columns]
    names += [f"anchor {name}" for name in clock.columns]
    # Filled block by block into one float32 array: no float64 copy of the whole matrix.
    features = np.empty((values.shape[0], len(names)), dtype=np.float32)
    column = 0

    def put(block: np.ndarray) -> None:
        nonlocal column
        block = block.reshape(values.shape[0], -1)
        features[:, column : column + block.shape[1]] = block
        column += block.shape[1]

    put(values)
    for hours in range(1, params.lag_hours + 1):
        put(lagged(target, hours * rows_per_hour))
    frame = pd.DataFrame(values)
    for _, width in widths:
        rolling = frame.rolling(width, min_periods=width)
        for statistic in ROLLING_STATISTICS:
            put(getattr(rolling, statistic)().to_numpy(dtype=np.float64))
    put(clock.to_numpy(dtype=np.float64))
    assert column == len(names)
    return WindowFeatures(features, names)
