"""DVC stage leaderboard: every model of params.yaml (deep and classical), the ensemble and the naive
baseline, ranked by validation MAE over seeds where there is a seed study, with the 95% intervals of
the test scores (of the seed mean too) and the models tied with the best (model confidence set) on
each split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from jena_forecast.classical.spec import ClassicalConfig
from jena_forecast.evaluation.ensemble import ENSEMBLE
from jena_forecast.evaluation.forecasts import SPLITS, Forecasts, seed_forecast_key
from jena_forecast.evaluation.leaderboard import NAIVE
from jena_forecast.evaluation.scoring import ScoringConfig
from jena_forecast.evaluation.seed_study import SeedStudyConfig
from jena_forecast.models.spec import ModelsConfig
from jena_forecast.plumbing.atomic import read_json, write_text
from jena_forecast.plumbing.cli import path_arguments, per_model, run_stage
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.refit.config import RefitConfig


class Config(ModelsConfig, ClassicalConfig, ScoringConfig):
    """The params this stage reads: every model, the seed study, the refits, and how ties are found."""

    seed_study: SeedStudyConfig
    refit: RefitConfig


def _seed_mean_losses(path: Path, kept: Forecasts, seeds: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Per split, each window's absolute error averaged over a seed study's seeds: the loss whose
    mean is the MAE over seeds the leaderboard ranks by."""
    from jena_forecast.plumbing.artifacts import load_arrays

    keys = tuple(seed_forecast_key(split, seed) for split in SPLITS for seed in seeds)
    saved = load_arrays(path, keys)
    losses = {}
    for split in SPLITS:
        errors = [
            np.abs(saved[seed_forecast_key(split, seed)].reshape(-1) - kept.actual[split])
            for seed in seeds
        ]
        if any(error.shape != kept.actual[split].shape for error in errors):
            raise PipelineError(
                f"{path}: forecasts of other {split} windows; rerun its seeds stage"
            )
        losses[split] = np.mean(errors, axis=0)
    return losses


def window_losses(
    config: Config,
    forecast_paths: dict[str, Path],
    seed_forecast_paths: dict[str, Path] | None,
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, np.ndarray]], Forecasts]:
    """Per model and split, the per-window absolute errors of the forecasts at ``forecast_paths``
    (naive's among them, all of the same windows), a model with a seed study entering with its
    errors averaged over the seeds; those seed means again on their own; and naive's forecasts."""
    from jena_forecast.evaluation.forecasts import check_same_windows, load_forecasts

    forecasts = {name: load_forecasts(path) for name, path in forecast_paths.items()}
    reference_name = next(iter(forecasts))
    for name, kept in forecasts.items():
        check_same_windows(forecasts[reference_name], kept, (reference_name, name))
    losses = {
        name: {split: kept.abs_errors(split) for split in SPLITS}
        for name, kept in forecasts.items()
    }
    seed_means = {
        name: _seed_mean_losses(path, forecasts[name], config.seed_study.seeds)
        for name, path in (seed_forecast_paths or {}).items()
        if name in forecasts
    }
    losses.update(seed_means)
    return losses, seed_means, forecasts.get(NAIVE, forecasts[reference_name])


def tie_p_values(
    config: Config,
    losses: dict[str, dict[str, np.ndarray]],
) -> dict[str, dict[str, float]]:
    """Per split, each model's model confidence set p-value over its per-window absolute
    errors (``window_losses``: a model with a seed study enters with its seeds' mean)."""
    from jena_forecast.evaluation.scoring import bootstrap
    from jena_forecast.evaluation.significance import tied_with_best

    windows = min(len(by_split[split]) for by_split in losses.values() for split in SPLITS)
    resampling = bootstrap(config, windows)
    return {
        split: tied_with_best(
            {name: by_split[split] for name, by_split in losses.items()},
            resampling,
            config.significance.tie_size,
        )
        for split in SPLITS
    }


