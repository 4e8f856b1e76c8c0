"""Split the regular table by time and standardize it with statistics of the training slice only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from jena_forecast.config import SplitConfig
from jena_forecast.errors import PipelineError

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
