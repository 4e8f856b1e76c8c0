"""A hand-made forecaster for tests and the bad-input catalog: 72-row windows on the 14 columns of
the synthetic record, an untrained Dense network or a ridge fitted on synthetic windows."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pandas as pd
from conftest import section
from synthetic import HEADER, SyntheticJena

from jena_forecast.classical.params import RidgeParams
from jena_forecast.classical.persist import save_estimator
from jena_forecast.classical.window_features import window_features
from jena_forecast.config import FeaturesConfig, ParseConfig
from jena_forecast.data.windows import WindowSpec
from jena_forecast.serving.forecaster import CLASSICAL, KERAS, Forecaster, Member
from jena_forecast.serving.input_check import training_ranges

SPEC = WindowSpec(lookback_rows=72, step_rows=6, delay_rows=12, target_index=1)
COLUMNS = HEADER[1:]
INTERVALS = {
    "p80": {"level": 0.8, "half_width_degc": 1.5},
    "p90": {"level": 0.9, "half_width_degc": 2.0},
}


def scaler_record(values: np.ndarray) -> dict:
    mean, scale = values.mean(0), values.std(0)
    return {
        "columns": {
            name: {"mean": float(m), "scale": float(s)}
            for name, m, s in zip(COLUMNS, mean, scale, strict=True)
        }
    }


def make_forecaster(directory: Path, kind: str = KERAS, lookback_rows: int = 0) -> Forecaster:
    """A forecaster of 72-row windows on the 14 columns: an untrained Dense network (that sees
    only the last ``lookback_rows`` rows, if given), or a ridge fitted on a synthetic record's
    windows."""
    directory.mkdir(parents=True, exist_ok=True)
    values = SyntheticJena(rows=600).values()
    scaler = scaler_record(values)
    if kind == KERAS:
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [
                keras.Input(((lookback_rows or SPEC.lookback_rows) // 6, len(COLUMNS))),
                keras.layers.Flatten(),
                keras.layers.Dense(1),
            ]
        )
        path = directory / "net.keras"
        model.save(path)
        member = Member("net", KERAS, path, step_rows=6, lookback_rows=lookback_rows)
    else:
        from sklearn.linear_model import Ridge

        params = section(RidgeParams, lag_hours=6, recent_hours=6)
        data = ((values - values.mean(0)) / values.std(0)).astype(np.float32)
        stamps = pd.date_range("2009-01-01 00:10", periods=len(data), freq="10min")
        features = window_features(data, stamps, COLUMNS, SPEC, params, 6)
        anchors = np.arange(SPEC.lookback_rows - 1, len(data) - SPEC.delay_rows)
        change = data[anchors + SPEC.delay_rows, 1] - data[anchors, 1]
        path = directory / "ridge.skops"
        save_estimator(path, Ridge(alpha=1.0).fit(features.at(anchors).astype(np.float64), change))
        member = Member(
            "ridge", CLASSICAL, path, estimator="ridge", params=params.model_dump(mode="json")
        )
    return Forecaster(
        model=member.name,
        members=(member,),
        spec=SPEC,
        target_column="T (degC)",
        raw_columns=list(COLUMNS),
        parse=section(ParseConfig),
        features=section(FeaturesConfig),
        scaler=scaler,
        intervals=INTERVALS,
        record={"protocol": "tiny", "data": "synthetic"},
        # the range of every column of the record it was scaled on (temperature 4.5 to 15.6 degC)
        training_ranges=training_ranges(
            ((values - values.mean(0)) / values.std(0)), scaler, (0, len(values))
        ),
    )


def empty_last_temperatures(path: Path, rows: int = 8) -> Path:
    """Empty the temperature of the last ``rows`` rows of the CSV at ``path``: a run longer than
    ``parse.max_fill_rows`` (6), at the end, which parse cannot fill."""
    lines = path.read_text().splitlines()
    for row in range(len(lines) - rows, len(lines)):
        cells = lines[row].split(",")
        cells[HEADER.index("T (degC)")] = ""
        lines[row] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    return path
