"""Engineered input columns, added to the parsed table before the split and the scaler.

Every switch of ``features`` in params is off by default, and then the table is returned unchanged,
so the normalized array, and every model trained on it, stay exactly what they were.

* ``time_signals``: ``Day sin``, ``Day cos``, ``Year sin``, ``Year cos`` of each row's timestamp, as in
  the TensorFlow time-series tutorial: the seconds since 1970-01-01 00:00 (UTC-naive) through a sine
  and a cosine of period 1 day and 1 tropical year (365.2425 days).
* ``wind_vector``: wind speed and direction as a vector, as in the same tutorial: ``Wx``, ``Wy``
  from the wind speed and ``max Wx``, ``max Wy`` from the maximum wind speed, with the direction in
  degrees; the direction column is dropped (0 and 360 degrees are the same wind, a tree or a scaler
  sees them as far apart). The station's ``-9999`` speeds were already turned into missing values
  (and short runs filled) by the parse stage, so no sentinel reaches the vector.
* ``temperature_diffs``: for each lag, the target column minus its value ``lag`` rows earlier. A row
  without that history (the first ``lag`` rows, or rows after a gap) gets a missing value, and the
  windows stage never uses a window that touches a missing value.
* ``column_diffs``: the same for any column, by name: ``{"p (mbar)": [18, 72, 144]}`` is the
  pressure tendency over 3, 12 and 24 hours, a classic sign of the weather to come.

No statistic of any split is computed here: each new value depends only on its own row and, for the
differences, an earlier row. The scaler, fitted on the training rows only, comes later.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
from pydantic import (
    PositiveInt,
    StrictBool,
    field_validator,
)

from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.params import Frozen


class FeaturesConfig(Frozen):
    """Columns the ``features`` stage adds to the parsed table; with every switch off it is unchanged."""

    time_signals: StrictBool
    wind_vector: StrictBool
    wind_speed_column: str | None
    max_wind_speed_column: str | None
    wind_direction_column: str | None
    temperature_diffs: tuple[PositiveInt, ...]
    column_diffs: dict[str, tuple[PositiveInt, ...]]

    @field_validator(
        "wind_speed_column", "max_wind_speed_column", "wind_direction_column", mode="before"
    )
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("temperature_diffs", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return () if value is None else value

    @field_validator("temperature_diffs")
    @classmethod
    def _lags_are_distinct(cls, lags: tuple[int, ...]) -> tuple[int, ...]:
        if len(set(lags)) != len(lags):
            raise ValueError("must not repeat a lag")
        return lags

    @field_validator("column_diffs", mode="before")
    @classmethod
    def _none_is_no_column(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("column_diffs")
    @classmethod
    def _named_columns_with_distinct_lags(
        cls, diffs: dict[str, tuple[int, ...]]
    ) -> dict[str, tuple[int, ...]]:
        for column, lags in diffs.items():
            if not column.strip():
                raise ValueError("a column name must not be empty")
            if not lags or len(set(lags)) != len(lags):
                raise ValueError(f"{column!r}: give distinct lags, e.g. [18, 72, 144]")
        return diffs

    @property
    def enabled(self) -> bool:
        return (
            self.time_signals
            or self.wind_vector
            or bool(self.temperature_diffs)
            or bool(self.column_diffs)
        )

    @property
    def history_rows(self) -> int:
        """How many rows before a window's first one its differences reach back."""
        lags = [
            *self.temperature_diffs,
            *(lag for lags in self.column_diffs.values() for lag in lags),
        ]
        return max(lags, default=0)

    def describe(self) -> str:
        """``none``, or the switches that are on:
        ``time_signals+wind_vector+temperature_diffs=6,36+column_diffs=p (mbar):18,144``."""
        names = [name for name in ("time_signals", "wind_vector") if getattr(self, name)]
        if self.temperature_diffs:
            names.append("temperature_diffs=" + ",".join(map(str, self.temperature_diffs)))
        if self.column_diffs:
            names.append(
                "column_diffs="
                + ";".join(
                    f"{c}:{','.join(map(str, lags))}" for c, lags in self.column_diffs.items()
                )
            )
        return "+".join(names) or "none"


SECONDS_PER_DAY = 24 * 60 * 60
SECONDS_PER_YEAR = 365.2425 * SECONDS_PER_DAY
TIME_SIGNAL_COLUMNS = ("Day sin", "Day cos", "Year sin", "Year cos")
WIND_VECTOR_COLUMNS = ("Wx", "Wy", "max Wx", "max Wy")
# The station's names, up to the unit in parentheses: "wv (m/s)", "max. wv (m/s)", "wd (deg)".
WIND_COLUMN_PATTERNS = {
    "wind_speed_column": re.compile(r"wv\s*(\(.*\))?"),
    "max_wind_speed_column": re.compile(r"max\.?\s*wv\s*(\(.*\))?"),
    "wind_direction_column": re.compile(r"wd\s*(\(.*\))?"),
}


