"""Step ensemble: the mean forecast of the best models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from jena_forecast.atomic import read_json, write_json
from jena_forecast.config import PipelineConfig
from jena_forecast.data.normalize import column_stats
from jena_forecast.evaluate import delay_forecast, scores
from jena_forecast.steps.common import (
    load_windows,
    prediction_intervals,
    window_spec,
    write_forecasts,
)


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
) -> dict[str, Any]:
    """Average the 24 h forecasts of the ensemble's members; score it like a model.

    Members are ``ensemble.members``, or the ``ensemble.top_k`` models of ``metrics_paths`` with the
    lowest validation MAE. Each member predicts with its own window sampling (``step_rows``) and
    its forecast is read as the evaluate stage reads it (a sequence model's last path point).
    """
    from jena_forecast.ensemble import average_forecasts, ensemble_record, select_members
    from jena_forecast.training.predict import load_model, predict_paths

    records = {name: read_json(path) for name, path in metrics_paths.items()}
    members = select_members(config.ensemble, records)
    base_spec, scale = window_spec(config, scaler_path)
    mean, _ = column_stats(read_json(scaler_path), config.windows.target_column, str(scaler_path))
    data, anchors = load_windows(array_path, anchors_path)
    forecasts: dict[str, list[np.ndarray]] = {"val": [], "test": []}
    for name in members:
        paths = predict_paths(
            load_model(model_paths[name]), config.model(name), data, anchors, base_spec
        )
        for split, member_paths in paths.items():
            forecasts[split].append(delay_forecast(member_paths))
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
