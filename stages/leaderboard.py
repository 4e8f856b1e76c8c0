"""DVC stage leaderboard: every model of params.yaml (deep and classical), the ensemble and the naive
baseline, best val MAE first, with the seed study's mean and standard deviation where a model has one."""

from layout import ENSEMBLE_METRICS, LEADERBOARD, NAIVE_METRICS, model_metrics, seed_metrics

from jena_forecast import steps
from jena_forecast.cli import run_stage
from jena_forecast.config import load_params
from jena_forecast.ensemble import ENSEMBLE


def main() -> str:
    config = load_params()
    names = [*config.models, *config.classical]
    table = steps.leaderboard(
        NAIVE_METRICS,
        {name: model_metrics(name) for name in names} | {ENSEMBLE: ENSEMBLE_METRICS},
        LEADERBOARD,
        {name: seed_metrics(name) for name in [*config.seed_study.models, ENSEMBLE]},
    )
    best = table.iloc[0]
    return f"{len(table)} rows, best val MAE {best['val_mae_degc']:.3f} degC ({best['model']}) -> {LEADERBOARD}"


if __name__ == "__main__":
    run_stage("leaderboard", main)
