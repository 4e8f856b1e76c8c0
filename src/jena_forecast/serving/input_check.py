"""The latest window of an export checked against what the model knows: the range of each column
in the training slice, and physical limits. A forecast from inputs far outside both is an
extrapolation the model was never shown (a Fahrenheit export read as Celsius gives "538 degC"),
so the forecast command refuses it, naming the column, the rows and the range seen in training.

The margin is in the column's training standard deviations (the scaler's ``scale``): with
``margin_std = 1``, ``T (degC)`` trained on -22.8 to 35.6 degC (scale 8.6) accepts -31.4 to
44.2 degC. Physical limits hold for the station's named columns whatever the margin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# Outside these no reading of the Jena station's columns is physical (degC, mbar, %, K).
PHYSICAL_LIMITS = {
    "p (mbar)": (800.0, 1100.0),
    "T (degC)": (-60.0, 60.0),
    "Tpot (K)": (210.0, 340.0),
    "Tdew (degC)": (-80.0, 40.0),
    "rh (%)": (0.0, 100.5),
}


def training_ranges(
    data: np.ndarray, scaler: dict, rows: tuple[int, int]
) -> dict[str, dict[str, float]]:
    """Per scaler column, the minimum and maximum over the training ``rows`` [start, end) of the
    normalized ``data``, in the column's own units."""
    start, end = rows
    ranges = {}
    for index, (column, stats) in enumerate(scaler["columns"].items()):
        values = data[start:end, index].astype(np.float64) * stats["scale"] + stats["mean"]
        ranges[column] = {
            "min": round(float(np.nanmin(values)), 6),
            "max": round(float(np.nanmax(values)), 6),
        }
    return ranges


@dataclass(frozen=True)
class OutOfRange:
    """A column of the latest window outside what the model knows."""

    column: str
    rows: int  # how many rows of the window
    first: pd.Timestamp
    last: pd.Timestamp
    low: float
    high: float  # the window's values there
    accepted: tuple[float, float]  # the training range widened by the margin, within the limits
    trained: tuple[float, float]

    def describe(self, source: str, where: str = "the latest window") -> str:
        return (
            f"{source}: {self.column!r} is {self.low:g} to {self.high:g} in {self.rows} rows of "
            f"{where} ({self.first} to {self.last}); the model was trained on "
            f"{self.trained[0]:g} to {self.trained[1]:g} and accepts {self.accepted[0]:g} to "
            f"{self.accepted[1]:g}"
        )


def record_out_of_range(
    data: np.ndarray,
    timestamps: pd.DatetimeIndex,
    scaler: dict,
    ranges: dict[str, dict[str, float]],
    margin_std: float,
) -> list[OutOfRange]:
    """``out_of_range`` of normalized ``data`` (rows, scaler columns), in the columns' own units."""
    stats = scaler["columns"]
    columns = list(stats)
    mean = np.array([stats[name]["mean"] for name in columns])
    scale = np.array([stats[name]["scale"] for name in columns])
    return out_of_range(
        data.astype(np.float64) * scale + mean,
        timestamps,
        columns,
        ranges,
        {name: float(stats[name]["scale"]) for name in columns},
        margin_std,
    )


def out_of_range(
    values: np.ndarray,
    timestamps: pd.DatetimeIndex,
    columns: list[str],
    ranges: dict[str, dict[str, float]],
    scales: dict[str, float],
    margin_std: float,
) -> list[OutOfRange]:
    """The columns of ``values`` (rows, columns; in their own units) with rows outside the training
    range widened by ``margin_std`` of the column's scale, or outside ``PHYSICAL_LIMITS``."""
    found = []
    for index, column in enumerate(columns):
        if column not in ranges:
            continue
        trained = (ranges[column]["min"], ranges[column]["max"])
        low = trained[0] - margin_std * scales[column]
        high = trained[1] + margin_std * scales[column]
        if column in PHYSICAL_LIMITS:
            low = max(low, PHYSICAL_LIMITS[column][0])
            high = min(high, PHYSICAL_LIMITS[column][1])
        series = values[:, index]
        outside = np.flatnonzero((series < low) | (series > high))
        if outside.size:
            found.append(
                OutOfRange(
                    column=column,
                    rows=int(outside.size),
                    first=timestamps[outside[0]],
                    last=timestamps[outside[-1]],
                    low=round(float(series[outside].min()), 2),
                    high=round(float(series[outside].max()), 2),
                    accepted=(round(low, 2), round(high, 2)),
                    trained=(round(trained[0], 2), round(trained[1], 2)),
                )
            )
    return found
