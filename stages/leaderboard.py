"""DVC stage leaderboard: every model of params.yaml and the naive baseline, best val MAE first."""

from layout import LEADERBOARD, NAIVE_METRICS, model_metrics

from jena_forecast import steps
from jena_forecast.cli import run_stage
from jena_forecast.config import load_params


def main() -> str:
    config = load_params()
    names = [*config.models, *config.classical]
    table = steps.leaderboard(
        NAIVE_METRICS, {name: model_metrics(name) for name in names}, LEADERBOARD
    )
    best = table.iloc[0]
    return f"{len(table)} rows, best val MAE {best['val_mae_degc']:.3f} degC ({best['model']}) -> {LEADERBOARD}"


if __name__ == "__main__":
    run_stage("leaderboard", main)
