"""DVC stage package: the forecaster artifact, one model packed with all a forecast needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jena_forecast.plumbing.cli import call_with_paths, run_stage
from jena_forecast.plumbing.tables import read_tsv
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
) -> dict[str, Any]:
    """Pack ``package.model`` (``best``: the leaderboard's first trained row) into
    ``forecaster_dir``: its networks, scaler, window geometry, parse and feature settings, columns,
    prediction-interval widths and the training slice's range of every column, which the forecast
    command checks its inputs against (``jena_forecast.serving.forecaster``)."""
    from jena_forecast.evaluation.leaderboard import best_model

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
    forecaster = pack(config, name, files)
    save_forecaster(forecaster, forecaster_dir)
    return {
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
    return f"packed {packed['model']} ({', '.join(packed['members'])}); intervals {widths}"


if __name__ == "__main__":
    run_stage("package", main)