def seed_mean_uncertainty(
    config: Config,
    seed_means: dict[str, dict[str, np.ndarray]],
    naive: Forecasts,
) -> dict[str, dict[str, float | str]]:
    """Per model with a seed study, the test split's 95% intervals of its MAE and skill over the
    seeds and the test against naive (``significance.split_uncertainty``), from the per-window
    absolute errors averaged over the seeds: the uncertainty of the windows' draw for the seed
    mean (the seeds' spread is the std beside it)."""
    from jena_forecast.evaluation.scoring import bootstrap
    from jena_forecast.evaluation.significance import split_uncertainty

    naive_losses = naive.naive_abs_errors("test")
    resampling = bootstrap(config, min(len(naive.anchors[split]) for split in SPLITS))
    return {
        name: split_uncertainty(by_split["test"], naive_losses, resampling, naive.target_scale)
        for name, by_split in seed_means.items()
    }


def run(
    config: Config,
    *,
    naive_path: Path,
    metrics_paths: dict[str, Path],
    leaderboard_path: Path,
    seed_paths: dict[str, Path] | None = None,
    forecast_paths: dict[str, Path] | None = None,
    seed_forecast_paths: dict[str, Path] | None = None,
    refit_paths: dict[str, Path] | None = None,
) -> pd.DataFrame:
    """Rank every model and the naive baseline; save the table as TSV.

    ``metrics_paths`` names each model's metrics (the ensemble's too), ``seed_paths`` the seed-study
    metrics of the models that have one, ``forecast_paths`` every row's saved forecasts (naive's
    too), from which the tied-with-best columns come (a model's seed-study forecasts at
    ``seed_forecast_paths`` stand for it there, and give the intervals of its seed mean); without
    them those columns stay empty. ``refit_paths`` name the refit records (``refit/record.py``)
    of the models refitted on training + validation, whose test scores fill the ``refit_*`` columns
    beside the fit's; an ensemble refit without scores (members not refitted) leaves them empty.
    """
    from jena_forecast.evaluation.leaderboard import leaderboard as rank_models

    mcs_p, seed_uncertainty = None, None
    if forecast_paths:
        losses, seed_means, naive = window_losses(config, forecast_paths, seed_forecast_paths)
        mcs_p = tie_p_values(config, losses)
        seed_uncertainty = seed_mean_uncertainty(config, seed_means, naive)
    table = rank_models(
        read_json(naive_path),
        {name: read_json(path) for name, path in metrics_paths.items()},
        {name: read_json(path) for name, path in (seed_paths or {}).items()},
        mcs_p,
        config.significance.tie_size,
        seed_uncertainty,
        alpha=1 - config.significance.level,
        refits={name: read_json(path) for name, path in (refit_paths or {}).items()},
    )
    write_text(leaderboard_path, table.to_csv(sep="\t", index=False, lineterminator="\n"))
    return table


def main() -> str:
    config = Config.load()
    args = path_arguments(
        "python -m stages.leaderboard",
        [
            "naive_path",
            "metrics_paths",
            "ensemble_path",
            "seed_paths",
            "forecast_paths",
            "ensemble_forecasts_path",
            "seed_forecast_paths",
            "ensemble_seed_forecasts_path",
            "leaderboard_path",
        ],
        optional=["refit_paths"],
    )
    names = [*config.models, *config.classical]
    studied = [*config.seed_study.models, *config.anchored]  # anchored@ runs its own seed study
    table = run(
        config,
        naive_path=args.naive_path,
        metrics_paths=per_model(args.metrics_paths, names) | {ENSEMBLE: args.ensemble_path},
        leaderboard_path=args.leaderboard_path,
        seed_paths=per_model(args.seed_paths, [*studied, ENSEMBLE]),
        forecast_paths=per_model(args.forecast_paths, [NAIVE, *names])
        | {ENSEMBLE: args.ensemble_forecasts_path},
        seed_forecast_paths=per_model(args.seed_forecast_paths, studied)
        | {ENSEMBLE: args.ensemble_seed_forecasts_path},
        refit_paths=per_model(
            args.refit_paths,
            [*config.refit.models, *config.anchored, *config.refit.classical, ENSEMBLE],
        )
        if args.refit_paths
        else None,
    )
    tied = ", ".join(table.loc[table["rank"] == 1, "model"])
    best = table.iloc[0]
    return (
        f"{len(table)} rows, best val MAE {best['ranked_val_mae_degc']:.3f} degC; "
        f"rank 1 (tied with the best on validation): {tied}"
    )


if __name__ == "__main__":
    run_stage("leaderboard", main)
