"""DVC stage refit_classical@<model>: a classical model of refit.classical fitted again on training
+ validation with what its fit chose frozen (alpha, iterations), scored on test beside that fit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jena_forecast.classical.spec import ClassicalConfig
from jena_forecast.data.windows import assemble_targets, naive_forecast
from jena_forecast.evaluation.scoring import ScoringConfig
from jena_forecast.evaluation.seed_study import run_key
from jena_forecast.plumbing.atomic import read_json
from jena_forecast.plumbing.cli import call_with_paths, run_stage
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.tables import read_table
from jena_forecast.refit.config import RefitConfig
from jena_forecast.refit.record import to_fit_units
from jena_forecast.refit.scoring import RefitRows, summary_line, write_refit


class Config(ClassicalConfig, ScoringConfig):
    """The params this stage reads."""

    refit: RefitConfig


def run(
    config: Config,
    name: str,
    *,
    table_path: Path,
    refit_array_path: Path,
    refit_scaler_path: Path,
    refit_anchors_path: Path,
    fit_forecasts_path: Path,
    fit_metrics_path: Path,
    metrics_path: Path,
    scores_path: Path,
    forecasts_path: Path,
    model_path: Path | None = None,
    timing_path: Path | None = None,
) -> dict[str, Any]:
    """Fit classical model ``name`` on the refit's training windows with its fit's choices
    (``fit_metrics_path``: classical@'s record) and score its test forecasts beside that fit's;
    keep the fitted estimator at ``model_path`` (an anchored network's refit starts at it)."""
    from jena_forecast.classical.design import classical_features
    from jena_forecast.classical.persist import save_estimator
    from jena_forecast.refit.classical import frozen_choice, refit_classical

    if name not in config.refit.classical:
        raise PipelineError(
            f"model {name!r} is not in refit.classical. "
            f"Expected one of: {', '.join(config.refit.classical) or '(none)'}"
        )
    spec = config.classical_model(name)
    rows = RefitRows(config.windows, refit_array_path, refit_scaler_path, refit_anchors_path)
    fit = rows.fit_forecasts(fit_forecasts_path)
    choice = frozen_choice(spec, read_json(fit_metrics_path), str(fit_metrics_path))
    timestamps = pd.DatetimeIndex(read_table(table_path).index)
    if len(timestamps) != rows.data.shape[0]:
        raise PipelineError(
            f"{table_path} has {len(timestamps)} rows but {refit_array_path} has "
            f"{rows.data.shape[0]}; rerun the pipeline from the parse stage"
        )
    features = classical_features(
        rows.data,
        timestamps,
        rows.scaler,
        rows.spec,
        spec.params,
        60 // config.parse.interval_minutes,
    )
    design = {}
    for split, anchors in rows.anchors.items():
        x = features.at(anchors)
        if np.isnan(x).any():
            raise PipelineError(f"{refit_array_path}: {split} windows have missing features")
        naive = naive_forecast(rows.data, anchors, rows.spec)[:, 0].astype(np.float64)
        change = assemble_targets(rows.data, anchors, rows.spec)[:, 0].astype(np.float64) - naive
        design[split] = (x, change, naive)
    fitted = refit_classical(spec, choice, config.seed, design["train"][0], design["train"][1])
    forecast = fitted.forecast(design["test"][0], design["test"][2])
    refit = {config.seed: to_fit_units(rows.degc(forecast), fit)}
    extra = {**rows.record(), "estimator": spec.estimator, "frozen": choice}
    if model_path is not None:
        save_estimator(model_path, fitted.estimator)
    return write_refit(
        config,
        refit,
        fit,
        {config.seed: fit.predicted["test"]},
        extra,
        metrics_path=metrics_path,
        scores_path=scores_path,
        forecasts_path=forecasts_path,
        timing_path=timing_path,
        runs={run_key(config.seed): {"train_seconds": fitted.train_seconds}},
    )


def main() -> str:
    (name,), record = call_with_paths(run)
    return summary_line(name, record)


if __name__ == "__main__":
    run_stage("refit_classical", main)
