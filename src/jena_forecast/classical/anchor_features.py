"""Features of the state at each window's anchor and of its recent change (``feature_set: anchor``).

Where ``window_features`` summarizes the whole lookback (174 columns with the project's params),
these describe "now" and the last hours to days, the information a 24 h forecast mostly rests on:

* every column at the anchor;
* the target 1, 3, 6, 12, 24, 48 and 72 hours before the anchor (those within ``lag_hours``);
* tendencies over 3, 12 and 24 hours (within ``lag_hours``) of the target and of
  ``tendency_columns`` (pressure, dew point and humidity by default): the value now minus then;
* the target's mean over the last 6, 24 and 72 hours (within ``lag_hours``), its minimum and
  maximum over the last ``recent_hours``;
* the wind vector (speed and maximum speed along the direction's cosine and sine), when
  ``wind_vector``: the direction in degrees is meaningless to a linear model;
* the clock: hour of day (two harmonics) and day of year (one) at the anchor. The target's time
  is the anchor's plus a fixed delay, so its clock adds nothing a model cannot learn from this.

Values are taken from the normalized array; the wind vector needs the speeds and the direction in
their units, which ``scaler_record`` gives back. Every feature uses rows at or before the anchor.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jena_forecast.classical.params import EstimatorParams
from jena_forecast.classical.window_features import WindowFeatures, check_reach, lagged
from jena_forecast.data.features import WIND_COLUMN_PATTERNS, wind_vector
from jena_forecast.data.windows import WindowSpec
from jena_forecast.plumbing.errors import PipelineError

LAG_HOURS = (1, 3, 6, 12, 24, 48, 72)
TENDENCY_HOURS = (3, 12, 24)
MEAN_HOURS = (6, 24, 72)
HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365.25


def clock(timestamps: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """The hour of day (with its fraction) and the day of year (with the day's fraction)."""
    hour = np.asarray(timestamps.hour + timestamps.minute / 60.0, dtype=np.float64)
    day = np.asarray(timestamps.day_of_year, dtype=np.float64) + hour / HOURS_PER_DAY
    return hour, day


def _wind(
    values: np.ndarray, columns: list[str], scaler_record: dict
) -> tuple[list[str], np.ndarray] | None:
    """The wind vector in m/s from the normalized speed, maximum speed and direction columns."""
    found = {}
    for param, pattern in WIND_COLUMN_PATTERNS.items():
        matches = [c for c in columns if pattern.fullmatch(c.strip())]
        if len(matches) != 1:
            return None
        found[param] = matches[0]

    def raw(name: str) -> pd.Series:
        stats = scaler_record["columns"][name]
        return pd.Series(values[:, columns.index(name)] * stats["scale"] + stats["mean"])

    vector = wind_vector(
        raw(found["wind_speed_column"]),
        raw(found["max_wind_speed_column"]),
        raw(found["wind_direction_column"]),
    )
    return [str(name) for name in vector.columns], vector.to_numpy(dtype=np.float64)


def anchor_features(
    data: np.ndarray,
    timestamps: pd.DatetimeIndex,
    columns: list[str],
    spec: WindowSpec,
    params: EstimatorParams,
    rows_per_hour: int,
    scaler_record: dict,
) -> WindowFeatures:
    """The anchor features of every row of ``data`` (rows, columns), float32; rows without the
    history a feature needs get NaN (valid windows never do, as ``lag_hours`` is within the
    lookback)."""
    check_reach(data, timestamps, spec, params, rows_per_hour)
    if params.recent_hours > params.lag_hours:
        raise ValueError("recent_hours is longer than lag_hours")
    values = np.asarray(data, dtype=np.float64)
    target = values[:, spec.target_index]
    target_name = columns[spec.target_index]
    missing = [name for name in params.tendency_columns if name not in columns]
    if missing:
        raise PipelineError(
            f"classical tendency_columns: {missing} are not columns of the data. "
            f"Columns: {', '.join(repr(c) for c in columns)}"
        )
    blocks: list[tuple[str, np.ndarray]] = [
        (f"{name} now", values[:, index]) for index, name in enumerate(columns)
    ]
    reach = params.lag_hours
    blocks += [
        (f"{target_name} {hours} h ago", lagged(target, hours * rows_per_hour))
        for hours in LAG_HOURS
        if hours <= reach
    ]
    for name in dict.fromkeys([target_name, *params.tendency_columns]):
        column = values[:, columns.index(name)]
        blocks += [
            (f"{name} change {hours} h", column - lagged(column, hours * rows_per_hour))
            for hours in TENDENCY_HOURS
            if hours <= reach
        ]
    series = pd.Series(target)
    blocks += [
        (f"{target_name} mean {hours} h", series.rolling(hours * rows_per_hour).mean().to_numpy())
        for hours in MEAN_HOURS
        if hours <= reach
    ]
    recent = series.rolling(params.recent_hours * rows_per_hour)
    blocks += [
        (f"{target_name} min {params.recent_hours} h", recent.min().to_numpy()),
        (f"{target_name} max {params.recent_hours} h", recent.max().to_numpy()),
    ]
    if params.wind_vector:
        wind = _wind(values, columns, scaler_record)
        if wind is None:
            raise PipelineError(
                "classical wind_vector: no wind speed, maximum speed and direction columns "
                f"found (such as 'wv (m/s)', 'max. wv (m/s)', 'wd (deg)'); set wind_vector: "
                f"false. Columns: {', '.join(repr(c) for c in columns)}"
            )
        names, vector = wind
        blocks += [(f"wind {name}", vector[:, index]) for index, name in enumerate(names)]
    hour, day = clock(timestamps)
    for harmonic in (1, 2):
        angle = 2 * np.pi * harmonic * hour / HOURS_PER_DAY
        blocks += [(f"hour sin {harmonic}", np.sin(angle)), (f"hour cos {harmonic}", np.cos(angle))]
    angle = 2 * np.pi * day / DAYS_PER_YEAR
    blocks += [("day of year sin", np.sin(angle)), ("day of year cos", np.cos(angle))]
    features = np.empty((values.shape[0], len(blocks)), dtype=np.float32)
    for index, (_, block) in enumerate(blocks):
        features[:, index] = block
    return WindowFeatures(features, [name for name, _ in blocks])
