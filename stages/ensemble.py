"""DVC stage ensemble: the mean 24 h forecast of the best models by validation MAE (or named ones),
deep and classical."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from jena_forecast.artifacts import load_arrays
from jena_forecast.atomic import read_json, write_json
from jena_forecast.cli import path_arguments, per_model, run_stage
from jena_forecast.config import PipelineConfig, load_params
from jena_forecast.data.normalize import column_stats
from jena_forecast.data.windows import WindowSpec
from jena_forecast.evaluate import delay_forecast, headline, scores
from jena_forecast.files import (
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


def run(
    config: PipelineConfig,
    *,
    array_path: Path,
    scaler_path: Path,
    anchors_path: Path,
    table_path: Path,
    metrics_paths: dict[str, Path],
    model_paths: dict[str, Path],
    ensemble_path: Path,
    scores_path: Path,
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
    write_json(scores_path, headline(record))
    return record


def main() -> str:
    config = load_params()
    args = path_arguments(
        "python -m stages.ensemble",
        [
            "array_path",
            "scaler_path",
            "anchors_path",
            "table_path",
            "metrics_paths",
            "model_paths",
            "forecast_paths",
            "ensemble_path",
            "scores_path",
            "predictions_path",
        ],
    )
    classical = list(config.classical) if config.ensemble.include_classical else []
    record = run(
        config,
        array_path=args.array_path,
        scaler_path=args.scaler_path,
        anchors_path=args.anchors_path,
        table_path=args.table_path,
        metrics_paths=per_model(args.metrics_paths, [*config.models, *classical]),
        model_paths=per_model(args.model_paths, list(config.models)),
        ensemble_path=args.ensemble_path,
        scores_path=args.scores_path,
        predictions_path=args.predictions_path,
        forecast_paths=per_model(args.forecast_paths, classical),
    )
    val, test = record["val"], record["test"]
    return (
        f"mean of {', '.join(record['members'])}: MAE val {val['mae_degc']:.3f} degC, "
        f"test {test['mae_degc']:.3f} degC, skill val {val['skill_vs_naive']:+.1%} "
        f"test {test['skill_vs_naive']:+.1%}"
    )


if __name__ == "__main__":
    run_stage("ensemble", main)
