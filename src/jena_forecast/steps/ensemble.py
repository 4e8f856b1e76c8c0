"""Step ensemble: the mean forecast of the best models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from jena_forecast.artifacts import load_arrays
from jena_forecast.atomic import read_json, write_json
from jena_forecast.config import PipelineConfig
from jena_forecast.data.normalize import column_stats
from jena_forecast.data.windows import WindowSpec
from jena_forecast.evaluate import delay_forecast, scores
from jena_forecast.steps.common import (
    load_windows,
    prediction_intervals,
    window_spec,
    write_forecasts,
)


def _member_forecasts(
    name: str,
    config: PipelineConfig,
    model_paths: dict[str, Path],
    forecast_paths: dict[str, Path],
    data: np.ndarray,
    anchors: dict[str, np.ndarray],
    base_spec: WindowSpec,
) -> dict[str, np.ndarray]:
    """A member's normalized 24 h forecasts of the val and test windows, (windows, 1) each: a deep
    model predicts them, a classical model's were saved by its stage."""
    from jena_forecast.ensemble import check_saved_forecasts
    from jena_forecast.training.predict import load_model, predict_paths

    if name in forecast_paths:
        saved = load_arrays(forecast_paths[name], ("val", "test"))
        windows = {split: len(split_anchors) for split, split_anchors in anchors.items()}
        check_saved_forecasts(forecast_paths[name], saved, windows, f"classical@{name}")
        return saved
    paths = predict_paths(
        load_model(model_paths[name]), config.model(name), data, anchors, base_spec
    )
    return {split: delay_forecast(member_paths) for split, member_paths in paths.items()}


def ensemble(
    config: PipelineConfig,
    array_path: Path,
    scaler_path: Path,
    anchors_path: Path,
    table_path: Path,
    metrics_paths: dict[str, Path],
    model_paths: dict[str, Path],
    ensemble_path: Path,
    predictions_path: Path,
    forecast_paths: dict[str, Path] | None = None,
) -> dict[str, Any]:
    """Average the 24 h forecasts of the ensemble's members; score it like a model.

    Members are ``ensemble.members``, or the ``ensemble.top_k`` models of ``metrics_paths`` with the
    lowest validation MAE. A deep member (``model_paths``) predicts with its own window sampling
    (``step_rows``), its forecast read as the evaluate stage reads it (a sequence model's last path
    point); a classical member's forecasts are read from ``forecast_paths``.
    """
    from jena_forecast.ensemble import average_forecasts, ensemble_record, select_members

    forecast_paths = forecast_paths or {}
    records = {name: read_json(path) for name, path in metrics_paths.items()}
    members = select_members(config.ensemble, records)
    base_spec, scale = window_spec(config, scaler_path)
    mean, _ = column_stats(read_json(scaler_path), config.windows.target_column, str(scaler_path))
    data, anchors = load_windows(array_path, anchors_path)
    forecasts: dict[str, list[np.ndarray]] = {"val": [], "test": []}
    for name in members:
        member = _member_forecasts(
            name, config, model_paths, forecast_paths, data, anchors, base_spec
        )
        for split in forecasts:
            forecasts[split].append(member[split])
    averaged = {split: average_forecasts(values) for split, values in forecasts.items()}
    record = ensemble_record(members, records, scores(averaged, data, anchors, base_spec, scale))
    record["intervals"] = prediction_intervals(config, averaged, data, anchors, base_spec, scale)
    record.update(config.data_record())
    write_forecasts(
        predictions_path,
        table_path,
        averaged["test"],
        data,
        anchors["test"],
        base_spec,
        mean,
        scale,
    )
    write_json(ensemble_path, record)
    return record
