"""DVC stage package: the forecaster artifact, one model packed with all a forecast needs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from jena_forecast.plumbing.cli import call_with_paths, run_stage
from jena_forecast.plumbing.tables import read_tsv
from jena_forecast.refit.config import RefitConfig
from jena_forecast.serving.forecaster import (
    BEST,
    ForecasterConfig,
    PackageConfig,
    PipelineFiles,
    pack,
    save_forecaster,
)


class Config(ForecasterConfig):
    """The params this stage reads."""

    package: PackageConfig
    refit: RefitConfig


def run(
    config: Config,
    *,
    leaderboard_path: Path,
    model_dir: Path,
    scaler_path: Path,
    normalized_path: Path,
    quality_path: Path,
    model_metrics_dir: Path,
    forecasts_dir: Path,
    ensemble_path: Path,
    ensemble_forecasts_path: Path,
    forecaster_dir: Path,
    deploy_model_dir: Path | None = None,
    deploy_scaler_path: Path | None = None,
    deploy_normalized_path: Path | None = None,
    refit_forecasts_dir: Path | None = None,
    refit_ensemble_forecasts_path: Path | None = None,
) -> dict[str, Any]:
    """Pack ``package.model`` (``best``: the leaderboard's first trained row) into
    ``forecaster_dir``: its networks, scaler, window geometry, parse and feature settings, columns,
    prediction-interval widths and the fitted rows' range of every column, which the forecast
    command checks its inputs against (``jena_forecast.serving.forecaster``).

    With the deployment paths, and a deployment fit of every member (``refit`` names them), the
    models packed are those fitted on every row of the record, with their scaler and ranges and
    intervals from the refit's test errors (``serving.deployment``); otherwise the evaluation fit
    (the models fitted on the training slice) is packed, and its record says so (``fit``).
    """
    from jena_forecast.evaluation.leaderboard import best_model
    from jena_forecast.plumbing.atomic import read_json
    from jena_forecast.serving.deployment import (
        DEPLOYMENT_FIT,
        EVALUATION_FIT,
        DeploymentFiles,
        deployable,
        pack_deployment,
    )
    from jena_forecast.serving.forecaster import members_of

    name = config.package.model
    if name == BEST:
        name = best_model(read_tsv(leaderboard_path))
    files = PipelineFiles(
        model_dir=model_dir,
        scaler=scaler_path,
        normalized=normalized_path,
        data_quality=quality_path,
        model_metrics=model_metrics_dir,
        forecasts=forecasts_dir,
        ensemble_metrics=ensemble_path,
        ensemble_forecasts=ensemble_forecasts_path,
    )
    deployment = None
    given = (
        deploy_model_dir,
        deploy_scaler_path,
        deploy_normalized_path,
        refit_forecasts_dir,
        refit_ensemble_forecasts_path,
    )
    if all(path is not None for path in given):
        deployment = DeploymentFiles(*given)
        members = members_of(config, name, read_json(ensemble_path) if name == "ensemble" else None)
        if not deployable(config, config.refit, members, deployment):
            deployment = None
    if deployment is not None:
        forecaster = pack_deployment(config, name, files, deployment)
    else:
        forecaster = pack(config, name, files)
        forecaster = replace(forecaster, record={**forecaster.record, "fit": EVALUATION_FIT})
    save_forecaster(forecaster, forecaster_dir)
    return {
        "fit": DEPLOYMENT_FIT if deployment is not None else EVALUATION_FIT,
        "model": forecaster.model,
        "members": [member.name for member in forecaster.members],
        "intervals": forecaster.intervals,
    }


def main() -> str:
    _, packed = call_with_paths(run)
    widths = ", ".join(
        f"{key[1:]}% +-{interval['half_width_degc']:.2f} degC"
        for key, interval in packed["intervals"].items()
    )
    return (
        f"packed {packed['model']} ({', '.join(packed['members'])}), fitted on "
        f"{'every row' if packed['fit'] == 'deployment' else 'the training slice'}; intervals {widths}"
    )


if __name__ == "__main__":
    run_stage("package", main)
