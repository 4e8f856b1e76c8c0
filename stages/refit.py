"""DVC stage refit@<model>: a network of refit.models trained again from every seed of the seed
study on training + validation, each seed for the epochs its early stopping kept, scored on test."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from jena_forecast.data.anchor_column import model_data
from jena_forecast.evaluation.scoring import ScoringConfig
from jena_forecast.evaluation.seed_study import SeedStudyConfig, forecast_key, run_key
from jena_forecast.models.spec import ModelsConfig
from jena_forecast.plumbing.artifacts import load_arrays
from jena_forecast.plumbing.atomic import read_json
from jena_forecast.plumbing.cli import call_with_paths, run_stage
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.refit.config import RefitConfig
from jena_forecast.refit.record import to_fit_units
from jena_forecast.refit.scoring import RefitRows, summary_line, write_refit


class Config(ModelsConfig, ScoringConfig):
    """The params this stage reads."""

    seed_study: SeedStudyConfig
    refit: RefitConfig


def frozen_epochs(study: dict[str, Any], seeds: tuple[int, ...], where: str) -> dict[int, int]:
    """Each seed's epochs kept by early stopping in the seed study's record (``best_epoch``)."""
    epochs = {}
    for seed in seeds:
        run = study.get("runs", {}).get(run_key(seed), {})
        if "best_epoch" not in run:
            raise PipelineError(f"{where}: no best_epoch of seed {seed}; rerun its seeds stage")
        epochs[seed] = int(run["best_epoch"])
    return epochs


def run(
    config: Config,
    name: str,
    *,
    refit_array_path: Path,
    refit_scaler_path: Path,
    refit_anchors_path: Path,
    fit_forecasts_path: Path,
    seed_forecasts_path: Path,
    seed_metrics_path: Path,
    metrics_path: Path,
    scores_path: Path,
    forecasts_path: Path,
    timing_path: Path | None = None,
    anchor_column_path: Path | None = None,
) -> dict[str, Any]:
    """Train network ``name`` from every seed of ``seed_study.seeds`` on the refit's rows for the
    epochs that seed's fit on training kept (``seed_metrics_path``), and score its test forecasts
    beside that seed study's (``seed_forecasts_path``) on the same windows."""
    import keras

    from jena_forecast.evaluation.metrics import delay_forecast
    from jena_forecast.refit.network import refit_network
    from jena_forecast.training.predict import predict_paths

    if name not in config.refit.models and name not in config.anchored:
        raise PipelineError(
            f"model {name!r} is not in refit.models. Expected one of: {', '.join(config.refit.models)}"
        )
    spec = config.model(name)
    rows = RefitRows(config.windows, refit_array_path, refit_scaler_path, refit_anchors_path)
    inputs = model_data(rows.data, name, spec.anchor, anchor_column_path)
    fit = rows.fit_forecasts(fit_forecasts_path)
    seeds = config.seed_study.seeds
    epochs = frozen_epochs(read_json(seed_metrics_path), seeds, str(seed_metrics_path))
    saved = load_arrays(seed_forecasts_path, tuple(forecast_key("test", seed) for seed in seeds))
    fit_runs = {seed: saved[forecast_key("test", seed)] for seed in seeds}
    refit: dict[int, np.ndarray] = {}
    runs: dict[int, dict[str, Any]] = {}
    for seed in seeds:
        print(f"{name} seed {seed}: {epochs[seed]} epochs on train+val", file=sys.stderr)
        keras.backend.clear_session()  # every seed starts from the state a fresh process has
        model, runs[seed] = refit_network(
            spec, seed, inputs, rows.anchors["train"], rows.spec, epochs[seed]
        )
        model.jit_compile = False  # predicts as evaluate@ does (see evaluation/seed_study.py)
        paths = predict_paths(model, spec, inputs, rows.anchors, rows.spec, splits=("test",))
        refit[seed] = to_fit_units(rows.degc(delay_forecast(paths["test"])), fit)
    extra = {
        **rows.record(),
        "recipe": spec.recipe or "",
        "jit_compile": spec.train.jit_compile,
        "intra_op_threads": spec.train.intra_op_threads,
    }
    record = write_refit(
        config,
        refit,
        fit,
        fit_runs,
        extra,
        metrics_path=metrics_path,
        scores_path=scores_path,
        forecasts_path=forecasts_path,
        timing_path=timing_path,
        runs={run_key(seed): run for seed, run in runs.items()},
    )
    return record


def main() -> str:
    (name,), record = call_with_paths(run)
    return summary_line(name, record)


if __name__ == "__main__":
    run_stage("refit", main)
