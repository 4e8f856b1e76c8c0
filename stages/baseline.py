"""DVC stage baseline: MAE of the naive forecast (temperature now) on the val and test windows."""

from layout import ANCHORS, NAIVE_METRICS, NORMALIZED, SCALER

from jena_forecast import steps
from jena_forecast.cli import run_stage
from jena_forecast.config import load_params


def main() -> str:
    metrics = steps.baseline(load_params(), NORMALIZED, SCALER, ANCHORS, NAIVE_METRICS)
    return f"naive MAE val {metrics['val']['mae_degc']:.3f} degC, test {metrics['test']['mae_degc']:.3f} degC"


if __name__ == "__main__":
    run_stage("baseline", main)
