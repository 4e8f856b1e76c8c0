"""DVC stage lr_range_test: loss against an exponentially growing learning rate, and a suggested rate."""

from layout import ANCHORS, LR_RANGE_CURVE, LR_RANGE_RESULT, NORMALIZED, SCALER

from jena_forecast import steps
from jena_forecast.cli import run_stage
from jena_forecast.config import load_params


def main() -> str:
    result = steps.lr_range_test(
        load_params(), NORMALIZED, SCALER, ANCHORS, LR_RANGE_CURVE, LR_RANGE_RESULT
    )
    return (
        f"{result['model']}: {result['steps_run']} steps, lowest smoothed loss at "
        f"{result['min_loss_learning_rate']:.2e}, suggested learning rate {result['suggested_learning_rate']:.2e}"
    )


if __name__ == "__main__":
    run_stage("lr_range_test", main)
