"""DVC stage train@<model>: fit one model of params.yaml's ``models`` and keep its best weights."""

from layout import (
    ANCHORS,
    NORMALIZED,
    SCALER,
    checkpoint_dir,
    model_file,
    train_log,
    train_summary,
)

from jena_forecast import steps
from jena_forecast.cli import model_argument, run_stage
from jena_forecast.config import load_params


def main() -> str:
    name = model_argument()
    summary = steps.train(
        load_params(),
        name,
        NORMALIZED,
        SCALER,
        ANCHORS,
        model_file(name),
        train_summary(name),
        train_log(name),
        checkpoint_dir(name),
    )
    return (
        f"{name}: {summary['epochs']} epochs in {summary['train_seconds']:.1f} s, best val loss "
        f"{summary['best_val_loss']:.4f} at epoch {summary['best_epoch']} -> {model_file(name)}"
    )


if __name__ == "__main__":
    run_stage("train", main)
