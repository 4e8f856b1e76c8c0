"""DVC stage leaderboard: every model of params.yaml (deep and classical), the ensemble and the naive
baseline, best val MAE first, with the seed study's mean and standard deviation where a model has one."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from jena_forecast.atomic import read_json, write_text
from jena_forecast.cli import path_arguments, per_model, run_stage
from jena_forecast.config import load_params
from jena_forecast.ensemble import ENSEMBLE


def run(
    *,
    naive_path: Path,
    metrics_paths: dict[str, Path],
    leaderboard_path: Path,
    seed_paths: dict[str, Path] | None = None,
) -> pd.DataFrame:
    """Rank every model and the naive baseline by validation MAE; save the table as TSV.

    ``metrics_paths`` names each model's metrics (the ensemble's too), ``seed_paths`` the seed-study
    metrics of the models that have one.
    """
    from jena_forecast.leaderboard import leaderboard as rank_models

    table = rank_models(
        read_json(naive_path),
        {name: read_json(path) for name, path in metrics_paths.items()},
        {name: read_json(path) for name, path in (seed_paths or {}).items()},
    )
    write_text(leaderboard_path, table.to_csv(sep="\t", index=False, lineterminator="\n"))
    return table


def main() -> str:
    config = load_params()
    args = path_arguments(
        "python -m stages.leaderboard",
        ["naive_path", "metrics_paths", "ensemble_path", "seed_paths", "leaderboard_path"],
    )
    names = [*config.models, *config.classical]
    table = run(
        naive_path=args.naive_path,
        metrics_paths=per_model(args.metrics_paths, names) | {ENSEMBLE: args.ensemble_path},
        leaderboard_path=args.leaderboard_path,
        seed_paths=per_model(args.seed_paths, [*config.seed_study.models, ENSEMBLE]),
    )
    best = table.iloc[0]
    return f"{len(table)} rows, best val MAE {best['val_mae_degc']:.3f} degC ({best['model']})"


if __name__ == "__main__":
    run_stage("leaderboard", main)
