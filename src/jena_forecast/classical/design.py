"""The features a classical model sees for every row: ``params.feature_set`` picks the family;
damped persistence has its own."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from jena_forecast.classical.anchor_features import anchor_features
from jena_forecast.classical.damped_persistence import persistence_features
from jena_forecast.classical.params import DampedPersistenceParams, EstimatorParams
from jena_forecast.classical.window_features import WindowFeatures, window_features
from jena_forecast.data.windows import WindowSpec


def classical_features(
    data: np.ndarray,
    timestamps: pd.DatetimeIndex,
    scaler_record: dict[str, Any],
    spec: WindowSpec,
    params: EstimatorParams,
    rows_per_hour: int,
) -> WindowFeatures:
    """``window_features`` or ``anchor_features`` of the normalized ``data`` (its columns and
    their training statistics in ``scaler_record``), one row of features per row of data."""
    columns = list(scaler_record["columns"])
    if isinstance(params, DampedPersistenceParams):
        return persistence_features(data, timestamps, spec, rows_per_hour)
    if params.feature_set == "anchor":
        return anchor_features(
            data, timestamps, columns, spec, params, rows_per_hour, scaler_record
        )
    return window_features(data, timestamps, columns, spec, params, rows_per_hour)
