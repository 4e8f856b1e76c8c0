"""DVC stage evaluate@<model>: val/test MAE of one model next to the naive baseline."""

from layout import (
    ANCHORS,
    NORMALIZED,
    SCALER,
    TABLE,
    horizons,
    model_file,
    model_metrics,
    predictions,
    train_summary,
)

from jena_forecast import steps
from jena_forecast.cli import model_argument, run_stage
from jena_forecast.config import load_params


def main() -> str:
    name = model_argument()
    metrics = steps.evaluate(
        load_params(),
        name,
        NORMALIZED,
        SCALER,
        ANCHORS,
        model_file(name),
        train_summary(name),
        model_metrics(name),
        horizons(name),
        TABLE,
        predictions(name),
    )
    val, test = metrics["val"], metrics["test"]
    return (
        f"{name}: MAE val {val['mae_degc']:.3f} degC (naive {val['naive_mae_degc']:.3f}), "
        f"test {test['mae_degc']:.3f} degC (naive {test['naive_mae_degc']:.3f}), "
        f"skill val {val['skill_vs_naive']:+.1%} test {test['skill_vs_naive']:+.1%}"
    )


if __name__ == "__main__":
    run_stage("evaluate", main)
