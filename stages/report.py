"""DVC stage report: reports/summary.md and its PNG charts, readable without DVC."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from jena_forecast.classical.spec import ClassicalConfig
from jena_forecast.evaluation.ensemble import ENSEMBLE
from jena_forecast.models.spec import ModelsConfig
from jena_forecast.plumbing.atomic import read_json, write_text
from jena_forecast.plumbing.cli import path_arguments, per_model, run_stage
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.tables import read_tsv


class Config(ModelsConfig, ClassicalConfig):
    """The params this stage reads: which models there are."""


def run(
    *,
    leaderboard_path: Path,
    predictions_paths: dict[str, Path],
    quality_path: Path,
    report_dir: Path,
    ensemble_path: Path | None = None,
) -> dict[str, Any]:
    """Write the static summary: Markdown, the leaderboard chart and the best model's forecast chart.

    With ``ensemble_path``, the summary names the ensemble's members.
    """
    from jena_forecast.evaluation import report as summary
    from jena_forecast.evaluation.leaderboard import best_model

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


def main() -> str:
    config = Config.load()
    args = path_arguments(
        "python -m stages.report",
        ["leaderboard_path", "predictions_paths", "quality_path", "report_dir", "ensemble_path"],
    )
    names = [*config.models, *config.classical, ENSEMBLE]
    written = run(
        leaderboard_path=args.leaderboard_path,
        predictions_paths=per_model(args.predictions_paths, names),
        quality_path=args.quality_path,
        report_dir=args.report_dir,
        ensemble_path=args.ensemble_path,
    )
    return f"best model {written['best_model']} of {written['models']} rows -> {written['summary']}"


if __name__ == "__main__":
    run_stage("report", main)
