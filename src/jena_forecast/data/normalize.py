"""Split the regular table by time and standardize it with statistics of the training slice only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import (
    StrictFloat,
    StrictInt,
    field_validator,
)
from sklearn.preprocessing import StandardScaler

from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.params import Frozen

SPLIT_PRESETS: dict[str, tuple[float | int, float | int]] = {
    # Deep Learning with Python, 2nd/3rd edition: 50% / 25% / 25% of the rows.
    "dlwp2": (0.5, 0.75),
    # Deep Learning with Python, 1st edition: rows [0, 200000), [200000, 300000), [300000, end).
    "dlwp1": (200_000, 300_000),
}


class SplitConfig(Frozen):
    """Time split boundaries: a named preset, or ``custom`` with fractions (floats) or rows (ints)."""

    preset: Literal["dlwp2", "dlwp1", "custom"]
    train_end: StrictInt | StrictFloat | None
    val_end: StrictInt | StrictFloat | None

    @field_validator("train_end", "val_end")
    @classmethod
    def _boundary_in_range(cls, value: int | float | None) -> int | float | None:
        if isinstance(value, float) and not 0.0 < value < 1.0:
            raise ValueError("must be in (0, 1) when given as a fraction")
        if isinstance(value, int) and value <= 0:
            raise ValueError("must be a positive row number when given as an integer")
        return value

    def boundaries(self) -> tuple[float | int, float | int]:
        """The (train_end, val_end) pair this config names."""
        if self.preset == "custom":
            assert self.train_end is not None and self.val_end is not None
            return self.train_end, self.val_end
        return SPLIT_PRESETS[self.preset]

    def describe(self) -> str:
        """The preset's name, or ``custom train_end=... val_end=...``."""
        if self.preset == "custom":
            return f"custom train_end={self.train_end} val_end={self.val_end}"
        return self.preset

    @classmethod
    def check(cls, raw: dict[str, Any], values: dict[str, Any], problems: list[str]) -> None:
        """Custom boundaries only with ``preset: custom``, both given, in order."""
        _check_split(raw.get("split"), values.get("split"), problems)


def _check_split(raw: Any, split: SplitConfig | None, problems: list[str]) -> None:
    raw = raw if isinstance(raw, dict) else {}
    preset = raw.get("preset", "dlwp2")
    given = [key for key in ("train_end", "val_end") if raw.get(key) is not None]
    if preset == "custom":
        for key in sorted({"train_end", "val_end"} - set(given)):
            problems.append(f"split.{key}: required when split.preset=custom")
        if split is not None and len(given) == 2:
            train_end, val_end = split.boundaries()
            if type(train_end) is type(val_end) and train_end >= val_end:
                problems.append(
                    "split.train_end must be before split.val_end. "
                    f"Received: split.train_end={train_end}, split.val_end={val_end}"
                )
    elif preset in SPLIT_PRESETS:
        for key in given:
            problems.append(
                f"split.{key}: only used with split.preset=custom; "
                f"remove it or set split.preset=custom. Received: split.preset={preset}"
            )


SPLIT_NAMES = ("train", "val", "test")


@dataclass(frozen=True)
class SplitBounds:
    """Half-open row ranges [start, end) of each split, in time order."""

    train: tuple[int, int]
    val: tuple[int, int]
    test: tuple[int, int]

    def __getitem__(self, name: str) -> tuple[int, int]:
        return {"train": self.train, "val": self.val, "test": self.test}[name]

    def to_dict(self) -> dict[str, list[int]]:
        return {name: list(self[name]) for name in SPLIT_NAMES}

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> SplitBounds:
        return cls(**{name: (int(payload[name][0]), int(payload[name][1])) for name in SPLIT_NAMES})


def _boundary_row(value: int | float, n_rows: int) -> int:
    return int(np.floor(value * n_rows)) if isinstance(value, float) else int(value)


def resolve_split(config: SplitConfig, n_rows: int, source: str) -> SplitBounds:
    """Turn the configured boundaries into row ranges; refuse boundaries that do not fit ``n_rows``."""
    train_end_param, val_end_param = config.boundaries()
    train_end = _boundary_row(train_end_param, n_rows)
    val_end = _boundary_row(val_end_param, n_rows)
    named = f"split.preset={config.preset}: " if config.preset != "custom" else ""
    for key, row in (("train_end", train_end), ("val_end", val_end)):
        if row >= n_rows:
            raise PipelineError(
                f"{named}split.{key}={row} does not fit the {n_rows} rows of {source}; "
                "it must leave rows for the later splits (fractions such as split.preset=dlwp2 always fit)"
            )
    if not 0 < train_end < val_end:
        raise PipelineError(
            f"{named}the splits must be non-empty and in time order: train [0, {train_end}), "
            f"val [{train_end}, {val_end}), test [{val_end}, {n_rows}) of {source}"
        )
    return SplitBounds(train=(0, train_end), val=(train_end, val_end), test=(val_end, n_rows))


def fit_scaler(values: np.ndarray, bounds: SplitBounds) -> StandardScaler:
    """Fit a StandardScaler on the training rows only; missing values are ignored in the fit."""
    start, end = bounds.train
    scaler = StandardScaler()
    scaler.fit(values[start:end].astype(np.float64))
    return scaler


def scaler_to_dict(
    scaler: StandardScaler, columns: list[str], bounds: SplitBounds
) -> dict[str, Any]:
    """A human-readable record of the scaler: per column mean and scale, and the rows it saw."""
    return {
        "kind": "sklearn.preprocessing.StandardScaler",
        "fitted_on": "train",
        "fitted_rows": list(bounds.train),
        "columns": {
            column: {"mean": float(mean), "scale": float(scale)}
            for column, mean, scale in zip(columns, scaler.mean_, scaler.scale_, strict=True)
        },
    }


def column_stats(scaler_record: dict[str, Any], column: str, source: str) -> tuple[float, float]:
    """(mean, scale) of ``column`` in a saved scaler record."""
    columns = scaler_record["columns"]
    if column not in columns:
        raise PipelineError(
            f"windows.target_column: {column!r} is not a column of the data ({source}). "
            f"Columns: {', '.join(repr(name) for name in columns)}"
        )
    stats = columns[column]
    return float(stats["mean"]), float(stats["scale"])


def normalize_table(
    table: pd.DataFrame, config: SplitConfig, source: str
) -> tuple[np.ndarray, SplitBounds, dict[str, Any]]:
    """Split ``table`` by time, fit the scaler on the training slice, return the float32 normalized array."""
    values = table.to_numpy(dtype=np.float64)
    bounds = resolve_split(config, len(values), source)
    scaler = fit_scaler(values, bounds)
    normalized = scaler.transform(values).astype(np.float32)
    record = scaler_to_dict(scaler, [str(column) for column in table.columns], bounds)
    return normalized, bounds, record
