"""DVC stage deploy_classical@<model>: a classical model of refit.classical fitted on every row of
the record with what its fit chose frozen (alpha, iterations): the packed forecaster's model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jena_forecast.classical.spec import ClassicalConfig
from jena_forecast.data.windows import assemble_targets, naive_forecast, window_spec
from jena_forecast.plumbing.artifacts import load_array, load_arrays
from jena_forecast.plumbing.atomic import read_json, write_json
from jena_forecast.plumbing.cli import call_with_paths, run_stage
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.tables import read_table
from jena_forecast.refit.config import RefitConfig


class Config(ClassicalConfig):
    """The params this stage reads."""

    refit: RefitConfig


def run(
    config: Config,
    name: str,
    *,
    table_path: Path,
    deploy_array_path: Path,
    deploy_scaler_path: Path,
    deploy_anchors_path: Path,
    fit_metrics_path: Path,
    model_path: Path,
    record_path: Path,
) -> dict[str, Any]:
    """Fit classical model ``name`` on every window of the deployment rows with its fit's choices
    (``fit_metrics_path``: classical@'s record); save the estimator and its record."""
    from jena_forecast.classical.design import classical_features
    from jena_forecast.classical.persist import save_estimator
    from jena_forecast.refit.classical import frozen_choice, refit_classical

    if name not in config.refit.classical:
        raise PipelineError(
            f"model {name!r} is not in refit.classical. "
            f"Expected one of: {', '.join(config.refit.classical) or '(none)'}"
        )
    spec_params = config.classical_model(name)
    choice = frozen_choice(spec_params, read_json(fit_metrics_path), str(fit_metrics_path))
    spec, _ = window_spec(config.windows, deploy_scaler_path)
    scaler = read_json(deploy_scaler_path)
    data = load_array(deploy_array_path)
    anchors = load_arrays(deploy_anchors_path, ("train",))["train"]
    timestamps = pd.DatetimeIndex(read_table(table_path).index)
    if len(timestamps) != data.shape[0]:
        raise PipelineError(
            f"{table_path} has {len(timestamps)} rows but {deploy_array_path} has {data.shape[0]}; "
            "rerun the pipeline from the parse stage"
        )
    features = classical_features(
        data, timestamps, scaler, spec, spec_params.params, 60 // config.parse.interval_minutes
    )
    x = features.at(anchors)
    naive = naive_forecast(data, anchors, spec)[:, 0].astype(np.float64)
    change = assemble_targets(data, anchors, spec)[:, 0].astype(np.float64) - naive
    fitted = refit_classical(spec_params, choice, config.seed, x, change)
    save_estimator(model_path, fitted.estimator)
    record = {
        "seed": config.seed,
        "fitted_on": scaler["fitted_on"],
        "fitted_rows": scaler["fitted_rows"],
        "train_windows": int(len(anchors)),
        "estimator": spec_params.estimator,
        "frozen": choice,
    }
    write_json(record_path, record)
    return record


def main() -> str:
    (name,), record = call_with_paths(run)
    return (
        f"{name}: {record['estimator']} {record['frozen']} on {record['train_windows']:,} windows "
        f"of {record['fitted_on']}"
    )


if __name__ == "__main__":
    run_stage("deploy_classical", main)
