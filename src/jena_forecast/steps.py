"""One function per pipeline step: read its inputs, call the library, write its outputs atomically.

Nothing here knows about DVC: the stage entry points in ``stages/`` name the paths.
"""

from __future__ import annotations

import csv
import io
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jena_forecast.artifacts import load_array, load_arrays, save_array, save_arrays
from jena_forecast.atomic import atomic_dir, atomic_path, read_json, write_json, write_text
from jena_forecast.config import PipelineConfig
from jena_forecast.data.download import fetch_raw_csv
from jena_forecast.data.features import add_features
from jena_forecast.data.normalize import SPLIT_NAMES, SplitBounds, column_stats, normalize_table
from jena_forecast.data.parse import parse_csv
from jena_forecast.data.windows import (
    WindowSpec,
    assemble_targets,
    horizon_offsets,
    naive_forecast,
    split_anchors,
)
from jena_forecast.errors import PipelineError
from jena_forecast.evaluate import (
    delay_forecast,
    forecast_stretch,
    forecast_table,
    horizon_metrics,
    scores,
    split_metrics,
)

FORECAST_DAYS = 14.0  # the stretch of the test split whose forecasts are saved for plots


def download(config: PipelineConfig, csv_path: Path, record_path: Path) -> dict[str, Any]:
    """Fetch and verify the raw zip, extract its CSV, record where it came from and its checksums."""
    record = fetch_raw_csv(config.download, csv_path).to_dict()
    write_json(record_path, record)
    return record


def parse(
    config: PipelineConfig, csv_path: Path, table_path: Path, quality_path: Path
) -> dict[str, Any]:
    """Parse and repair the CSV into a regular Parquet table; write the data-quality report."""
    table, report = parse_csv(csv_path, config.parse, config.windows.target_column)
    with atomic_path(table_path) as tmp:
        table.to_parquet(tmp, engine="pyarrow")
    write_json(quality_path, report.to_dict())
    return report.to_dict()


def read_table(table_path: Path) -> pd.DataFrame:
    """Read the parsed table (or the features table)."""
    try:
        return pd.read_parquet(table_path, engine="pyarrow")
    except FileNotFoundError as error:
        raise PipelineError(
            f"{table_path}: file not found; run the stage that writes it first"
        ) from error


def features(config: PipelineConfig, table_path: Path, features_path: Path) -> dict[str, Any]:
    """Add the engineered columns of ``features`` to the parsed table; with none, copy it unchanged."""
    table = read_table(table_path)
    result = add_features(table, config.features, config.windows.target_column, str(table_path))
    with atomic_path(features_path) as tmp:
        result.to_parquet(tmp, engine="pyarrow")
    columns = [str(column) for column in result.columns]
    before = {str(column) for column in table.columns}
    return {
        "features": config.features.describe(),
        "columns": columns,
        "added": [column for column in columns if column not in before],
        "dropped": [str(column) for column in table.columns if str(column) not in set(columns)],
    }


def normalize(
    config: PipelineConfig, table_path: Path, array_path: Path, scaler_path: Path, split_path: Path
) -> dict[str, Any]:
    """Split by time, fit the scaler on the training rows, save the normalized array."""
    table = read_table(table_path)
    normalized, bounds, scaler_record = normalize_table(table, config.split, str(table_path))
    save_array(array_path, normalized)
    write_json(scaler_path, scaler_record)
    split_record = {
        **bounds.to_dict(),
        "rows": len(table),
        "first_timestamp": {name: str(table.index[bounds[name][0]]) for name in SPLIT_NAMES},
        "last_timestamp": {name: str(table.index[bounds[name][1] - 1]) for name in SPLIT_NAMES},
    }
    write_json(split_path, split_record)
    return split_record


