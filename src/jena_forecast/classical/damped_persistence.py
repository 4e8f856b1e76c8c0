"""Damped persistence toward a climatology: the strong statistical baseline of a 24 h forecast.

The target's climatology ``c(day of year, hour)`` is a least-squares fit on the training windows of
products of day-of-year and hour-of-day harmonics. The forecast for the target time ``t + delay`` is

    c(t + delay) + phi[season, hour] * (T(t) - c(t))

the climatology there plus today's anomaly, damped by a factor fitted per season and hour of day
(of the anchor) on the training windows (least squares of the anomaly at the target on the anomaly
now). ``phi = 1`` is persistence of the anomaly, close to the naive forecast; ``phi = 0`` is the
climatology. Like every classical model it is fitted on the change of the target (its forecast
minus naive), and it is seeded by nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from jena_forecast.classical.anchor_features import DAYS_PER_YEAR, HOURS_PER_DAY, clock
from jena_forecast.classical.window_features import WindowFeatures
from jena_forecast.data.windows import WindowSpec

FEATURE_NAMES = ["target now", "hour", "day of year", "target hour", "target day of year"]
SEASON_START_DAY = 335.0  # 1 December (day 335 of a common year): winter is Dec-Feb
MIN_GROUP_WINDOWS = 30  # a smaller season-and-hour group takes the factor of all windows


def persistence_features(
    data: np.ndarray, timestamps: pd.DatetimeIndex, spec: WindowSpec, rows_per_hour: int
) -> WindowFeatures:
    """Per row: the target, and the hour and day of year of the row and of its target time."""
    if data.shape[0] != len(timestamps):
        raise ValueError(f"data has {data.shape[0]} rows, timestamps {len(timestamps)}")
    hour, day = clock(timestamps)
    later = timestamps + pd.Timedelta(hours=spec.delay_rows / rows_per_hour)
    target_hour, target_day = clock(pd.DatetimeIndex(later))
    values = np.stack(
        [data[:, spec.target_index].astype(np.float64), hour, day, target_hour, target_day], axis=1
    )
    return WindowFeatures(values.astype(np.float32), list(FEATURE_NAMES))


class DampedPersistence:
    """``fit(features, change)`` / ``predict(features) -> change`` on ``persistence_features``."""

    def __init__(self, year_harmonics: int = 2, day_harmonics: int = 2, seasons: int = 4) -> None:
        self.year_harmonics = year_harmonics
        self.day_harmonics = day_harmonics
        self.seasons = seasons

    def basis(self, hour: np.ndarray, day: np.ndarray) -> np.ndarray:
        """The climatology's regressors: every day-of-year harmonic times every hour harmonic."""
        yearly = [np.ones_like(day)]
        for k in range(1, self.year_harmonics + 1):
            angle = 2 * np.pi * k * day / DAYS_PER_YEAR
            yearly += [np.sin(angle), np.cos(angle)]
        daily = [np.ones_like(hour)]
        for k in range(1, self.day_harmonics + 1):
            angle = 2 * np.pi * k * hour / HOURS_PER_DAY
            daily += [np.sin(angle), np.cos(angle)]
        return np.stack([a * b for a in yearly for b in daily], axis=1)

    def season_hour_groups(self, hour: np.ndarray, day: np.ndarray) -> np.ndarray:
        """The group of each row: its season (from 1 December) times 24 plus its hour of day."""
        shifted = np.mod(day - SEASON_START_DAY, DAYS_PER_YEAR) / DAYS_PER_YEAR
        season = np.minimum((shifted * self.seasons).astype(np.int64), self.seasons - 1)
        return season * int(HOURS_PER_DAY) + np.minimum(hour.astype(np.int64), 23)

    def _anomalies(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        now = x[:, 0] - self.basis(x[:, 1], x[:, 2]) @ self.climatology_
        return now, self.basis(x[:, 3], x[:, 4]) @ self.climatology_

    def fit(self, features: np.ndarray, change: np.ndarray) -> DampedPersistence:
        x = np.asarray(features, dtype=np.float64)
        target = x[:, 0] + np.asarray(change, dtype=np.float64).reshape(-1)
        self.climatology_, *_ = np.linalg.lstsq(self.basis(x[:, 1], x[:, 2]), x[:, 0], rcond=None)
        now, target_climatology = self._anomalies(x)
        later = target - target_climatology
        overall = float(np.sum(now * later) / np.sum(now * now))
        groups = self.season_hour_groups(x[:, 1], x[:, 2])
        factors = np.full(self.seasons * int(HOURS_PER_DAY), overall)
        for group in np.unique(groups):
            members = groups == group
            if members.sum() >= MIN_GROUP_WINDOWS:
                factors[group] = np.sum(now[members] * later[members]) / np.sum(now[members] ** 2)
        self.damping_ = factors
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        x = np.asarray(features, dtype=np.float64)
        now, target_climatology = self._anomalies(x)
        factor = self.damping_[self.season_hour_groups(x[:, 1], x[:, 2])]
        return target_climatology + factor * now - x[:, 0]

    def record(self) -> dict[str, Any]:
        """What the fit chose: the damping factors' range and mean, its parameter count."""
        return {
            "damping_min": round(float(self.damping_.min()), 4),
            "damping_mean": round(float(self.damping_.mean()), 4),
            "damping_max": round(float(self.damping_.max()), 4),
            "parameters": int(self.climatology_.size + self.damping_.size),
            "seed_dependent": False,
        }