def time_signals(timestamps: pd.DatetimeIndex) -> pd.DataFrame:
    """Day and year sine and cosine of each timestamp (float64), indexed like ``timestamps``."""
    seconds = (timestamps - pd.Timestamp("1970-01-01")) / pd.Timedelta(seconds=1)
    seconds = np.asarray(seconds, dtype=np.float64)
    day = 2 * np.pi * seconds / SECONDS_PER_DAY
    year = 2 * np.pi * seconds / SECONDS_PER_YEAR
    signals = [np.sin(day), np.cos(day), np.sin(year), np.cos(year)]
    return pd.DataFrame(dict(zip(TIME_SIGNAL_COLUMNS, signals, strict=True)), index=timestamps)


def wind_columns(config: FeaturesConfig, columns: list[str], source: str) -> dict[str, str]:
    """The wind speed, maximum speed and direction columns: from params, or found in the header."""
    found = {}
    for param, pattern in WIND_COLUMN_PATTERNS.items():
        named = getattr(config, param)
        if named is not None:
            if named not in columns:
                raise PipelineError(
                    f"features.{param}: {named!r} is not a column of {source}. "
                    f"Columns: {', '.join(repr(c) for c in columns)}"
                )
            found[param] = named
            continue
        matches = [column for column in columns if pattern.fullmatch(column.strip())]
        if len(matches) != 1:
            what = "no column" if not matches else f"{len(matches)} columns ({matches})"
            raise PipelineError(
                f"features.wind_vector: {what} of {source} looks like the {param.replace('_', ' ')} "
                f"(expected a name such as {pattern.pattern!r}); name it with features.{param}. "
                f"Columns: {', '.join(repr(c) for c in columns)}"
            )
        found[param] = matches[0]
    return found


def wind_vector(speed: pd.Series, max_speed: pd.Series, direction_deg: pd.Series) -> pd.DataFrame:
    """``Wx``, ``Wy``, ``max Wx``, ``max Wy``: the speeds along the cosine and sine of the direction."""
    radians = np.deg2rad(direction_deg.to_numpy(dtype=np.float64))
    speed_values = speed.to_numpy(dtype=np.float64)
    max_values = max_speed.to_numpy(dtype=np.float64)
    return pd.DataFrame(
        {
            "Wx": speed_values * np.cos(radians),
            "Wy": speed_values * np.sin(radians),
            "max Wx": max_values * np.cos(radians),
            "max Wy": max_values * np.sin(radians),
        },
        index=speed.index,
    )


def diff_column(target_column: str, lag_rows: int) -> str:
    """The name of the target's difference over ``lag_rows`` rows."""
    return f"{target_column} diff {lag_rows} rows"


def row_diffs(target: pd.Series, lags_rows: tuple[int, ...]) -> pd.DataFrame:
    """For each lag, ``target`` minus its value ``lag`` rows earlier; missing without that history."""
    values = target.to_numpy(dtype=np.float64)
    columns = {}
    for lag in lags_rows:
        diff = np.full(values.shape, np.nan)
        diff[lag:] = values[lag:] - values[:-lag]
        columns[diff_column(str(target.name), lag)] = diff
    return pd.DataFrame(columns, index=target.index)


def add_features(
    table: pd.DataFrame, config: FeaturesConfig, target_column: str, source: str
) -> pd.DataFrame:
    """``table`` with the engineered columns of ``config`` (float32 like the table); itself if none."""
    if not config.enabled:
        return table
    if target_column not in table.columns:
        raise PipelineError(
            f"windows.target_column: {target_column!r} is not a column of {source}. "
            f"Columns: {', '.join(repr(c) for c in table.columns)}"
        )
    added: list[pd.DataFrame] = []
    dropped: list[str] = []
    if config.time_signals:
        added.append(time_signals(pd.DatetimeIndex(table.index)))
    if config.wind_vector:
        names = wind_columns(config, [str(c) for c in table.columns], source)
        direction = names["wind_direction_column"]
        if direction == target_column:
            raise PipelineError(
                f"features.wind_vector would drop the target column {target_column!r}"
            )
        added.append(
            wind_vector(
                table[names["wind_speed_column"]],
                table[names["max_wind_speed_column"]],
                table[direction],
            )
        )
        dropped.append(direction)
    if config.temperature_diffs:
        added.append(row_diffs(table[target_column], config.temperature_diffs))
    for column, lags in config.column_diffs.items():
        if column not in table.columns:
            raise PipelineError(
                f"features.column_diffs: {column!r} is not a column of {source}. "
                f"Columns: {', '.join(repr(c) for c in table.columns)}"
            )
        added.append(row_diffs(table[column], lags))
    extra = pd.concat(added, axis=1)
    repeated = sorted({str(c) for c in extra.columns if list(extra.columns).count(c) > 1})
    if repeated:
        raise PipelineError(
            f"features: {repeated} would be added twice (temperature_diffs and column_diffs "
            "name the same difference); keep it in one of them"
        )
    clashes = sorted(set(map(str, extra.columns)) & set(map(str, table.columns)))
    if clashes:
        raise PipelineError(
            f"features: {source} already has columns named {clashes}; rename them in the file "
            "or turn off the feature that adds them"
        )
    result = pd.concat([table.drop(columns=dropped), extra.astype(np.float32)], axis=1)
    result.index.name = table.index.name
    return result