def window_spec(config: PipelineConfig, scaler_path: Path) -> tuple[WindowSpec, float]:
    """The window geometry from params and the target column's training scale (degC per unit)."""
    scaler_record = read_json(scaler_path)
    columns = list(scaler_record["columns"])
    _, scale = column_stats(scaler_record, config.windows.target_column, str(scaler_path))
    spec = WindowSpec.from_config(config.windows, columns.index(config.windows.target_column))
    return spec, scale


def windows(
    config: PipelineConfig,
    array_path: Path,
    scaler_path: Path,
    split_path: Path,
    anchors_path: Path,
    summary_path: Path,
) -> dict[str, Any]:
    """Find every valid window of each split and save their anchors."""
    spec, _ = window_spec(config, scaler_path)
    data = load_array(array_path)
    bounds = SplitBounds.from_dict(read_json(split_path))
    valid_rows = ~np.isnan(data).any(axis=1)
    anchors = split_anchors(valid_rows, {name: bounds[name] for name in SPLIT_NAMES}, spec)
    save_arrays(anchors_path, anchors)
    summary = {
        "lookback_rows": spec.lookback_rows,
        "step_rows": spec.step_rows,
        "delay_rows": spec.delay_rows,
        "timesteps": spec.timesteps,
        "target_column": config.windows.target_column,
        "features": int(data.shape[1]),
        "windows": {name: int(len(anchors[name])) for name in SPLIT_NAMES},
    }
    write_json(summary_path, summary)
    return summary


def _load_windows(array_path: Path, anchors_path: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    data = load_array(array_path)
    anchors = load_arrays(anchors_path, SPLIT_NAMES)
    return data, anchors


def baseline(
    config: PipelineConfig,
    array_path: Path,
    scaler_path: Path,
    anchors_path: Path,
    metrics_path: Path,
) -> dict[str, Any]:
    """Score the naive forecast (temperature now) on the val and test windows."""
    spec, scale = window_spec(config, scaler_path)
    data, anchors = _load_windows(array_path, anchors_path)
    metrics: dict[str, Any] = {
        name: split_metrics(
            naive_forecast(data, anchors[name], spec), data, anchors[name], spec, scale
        )
        for name in ("val", "test")
    }
    metrics.update(config.data_record())
    write_json(metrics_path, metrics)
    return metrics


def train(
    config: PipelineConfig,
    name: str,
    array_path: Path,
    scaler_path: Path,
    anchors_path: Path,
    model_path: Path,
    summary_path: Path,
    log_dir: Path,
    checkpoint_dir: Path | None = None,
) -> dict[str, Any]:
    """Fit model ``name``; save its best weights, a training summary and its DVCLive epoch log.

    With ``checkpoint_dir``, an interrupted run resumes from its last completed epoch; the
    checkpoint is removed once every output is in place.
    """
    model_spec = config.model(name)
    spec, _ = window_spec(config, scaler_path)
    data, anchors = _load_windows(array_path, anchors_path)
    from jena_forecast.training.fit import train_model
    from jena_forecast.training.resume import TrainingCheckpoint, fingerprint

    checkpoint = None
    if checkpoint_dir is not None:
        arrays = {"data": data, "train": anchors["train"], "val": anchors["val"]}
        checkpoint = TrainingCheckpoint(
            checkpoint_dir, fingerprint(model_spec, config.seed, spec, arrays)
        )
    with atomic_dir(log_dir) as tmp_log_dir:
        result = train_model(
            model_spec,
            config.seed,
            data,
            anchors["train"],
            anchors["val"],
            spec,
            checkpoint=checkpoint,
            log_dir=tmp_log_dir,
        )
        with atomic_path(model_path) as tmp:
            result.model.save(tmp)
    summary = result.summary()
    write_json(summary_path, summary)
    if checkpoint is not None:
        checkpoint.remove()
    return summary


def _tsv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), delimiter="\t", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def evaluate(
    config: PipelineConfig,
    name: str,
    array_path: Path,
    scaler_path: Path,
    anchors_path: Path,
    model_path: Path,
    summary_path: Path,
    metrics_path: Path,
    horizons_path: Path,
    table_path: Path,
    predictions_path: Path,
) -> dict[str, Any]:
    """Score model ``name`` against the naive baseline on the val and test windows.

    Also writes the test MAE per forecast horizon (one row for a point model, one per hour for a
    sequence model) next to the naive forecast's, and the model's forecasts in degC next to the
    actual and naive ones for the first ``FORECAST_DAYS`` days of the test split.
    """
    model_spec = config.model(name)
    base_spec, scale = window_spec(config, scaler_path)
    mean, _ = column_stats(read_json(scaler_path), config.windows.target_column, str(scaler_path))
    data, anchors = _load_windows(array_path, anchors_path)
    from jena_forecast.training.fit import model_window_spec
    from jena_forecast.training.predict import load_model, predict_paths

    spec = model_window_spec(base_spec, model_spec)
    paths = predict_paths(load_model(model_path), model_spec, data, anchors, base_spec)
    metrics: dict[str, Any] = scores(paths, data, anchors, spec, scale)
    horizons = getattr(model_spec.builder_params, "horizons", None)
    offsets = horizon_offsets(spec, horizons) if horizons else np.array([spec.delay_rows])
    rows = horizon_metrics(
        paths["test"], data, anchors["test"], spec, offsets, scale, config.parse.interval_minutes
    )
    write_text(horizons_path, _tsv(rows))
    metrics.update(read_json(summary_path))
    metrics.update(config.data_record())
    _write_forecasts(
        predictions_path, table_path, paths["test"], data, anchors["test"], spec, mean, scale
    )
    write_json(metrics_path, metrics)
    return metrics


