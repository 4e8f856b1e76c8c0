"""DVC stage deploy@<model>: a network of refit.models fitted on every row of the record from the
project's seed, for the epochs its train@ run's early stopping kept: the packed forecaster's model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jena_forecast.data.anchor_column import model_data
from jena_forecast.data.windows import window_spec
from jena_forecast.models.spec import ModelsConfig
from jena_forecast.plumbing.artifacts import load_array, load_arrays
from jena_forecast.plumbing.atomic import atomic_path, read_json, write_json
from jena_forecast.plumbing.cli import call_with_paths, run_stage
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.stable_zip import stable_keras
from jena_forecast.plumbing.timings import split_timings, write_timings
from jena_forecast.refit.config import RefitConfig


class Config(ModelsConfig):
    """The params this stage reads."""

    refit: RefitConfig


def run(
    config: Config,
    name: str,
    *,
    deploy_array_path: Path,
    deploy_scaler_path: Path,
    deploy_anchors_path: Path,
    summary_path: Path,
    model_path: Path,
    record_path: Path,
    timing_path: Path | None = None,
    anchor_column_path: Path | None = None,
) -> dict[str, Any]:
    """Fit network ``name`` from params' ``seed`` on every window of the deployment rows for the
    ``best_epoch`` of its train@ summary (``summary_path``); save the model and its record."""
    import keras

    from jena_forecast.refit.network import refit_network

    if name not in config.refit.models and name not in config.anchored:
        raise PipelineError(
            f"model {name!r} is not in refit.models. Expected one of: {', '.join(config.refit.models)}"
        )
    summary = read_json(summary_path)
    if "best_epoch" not in summary:
        raise PipelineError(f"{summary_path}: no best_epoch; rerun train@{name}")
    spec, _ = window_spec(config.windows, deploy_scaler_path)
    data = model_data(
        load_array(deploy_array_path), name, config.model(name).anchor, anchor_column_path
    )
    anchors = load_arrays(deploy_anchors_path, ("train",))["train"]
    keras.backend.clear_session()
    model, run_record = refit_network(
        config.model(name), config.seed, data, anchors, spec, int(summary["best_epoch"])
    )
    with atomic_path(model_path) as tmp:
        model.save(tmp)
        stable_keras(tmp)
    scaler = read_json(deploy_scaler_path)
    record = {
        "seed": config.seed,
        "fitted_on": scaler["fitted_on"],
        "fitted_rows": scaler["fitted_rows"],
        "train_windows": int(len(anchors)),
        **run_record,
    }
    record, timings = split_timings(record)
    write_json(record_path, record)
    write_timings(timing_path, timings)
    return record | timings


def main() -> str:
    (name,), record = call_with_paths(run)
    return (
        f"{name}: {record['epochs']} epochs on {record['train_windows']:,} windows of "
        f"{record['fitted_on']} in {record['train_seconds']:.1f} s"
    )


if __name__ == "__main__":
    run_stage("deploy", main)
