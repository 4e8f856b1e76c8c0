"""The rows a refit learns from, normalized with their own statistics: training + validation for
the refit scored on test, every row of the record for the deployment fit.

The test rows and windows are the pipeline's, so a refit is scored on exactly the windows of the
fit on training alone, and no statistic of the test rows enters its scaler.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from jena_forecast.data.normalize import SplitBounds
from jena_forecast.data.windows import WindowSpec, window_anchors
from jena_forecast.plumbing.errors import PipelineError

FITTED_ON = "train+val"
DEPLOYMENT = "all rows"


def refit_scaler(values: np.ndarray, end: int) -> StandardScaler:
    """A StandardScaler fitted on rows [0, ``end``) (missing values ignored, as the pipeline's)."""
    return StandardScaler().fit(values[:end].astype(np.float64))


def _normalized(table: pd.DataFrame, end: int, fitted_on: str) -> tuple[np.ndarray, dict[str, Any]]:
    values = table.to_numpy(dtype=np.float64)
    scaler = refit_scaler(values, end)
    record = {
        "kind": "sklearn.preprocessing.StandardScaler",
        "fitted_on": fitted_on,
        "fitted_rows": [0, end],
        "columns": {
            str(column): {"mean": float(mean), "scale": float(scale)}
            for column, mean, scale in zip(table.columns, scaler.mean_, scaler.scale_, strict=True)
        },
    }
    return scaler.transform(values).astype(np.float32), record


def refit_arrays(
    table: pd.DataFrame,
    bounds: SplitBounds,
    spec: WindowSpec,
    test_anchors: np.ndarray,
) -> tuple[np.ndarray, dict[str, Any], dict[str, np.ndarray]]:
    """The float32 array normalized with the statistics of the training and validation rows, its
    scaler record, and the anchors: ``train`` every valid window wholly before the test rows (the
    validation windows, and those across the train/val boundary, included), ``test`` the
    pipeline's own test windows."""
    end = bounds.val[1]
    if len(table) != bounds.test[1]:
        raise PipelineError(
            f"the table has {len(table)} rows, the split {bounds.test[1]}; rerun the normalize stage"
        )
    normalized, record = _normalized(table, end, FITTED_ON)
    valid_rows = ~np.isnan(normalized).any(axis=1)
    anchors = {
        "train": window_anchors(valid_rows, 0, end, spec),
        "test": np.asarray(test_anchors, dtype=np.int64),
    }
    if anchors["test"].size and anchors["test"].min() - spec.lookback_rows + 1 < end:
        raise PipelineError("the test windows start before the test rows; rerun the windows stage")
    return normalized, record, anchors


def deployment_arrays(
    table: pd.DataFrame, spec: WindowSpec
) -> tuple[np.ndarray, dict[str, Any], dict[str, np.ndarray]]:
    """Every row normalized with the statistics of every row, its scaler record, and the anchors
    of every valid window (``train``): what the deployment fit learns from."""
    normalized, record = _normalized(table, len(table), DEPLOYMENT)
    valid_rows = ~np.isnan(normalized).any(axis=1)
    return normalized, record, {"train": window_anchors(valid_rows, 0, len(table), spec)}
