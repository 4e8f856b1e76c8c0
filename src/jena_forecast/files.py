"""Reading and writing the pipeline's files: the parsed table, windows, tables of rows, forecasts
and their prediction intervals."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jena_forecast.artifacts import load_array, load_arrays
from jena_forecast.atomic import read_json, write_text
from jena_forecast.config import PipelineConfig
from jena_forecast.data.normalize import SPLIT_NAMES, column_stats
from jena_forecast.data.windows import WindowSpec, assemble_targets
from jena_forecast.errors import PipelineError
from jena_forecast.evaluate import delay_forecast, forecast_stretch, forecast_table
from jena_forecast.intervals import adaptive_calibration, interval_record

FORECAST_DAYS = 14.0  # the stretch of the test split whose forecasts are saved for plots


def read_table(table_path: Path) -> pd.DataFrame:
    """Read the parsed table (or the features table)."""
    try:
        return pd.read_parquet(table_path, engine="pyarrow")
    except FileNotFoundError as error:
        raise PipelineError(
            f"{table_path}: file not found; run the stage that writes it first"
        ) from error


def window_spec(config: PipelineConfig, scaler_path: Path) -> tuple[WindowSpec, float]:
    """The window geometry from params and the target column's training scale (degC per unit)."""
    scaler_record = read_json(scaler_path)
    columns = list(scaler_record["columns"])
    _, scale = column_stats(scaler_record, config.windows.target_column, str(scaler_path))
    spec = WindowSpec.from_config(config.windows, columns.index(config.windows.target_column))
    return spec, scale


def load_windows(array_path: Path, anchors_path: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    data = load_array(array_path)
    anchors = load_arrays(anchors_path, SPLIT_NAMES)
    return data, anchors


def learning_curve(log_dir: Path) -> list[dict[str, Any]]:
    """Training and validation loss per epoch from a DVCLive log (its step 0 is epoch 1)::

    epoch  loss   val_loss
    1      0.283  0.302
    """
    losses = {
        split: pd.read_csv(log_dir / "plots" / "metrics" / split / "loss.tsv", sep="\t")
        for split in ("train", "eval")
    }
    joined = losses["train"].merge(losses["eval"], on="step", suffixes=("", "_val"))
    return [
        {"epoch": int(step) + 1, "loss": float(loss), "val_loss": float(val_loss)}
        for step, loss, val_loss in joined[["step", "loss", "loss_val"]].itertuples(index=False)
    ]


def tsv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), delimiter="\t", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_forecasts(
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


TEXT_COLUMNS = ("recipe", "protocol", "features")


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
            dtype={
                "parameters": "Int64",
                "epochs": "Int64",
                **{column: str for column in TEXT_COLUMNS},
            },
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


def prediction_intervals(
    config: PipelineConfig,
    forecasts_norm: dict[str, np.ndarray],
    data: np.ndarray,
    anchors: dict[str, np.ndarray],
    spec: WindowSpec,
    scale: float,
) -> dict[str, Any]:
    """Conformal intervals of the 24 h forecasts at ``intervals.levels`` by ``intervals.method``
    (``split``: widths from ``val``; ``adaptive``: online through ``val`` then ``test``, each error
    used once known, ``spec.delay_rows`` after its anchor), coverage on ``val`` and ``test`` (see
    ``jena_forecast.intervals``)."""
    splits = ("val", "test")
    return interval_record(
        {split: forecasts_norm[split] for split in splits},
        {split: assemble_targets(data, anchors[split], spec) for split in splits},
        config.intervals.levels,
        scale,
        adaptive_calibration(
            config.intervals, anchors, spec.delay_rows, config.parse.interval_minutes
        ),
    )
