"""The deployment fit packed as the forecaster: the chosen model's members fitted on every row of
the record (``deploy@``/``deploy_classical@``), with the deployment rows' scaler and ranges, and
prediction intervals calibrated on errors no fit had seen: the refit's (fitted on training +
validation) on the latest ``intervals.calibration_days`` of test windows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from jena_forecast.evaluation.ensemble import ENSEMBLE
from jena_forecast.evaluation.forecasts import Forecasts, load_forecasts
from jena_forecast.evaluation.intervals import conformal_half_width, level_key
from jena_forecast.plumbing.artifacts import load_arrays
from jena_forecast.plumbing.atomic import read_json
from jena_forecast.refit.config import RefitConfig
from jena_forecast.refit.record import refit_forecast_key
from jena_forecast.serving.forecaster import (
    Forecaster,
    ForecasterConfig,
    PipelineFiles,
    fitted_rows_ranges,
    member_of,
    members_of,
    pack,
)

EVALUATION_FIT = "training"  # the fit the pipeline scores: its models fitted on the training slice
DEPLOYMENT_FIT = "deployment"


@dataclass(frozen=True)
class DeploymentFiles:
    """Where the deployment fit and the refit it is calibrated from are kept."""

    model_dir: Path  # <member>.keras / .skops fitted on every row
    scaler: Path
    normalized: Path
    refit_forecasts: Path  # <model>.npz of each refit
    refit_ensemble_forecasts: Path

    def refit_forecast(self, name: str) -> Path:
        return (
            self.refit_ensemble_forecasts
            if name == ENSEMBLE
            else self.refit_forecasts / f"{name}.npz"
        )


def deployable(
    config: ForecasterConfig, refit: RefitConfig, names: list[str], deployment: DeploymentFiles
) -> bool:
    """Whether every member has a deployment fit (it is in ``refit``'s lists and was fitted)."""
    refitted = {*refit.models, *config.anchored, *refit.classical}
    return all(
        name in refitted
        and (
            deployment.model_dir / f"{name}.{'skops' if name in config.classical else 'keras'}"
        ).is_file()
        for name in names
    )


def deployment_half_widths(
    config: ForecasterConfig, refit_test: np.ndarray, fit: Forecasts
) -> dict[str, dict[str, Any]]:
    """Per level, the conformal half-width (degC) of the refit's absolute test errors over the
    latest ``intervals.calibration_days`` of test windows (one window a row)."""
    errors = np.abs(np.asarray(refit_test, dtype=np.float64).reshape(-1) - fit.actual["test"])
    windows = int(config.intervals.calibration_days * 24 * 60 // config.parse.interval_minutes)
    recent = errors[-windows:] * fit.target_scale
    return {
        level_key(level): {
            "level": level,
            "half_width_degc": round(conformal_half_width(recent, level), 6),
            "calibration_windows": int(recent.size),
        }
        for level in config.intervals.levels
    }


def pack_deployment(
    config: ForecasterConfig, name: str, files: PipelineFiles, deployment: DeploymentFiles
) -> Forecaster:
    """The forecaster of leaderboard row ``name`` from its deployment fit: as ``pack`` gives the
    evaluation fit, with the members, scaler, training ranges and intervals of the deployment,
    and its record's scores joined by the refit's test scores (``refit_test_*``)."""
    evaluation = pack(config, name, files)
    names = members_of(
        config, name, read_json(files.ensemble_metrics) if name == ENSEMBLE else None
    )
    seed_key = refit_forecast_key(config.seed)
    refit_test = load_arrays(deployment.refit_forecast(name), (seed_key,))[seed_key]
    fit = load_forecasts(files.kept_forecasts(name))
    scaler = read_json(deployment.scaler)
    refit_errors = np.abs(refit_test.reshape(-1) - fit.actual["test"]) * fit.target_scale
    naive_mae = float(np.mean(fit.naive_abs_errors("test"))) * fit.target_scale
    refit_mae = float(np.mean(refit_errors))
    return replace(
        evaluation,
        members=tuple(
            member_of(config, member, deployment.model_dir, evaluation.spec) for member in names
        ),
        scaler=scaler,
        intervals=deployment_half_widths(config, refit_test, fit),
        record={
            **evaluation.record,
            "scores": {
                **evaluation.record["scores"],
                "refit_test_mae_degc": round(refit_mae, 6),
                "refit_test_skill_vs_naive": round(1 - refit_mae / naive_mae, 6),
            },
            "fit": DEPLOYMENT_FIT,
            "fitted_rows": scaler["fitted_rows"],
        },
        training_ranges=fitted_rows_ranges(deployment.normalized, scaler),
    )
