"""DVC stage refit_ensemble: the ensemble of the refitted members (the members validation chose for
the ensemble stage), per seed the mean of their refits' test forecasts, scored beside the
ensemble's seed study on the same windows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from jena_forecast.evaluation.forecasts import load_forecasts
from jena_forecast.evaluation.scoring import ScoringConfig
from jena_forecast.evaluation.seed_study import SeedStudyConfig
from jena_forecast.models.spec import ModelsConfig
from jena_forecast.plumbing.artifacts import load_arrays, save_arrays
from jena_forecast.plumbing.atomic import read_json, write_json
from jena_forecast.plumbing.cli import call_with_paths, run_stage
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.refit.config import RefitConfig
from jena_forecast.refit.record import refit_forecast_key
from jena_forecast.refit.scoring import summary_line, write_refit


class Config(ModelsConfig, ScoringConfig):
    """The params this stage reads (of the networks, which are anchored: refitted per seed too)."""

    seed: int
    seed_study: SeedStudyConfig
    refit: RefitConfig


def member_runs(config: Config, name: str, refit_forecasts_dir: Path) -> dict[int, np.ndarray]:
    """A refitted member's test forecasts for every seed of the seed study: a network's own seed's
    refit, a classical model's single refit for all of them."""
    seeds = config.seed_study.seeds
    path = refit_forecasts_dir / f"{name}.npz"
    if name in config.refit.models or name in config.anchored:
        saved = load_arrays(path, tuple(refit_forecast_key(seed) for seed in seeds))
        return {seed: saved[refit_forecast_key(seed)] for seed in seeds}
    if name in config.refit.classical:
        single = load_arrays(path, (refit_forecast_key(config.seed),))[
            refit_forecast_key(config.seed)
        ]
        return {seed: single for seed in seeds}
    raise PipelineError(
        f"the ensemble's member {name!r} is in neither refit.models nor refit.classical"
    )


def run(
    config: Config,
    *,
    ensemble_path: Path,
    ensemble_forecasts_path: Path,
    ensemble_seed_forecasts_path: Path,
    refit_forecasts_dir: Path,
    metrics_path: Path,
    scores_path: Path,
    forecasts_path: Path,
) -> dict[str, Any]:
    """Average the refits of the ensemble's members (``ensemble_path``) per seed; score the mean on
    test beside the ensemble's seed study (``ensemble_seed_forecasts_path``).

    When validation chose a member that ``refit`` does not name (after ``-S ensemble.top_k=5``, say),
    there is no refit to average: the record names the members ``not_refitted``, with no scores.
    """
    members = list(read_json(ensemble_path)["members"])
    seeds = config.seed_study.seeds
    refitted = {*config.refit.models, *config.anchored, *config.refit.classical}
    missing = [name for name in members if name not in refitted]
    if missing:
        record = {"members": members, "not_refitted": missing}
        save_arrays(forecasts_path, {})
        write_json(metrics_path, record)
        write_json(scores_path, {})
        return record
    fit = load_forecasts(ensemble_forecasts_path)
    runs = {name: member_runs(config, name, refit_forecasts_dir) for name in members}
    refit = {
        seed: np.mean([np.asarray(runs[name][seed], dtype=np.float64) for name in members], axis=0)
        for seed in seeds
    }
    saved = load_arrays(
        ensemble_seed_forecasts_path, tuple(refit_forecast_key(seed) for seed in seeds)
    )
    fit_runs = {seed: saved[refit_forecast_key(seed)] for seed in seeds}
    return write_refit(
        config,
        refit,
        fit,
        fit_runs,
        {"members": members, "fitted_on": "train+val"},
        metrics_path=metrics_path,
        scores_path=scores_path,
        forecasts_path=forecasts_path,
    )


def main() -> str:
    _, record = call_with_paths(run)
    if "not_refitted" in record:
        return (
            f"ensemble: members {', '.join(record['not_refitted'])} not refitted (add them to "
            "refit.models or refit.classical); no refit of the ensemble scored"
        )
    return summary_line("ensemble", record)


if __name__ == "__main__":
    run_stage("refit_ensemble", main)
