"""DVC stage leaderboard: every model of params.yaml (deep and classical), the ensemble and the naive
baseline, ranked by validation MAE over seeds where there is a seed study, with the 95% intervals of
the test scores and the models tied with the best (model confidence set) on each split."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from jena_forecast.atomic import read_json, write_text
from jena_forecast.cli import path_arguments, per_model, run_stage
from jena_forecast.config import PipelineConfig, load_params
from jena_forecast.ensemble import ENSEMBLE
from jena_forecast.leaderboard import NAIVE


def tie_p_values(
    config: PipelineConfig, forecast_paths: dict[str, Path]
) -> dict[str, dict[str, float]]:
    """Per split, each model's model confidence set p-value over the per-window absolute errors of
    the forecasts at ``forecast_paths`` (naive's among them), all of the same windows."""
    from jena_forecast.forecasts import SPLITS, check_same_windows, load_forecasts
    from jena_forecast.scoring import bootstrap
    from jena_forecast.significance import tied_with_best

    forecasts = {name: load_forecasts(path) for name, path in forecast_paths.items()}
    reference_name = next(iter(forecasts))
    for name, kept in forecasts.items():
        check_same_windows(forecasts[reference_name], kept, (reference_name, name))
    windows = min(len(kept.anchors[split]) for kept in forecasts.values() for split in SPLITS)
    resampling = bootstrap(config, windows)
    return {
        split: tied_with_best(
            {name: kept.abs_errors(split) for name, kept in forecasts.items()},
            resampling,
            config.significance.tie_size,
        )
        for split in SPLITS
    }


def run(
    config: PipelineConfig,
    *,
    naive_path: Path,
    metrics_paths: dict[str, Path],
    leaderboard_path: Path,
    seed_paths: dict[str, Path] | None = None,
    forecast_paths: dict[str, Path] | None = None,
) -> pd.DataFrame:
    """Rank every model and the naive baseline; save the table as TSV.

    ``metrics_paths`` names each model's metrics (the ensemble's too), ``seed_paths`` the seed-study
    metrics of the models that have one, ``forecast_paths`` every row's saved forecasts (naive's
    too), from which the tied-with-best columns come; without them those columns stay empty.
    """
    from jena_forecast.leaderboard import leaderboard as rank_models

    table = rank_models(
        read_json(naive_path),
        {name: read_json(path) for name, path in metrics_paths.items()},
        {name: read_json(path) for name, path in (seed_paths or {}).items()},
        tie_p_values(config, forecast_paths) if forecast_paths else None,
        config.significance.tie_size,
    )
    write_text(leaderboard_path, table.to_csv(sep="\t", index=False, lineterminator="\n"))
    return table


def main() -> str:
    config = load_params()
    args = path_arguments(
        "python -m stages.leaderboard",
        [
            "naive_path",
            "metrics_paths",
            "ensemble_path",
            "seed_paths",
            "forecast_paths",
            "ensemble_forecasts_path",
            "leaderboard_path",
        ],
    )
    names = [*config.models, *config.classical]
    table = run(
        config,
        naive_path=args.naive_path,
        metrics_paths=per_model(args.metrics_paths, names) | {ENSEMBLE: args.ensemble_path},
        leaderboard_path=args.leaderboard_path,
        seed_paths=per_model(args.seed_paths, [*config.seed_study.models, ENSEMBLE]),
        forecast_paths=per_model(args.forecast_paths, [NAIVE, *names])
        | {ENSEMBLE: args.ensemble_forecasts_path},
    )
    tied = ", ".join(table.loc[table["rank"] == 1, "model"])
    best = table.iloc[0]
    return (
        f"{len(table)} rows, best val MAE {best['ranked_val_mae_degc']:.3f} degC; "
        f"rank 1 (tied with the best on validation): {tied}"
    )


if __name__ == "__main__":
    run_stage("leaderboard", main)
