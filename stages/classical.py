"""DVC stage classical@<model>: fit one scikit-learn model of params classical, score it like the others."""

from layout import (
    ANCHORS,
    NORMALIZED,
    SCALER,
    TABLE,
    classical_forecasts,
    horizons,
    model_metrics,
    predictions,
)

from jena_forecast import steps
from jena_forecast.cli import model_argument, run_stage
from jena_forecast.config import load_params


def main() -> str:
    name = model_argument()
    metrics = steps.classical(
        load_params(),
        name,
        TABLE,
        NORMALIZED,
        SCALER,
        ANCHORS,
        model_metrics(name),
        horizons(name),
        predictions(name),
        classical_forecasts(name),
    )
    val, test = metrics["val"], metrics["test"]
    return (
        f"{name}: {metrics['estimator']} fitted in {metrics['train_seconds']:.1f} s, "
        f"MAE val {val['mae_degc']:.3f} degC (naive {val['naive_mae_degc']:.3f}), "
        f"test {test['mae_degc']:.3f} degC (naive {test['naive_mae_degc']:.3f}), "
        f"skill val {val['skill_vs_naive']:+.1%} test {test['skill_vs_naive']:+.1%}"
    )


if __name__ == "__main__":
    run_stage("classical", main)
