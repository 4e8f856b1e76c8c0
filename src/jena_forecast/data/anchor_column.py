"""The anchor column an anchored network reads: its classical model's forecast change at every row.

Written by the ``anchor_column`` step of the anchored stages (``stages/anchor_column.py``), one
float32 value per row of the array it belongs to (fit, refit or deployment rows), and appended to
that array as its last column before the network sees it (``jena_forecast.models.anchored``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jena_forecast.plumbing.artifacts import load_array
from jena_forecast.plumbing.errors import PipelineError


def with_anchor_column(
    data: np.ndarray, column: np.ndarray, source: str = "anchor column"
) -> np.ndarray:
    """``data`` (rows, columns) with ``column`` (rows,) appended as its last column, in its dtype."""
    column = np.asarray(column)
    if column.shape != (data.shape[0],):
        raise PipelineError(
            f"{source}: {column.shape} values, expected one per row of the data ({data.shape[0]}); "
            "rerun the model's anchored stage"
        )
    if not np.isfinite(column).all():
        raise PipelineError(f"{source}: non-finite values; rerun the model's anchored stage")
    return np.concatenate([data, column[:, None].astype(data.dtype)], axis=1)


def model_data(
    data: np.ndarray, name: str, anchor: str | None, column_path: Path | None
) -> np.ndarray:
    """What model ``name`` reads: ``data``, with its anchor column where it is anchored."""
    if anchor is None:
        if column_path is not None:
            raise PipelineError(f"model {name!r} is not anchored; it takes no anchor column")
        return data
    if column_path is None:
        raise PipelineError(
            f"model {name!r} starts at {anchor!r}'s forecast: it needs its anchor column "
            "(--anchor-column-path); its stages are anchored@, refit_anchored@, deploy_anchored@"
        )
    return with_anchor_column(data, load_array(column_path), str(column_path))