def _write_forecasts(
    predictions_path: Path,
    table_path: Path,
    test_paths: np.ndarray,
    data: np.ndarray,
    test_anchors: np.ndarray,
    spec: WindowSpec,
    mean: float,
    scale: float,
) -> None:
    """The 24 h forecasts in degC, next to the actual and naive ones, of the first
    ``FORECAST_DAYS`` days of the test split."""
    timestamps = pd.DatetimeIndex(read_table(table_path).index)
    stretch = forecast_stretch(timestamps, test_anchors, spec, FORECAST_DAYS)
    forecasts = forecast_table(
        timestamps,
        delay_forecast(test_paths[stretch]),
        data,
        test_anchors[stretch],
        spec,
        mean,
        scale,
    )
    write_text(predictions_path, forecasts.to_csv(index=False, lineterminator="\n"))


def seed_study(
    config: PipelineConfig,
    name: str,
    array_path: Path,
    scaler_path: Path,
    anchors_path: Path,
    metrics_path: Path,
    checkpoint_dir: Path | None = None,
) -> dict[str, Any]:
    """Retrain model ``name`` from every seed of ``seed_study.seeds``; save each seed's val/test
    scores and their mean and sample standard deviation. No model file is kept.

    With ``checkpoint_dir``, an interrupted study keeps the seeds it finished and resumes the one it
    was training; the directory is removed once the metrics are written.
    """
    from jena_forecast.seed_study import seed_run, seed_study_record

    if name not in config.seed_study.models:
        raise PipelineError(
            f"model {name!r} is not in seed_study.models. "
            f"Expected one of: {', '.join(config.seed_study.models)}"
        )
    base_spec, scale = window_spec(config, scaler_path)
    data, anchors = _load_windows(array_path, anchors_path)
    runs = {
        seed: seed_run(config.model(name), seed, data, anchors, base_spec, scale, checkpoint_dir)
        for seed in config.seed_study.seeds
    }
    record = seed_study_record(runs)
    record.update(config.data_record())
    write_json(metrics_path, record)
    if checkpoint_dir is not None:
        shutil.rmtree(checkpoint_dir, ignore_errors=True)
    return record


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
    data, anchors = _load_windows(array_path, anchors_path)
    forecasts: dict[str, list[np.ndarray]] = {"val": [], "test": []}
    for name in members:
        paths = predict_paths(
            load_model(model_paths[name]), config.model(name), data, anchors, base_spec
        )
        for split, member_paths in paths.items():
            forecasts[split].append(delay_forecast(member_paths))
    averaged = {split: average_forecasts(values) for split, values in forecasts.items()}
    record = ensemble_record(members, records, scores(averaged, data, anchors, base_spec, scale))
    record.update(config.data_record())
    _write_forecasts(
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


def classical(
    config: PipelineConfig,
    name: str,
    table_path: Path,
    array_path: Path,
    scaler_path: Path,
    anchors_path: Path,
    metrics_path: Path,
    horizons_path: Path,
    predictions_path: Path,
) -> dict[str, Any]:
    """Fit classical model ``name`` on the training windows, score it like a deep model.

    The same windows (anchors), targets and naive forecasts as every other model; the metrics file
    has the deep models' shape, with the estimator's own choices (``alpha``, ``iterations``) beside.
    """
    from jena_forecast.classical.estimators import fit_classical
    from jena_forecast.classical.window_features import window_features

    model_spec = config.classical_model(name)
    spec, scale = window_spec(config, scaler_path)
    scaler_record = read_json(scaler_path)
    mean, _ = column_stats(scaler_record, config.windows.target_column, str(scaler_path))
    data, anchors = _load_windows(array_path, anchors_path)
    timestamps = pd.DatetimeIndex(read_table(table_path).index)
    if len(timestamps) != data.shape[0]:
        raise PipelineError(
            f"{table_path} has {len(timestamps)} rows but {array_path} has {data.shape[0]}; "
            "rerun the pipeline from the parse stage"
        )
    started = time.perf_counter()
    features = window_features(
        data,
        timestamps,
        list(scaler_record["columns"]),
        spec,
        model_spec.params,
        60 // config.parse.interval_minutes,
    )
    design = {}
    for split in SPLIT_NAMES:
        x = features.at(anchors[split])
        if np.isnan(x).any():
            raise ValueError(f"{split} windows have missing features; the anchors are stale")
        naive = naive_forecast(data, anchors[split], spec)[:, 0].astype(np.float64)
        change = assemble_targets(data, anchors[split], spec)[:, 0].astype(np.float64) - naive
        design[split] = (x, change, naive)
    feature_seconds = time.perf_counter() - started
    fit = fit_classical(
        model_spec.estimator,
        model_spec.params,
        config.seed,
        (design["train"][0], design["train"][1], anchors["train"]),
        (design["val"][0], design["val"][1]),
        spec.span_rows,
    )
    metrics: dict[str, Any] = {}
    forecasts: dict[str, np.ndarray] = {}
    for split in ("val", "test"):
        x, _, naive = design[split]
        forecasts[split] = fit.forecast(x, naive)
        metrics[split] = split_metrics(forecasts[split], data, anchors[split], spec, scale)
    rows = horizon_metrics(
        forecasts["test"],
        data,
        anchors["test"],
        spec,
        np.array([spec.delay_rows]),
        scale,
        config.parse.interval_minutes,
    )
    write_text(horizons_path, _tsv(rows))
    stretch = forecast_stretch(timestamps, anchors["test"], spec, FORECAST_DAYS)
    table = forecast_table(
        timestamps, forecasts["test"][stretch], data, anchors["test"][stretch], spec, mean, scale
    )
    write_text(predictions_path, table.to_csv(index=False, lineterminator="\n"))
    metrics.update(
        {
            "estimator": model_spec.estimator,
            "window_features": len(features.names),
            "feature_seconds": round(feature_seconds, 2),
            "train_seconds": round(fit.train_seconds, 2),
            **fit.record,
            **config.data_record(),
        }
    )
    write_json(metrics_path, metrics)
    return metrics


def lr_range_test(
    config: PipelineConfig,
    array_path: Path,
    scaler_path: Path,
    anchors_path: Path,
    curve_path: Path,
    result_path: Path,
) -> dict[str, Any]:
    """Sweep the learning rate of ``lr_range_test.model``; save the loss curve and the suggested rate."""
    test = config.lr_range_test
    spec, _ = window_spec(config, scaler_path)
    data, anchors = _load_windows(array_path, anchors_path)
    from jena_forecast.training.lr_range import learning_rate_range_test

    result = learning_rate_range_test(
        test, config.model(test.model), config.seed, data, anchors["train"], spec
    )
    write_text(curve_path, _tsv(result.rows))
    summary = {
        "model": test.model,
        "steps_run": len(result.rows),
        "min_loss_learning_rate": result.min_loss_learning_rate,
        "suggested_learning_rate": result.suggested_learning_rate,
    }
    write_json(result_path, summary)
    return summary


TEXT_COLUMNS = ("protocol", "features")


def read_tsv(path: Path) -> pd.DataFrame:
    """Read a tab-separated table written by a stage.

    Only an empty cell is missing (a whole-number column such as ``parameters`` or a seed-study
    column may have them); text columns (``protocol``, ``features``) are read as written, an empty
    one as an empty string.
    """
    try:
        table = pd.read_csv(
            path,
            sep="\t",
            dtype={"parameters": "Int64", "epochs": "Int64", "protocol": str, "features": str},
            keep_default_na=False,
            na_values=[""],
        )
    except FileNotFoundError as error:
        raise PipelineError(
            f"{path}: file not found; run the stage that writes it first"
        ) from error
    for column in TEXT_COLUMNS:
        if column in table.columns:
            table[column] = table[column].fillna("")
    return table


def leaderboard(
    naive_path: Path,
    metrics_paths: dict[str, Path],
    leaderboard_path: Path,
    seed_paths: dict[str, Path] | None = None,
) -> pd.DataFrame:
    """Rank every model and the naive baseline by validation MAE; save the table as TSV.

    ``metrics_paths`` names each model's metrics (the ensemble's too), ``seed_paths`` the seed-study
    metrics of the models that have one.
    """
    from jena_forecast.leaderboard import leaderboard as rank_models

    table = rank_models(
        read_json(naive_path),
        {name: read_json(path) for name, path in metrics_paths.items()},
        {name: read_json(path) for name, path in (seed_paths or {}).items()},
    )
    write_text(leaderboard_path, table.to_csv(sep="\t", index=False, lineterminator="\n"))
    return table


def report(
    leaderboard_path: Path,
    predictions_paths: dict[str, Path],
    quality_path: Path,
    report_dir: Path,
    ensemble_path: Path | None = None,
) -> dict[str, Any]:
    """Write the static summary: Markdown, the leaderboard chart and the best model's forecast chart.

    With ``ensemble_path``, the summary names the ensemble's members.
    """
    from jena_forecast import report as summary
    from jena_forecast.leaderboard import best_model

    table = read_tsv(leaderboard_path)
    best = best_model(table)
    if best not in predictions_paths:
        raise PipelineError(f"{leaderboard_path}: best model {best!r} has no predictions file")
    try:
        forecasts = pd.read_csv(predictions_paths[best])
    except FileNotFoundError as error:
        raise PipelineError(
            f"{predictions_paths[best]}: file not found; run evaluate@{best}"
        ) from error
    summary.save_figure(summary.leaderboard_figure(table), report_dir / summary.LEADERBOARD_PNG)
    summary.save_figure(summary.forecast_figure(forecasts, best), report_dir / summary.FORECAST_PNG)
    markdown_path = report_dir / "summary.md"
    members = read_json(ensemble_path)["members"] if ensemble_path is not None else None
    write_text(
        markdown_path,
        summary.summary_markdown(table, best, read_json(quality_path), ensemble_members=members),
    )
    return {"best_model": best, "models": len(table), "summary": str(markdown_path)}
