"""Load saved models safely and predict every window of a split."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from jena_forecast.data.windows import WindowSpec
from jena_forecast.errors import PipelineError
from jena_forecast.training.batches import OrderedWindowBatches


def load_model(path: Path) -> keras.Model:
    """Load a ``.keras`` model in safe mode (no arbitrary code from the file), without its optimizer."""
    if not path.is_file():
        raise PipelineError(f"{path}: model file not found; run its train stage first")
    try:
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except (ValueError, OSError) as error:
        raise PipelineError(f"{path}: cannot load the model: {error}") from error


PREDICT_BATCH_SIZE = 1024


def predict_windows(
    model: keras.Model,
    data: np.ndarray,
    anchors: np.ndarray,
    spec: WindowSpec,
    batch_size: int = PREDICT_BATCH_SIZE,
) -> np.ndarray:
    """Predictions for every window at ``anchors``, in order, the last partial batch included."""
    batches = OrderedWindowBatches(data, anchors, spec, batch_size)
    predicted = model.predict(batches, verbose=0)
    if len(predicted) != len(anchors):
        raise RuntimeError(f"predicted {len(predicted)} windows, expected {len(anchors)}")
    return np.asarray(predicted)
