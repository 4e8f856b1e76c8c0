"""A fitted classical model's forecast of the target's change at every row of an array."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from jena_forecast.classical.design import classical_features
from jena_forecast.classical.params import EstimatorParams
from jena_forecast.data.windows import WindowSpec


def row_changes(
    estimator: Any,
    data: np.ndarray,
    timestamps: pd.DatetimeIndex,
    scaler_record: dict[str, Any],
    spec: WindowSpec,
    params: EstimatorParams,
    rows_per_hour: int,
) -> np.ndarray:
    """``estimator``'s forecast change (normalized units of ``data``'s target) of the window
    anchored at each row, float32; 0 where a row lacks the history its features need."""
    features = classical_features(data, timestamps, scaler_record, spec, params, rows_per_hour)
    known = ~np.isnan(features.values).any(axis=1)
    changes = np.zeros(len(data), dtype=np.float32)
    if known.any():
        predicted = estimator.predict(features.values[known].astype(np.float64))
        changes[known] = np.asarray(predicted, dtype=np.float64).reshape(-1)
    return changes
