"""Step baseline: the naive forecast's scores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jena_forecast.atomic import write_json
from jena_forecast.config import PipelineConfig
from jena_forecast.data.windows import naive_forecast
from jena_forecast.evaluate import split_metrics
from jena_forecast.steps.common import load_windows, window_spec


def baseline(
    config: PipelineConfig,
    array_path: Path,
    scaler_path: Path,
    anchors_path: Path,
    metrics_path: Path,
) -> dict[str, Any]:
    """Score the naive forecast (temperature now) on the val and test windows."""
    spec, scale = window_spec(config, scaler_path)
    data, anchors = load_windows(array_path, anchors_path)
    metrics: dict[str, Any] = {
        name: split_metrics(
            naive_forecast(data, anchors[name], spec), data, anchors[name], spec, scale
        )
        for name in ("val", "test")
    }
    metrics.update(config.data_record())
    write_json(metrics_path, metrics)
    return metrics
