"""Load saved models safely and predict every window of a split."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from jena_forecast.data.windows import WindowSpec
from jena_forecast.evaluation.metrics import forecast_paths
from jena_forecast.models import anchored, residual  # noqa: F401  (register their layers for loading)
from jena_forecast.models.spec import ModelSpec
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.training.batches import OrderedWindowBatches
from jena_forecast.training.fit import model_window_spec


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


def predict_paths(
    model: keras.Model,
    model_spec: ModelSpec,
    data: np.ndarray,
    anchors: dict[str, np.ndarray],
    window_spec: WindowSpec,
    splits: tuple[str, ...] = ("val", "test"),
) -> dict[str, np.ndarray]:
    """Each split's forecast paths from "now", normalized: (windows, horizons), one column for a
    point model. Inputs are sampled at the model's own ``step_rows`` where it has one; the anchors,
    and so the windows scored, are the same for every model."""
    spec = model_window_spec(window_spec, model_spec)
    return {
        split: forecast_paths(predict_windows(model, data, anchors[split], spec))
        for split in splits
    }
