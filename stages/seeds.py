"""DVC stage seeds@<model>: retrain one model from every seed of seed_study.seeds; mean and std."""

from layout import (
    ANCHORS,
    NORMALIZED,
    SCALER,
    seed_checkpoint_dir,
    seed_forecasts,
    seed_metrics,
)

from jena_forecast import steps
from jena_forecast.cli import model_argument, run_stage
from jena_forecast.config import load_params


def main() -> str:
    name = model_argument()
    record = steps.seed_study(
        load_params(),
        name,
        NORMALIZED,
        SCALER,
        ANCHORS,
        seed_metrics(name),
        seed_forecasts(name),
        seed_checkpoint_dir(name),
    )
    val, test = record["val"], record["test"]
    return (
        f"{name}: over seeds {record['seeds']}, MAE val {val['mae_degc_mean']:.3f} "
        f"± {val['mae_degc_std']:.3f} degC, test {test['mae_degc_mean']:.3f} "
        f"± {test['mae_degc_std']:.3f} degC (sample std) -> {seed_metrics(name)}"
    )


if __name__ == "__main__":
    run_stage("seeds", main)
