"""DVC stage ensemble_seeds: the ensemble's members trained from every seed of seed_study.seeds,
averaged seed by seed; the mean and std of its MAE."""

from layout import (
    ANCHORS,
    ENSEMBLE_METRICS,
    ENSEMBLE_SEEDS_CHECKPOINTS,
    NORMALIZED,
    SCALER,
    classical_forecasts,
    seed_forecasts,
    seed_metrics,
)

from jena_forecast import steps
from jena_forecast.cli import run_stage
from jena_forecast.config import load_params
from jena_forecast.ensemble import ENSEMBLE


def main() -> str:
    config = load_params()
    record = steps.ensemble_seed_study(
        config,
        NORMALIZED,
        SCALER,
        ANCHORS,
        ENSEMBLE_METRICS,
        seed_metrics(ENSEMBLE),
        {name: seed_forecasts(name) for name in config.seed_study.models},
        {name: classical_forecasts(name) for name in config.classical},
        ENSEMBLE_SEEDS_CHECKPOINTS,
    )
    val, test = record["val"], record["test"]
    trained = record["retrained_members"]
    return (
        f"mean of {', '.join(record['members'])} over seeds {record['seeds']}"
        + (f" ({', '.join(trained)} trained here)" if trained else "")
        + f": MAE val {val['mae_degc_mean']:.3f} ± {val['mae_degc_std']:.3f} degC, "
        f"test {test['mae_degc_mean']:.3f} ± {test['mae_degc_std']:.3f} degC (sample std) "
        f"-> {seed_metrics(ENSEMBLE)}"
    )


if __name__ == "__main__":
    run_stage("ensemble_seeds", main)
