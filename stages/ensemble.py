"""DVC stage ensemble: the mean 24 h forecast of the best models by validation MAE (or named ones),
deep and classical."""

from layout import (
    ANCHORS,
    ENSEMBLE_METRICS,
    NORMALIZED,
    SCALER,
    TABLE,
    classical_forecasts,
    model_file,
    model_metrics,
    predictions,
)

from jena_forecast import steps
from jena_forecast.cli import run_stage
from jena_forecast.config import load_params
from jena_forecast.ensemble import ENSEMBLE


def main() -> str:
    config = load_params()
    classical = list(config.classical) if config.ensemble.include_classical else []
    record = steps.ensemble(
        config,
        NORMALIZED,
        SCALER,
        ANCHORS,
        TABLE,
        {name: model_metrics(name) for name in [*config.models, *classical]},
        {name: model_file(name) for name in config.models},
        ENSEMBLE_METRICS,
        predictions(ENSEMBLE),
        {name: classical_forecasts(name) for name in classical},
    )
    val, test = record["val"], record["test"]
    return (
        f"mean of {', '.join(record['members'])}: MAE val {val['mae_degc']:.3f} degC, "
        f"test {test['mae_degc']:.3f} degC, skill val {val['skill_vs_naive']:+.1%} "
        f"test {test['skill_vs_naive']:+.1%} -> {ENSEMBLE_METRICS}"
    )


if __name__ == "__main__":
    run_stage("ensemble", main)
