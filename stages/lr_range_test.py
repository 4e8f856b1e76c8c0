"""DVC stage lr_range_test: loss against an exponentially growing learning rate, and a suggested rate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jena_forecast.data.windows import load_windows, window_spec
from jena_forecast.models.spec import ModelsConfig
from jena_forecast.plumbing.atomic import write_json, write_text
from jena_forecast.plumbing.cli import call_with_paths, run_stage
from jena_forecast.plumbing.tables import tsv
from jena_forecast.training.config import LrRangeTestConfig


class Config(ModelsConfig):
    """The params this stage reads."""

    lr_range_test: LrRangeTestConfig


def run(
    config: Config,
    *,
    array_path: Path,
    scaler_path: Path,
    anchors_path: Path,
    curve_path: Path,
    result_path: Path,
) -> dict[str, Any]:
    """Sweep the learning rate of ``lr_range_test.model``; save the loss curve and the suggested rate."""
    test = config.lr_range_test
    spec, _ = window_spec(config.windows, scaler_path)
    data, anchors = load_windows(array_path, anchors_path)
    from jena_forecast.training.lr_range import learning_rate_range_test

    result = learning_rate_range_test(
        test, config.model(test.model), config.seed, data, anchors["train"], spec
    )
    write_text(curve_path, tsv(result.rows))
    summary = {
        "model": test.model,
        "steps_run": len(result.rows),
        "min_loss_learning_rate": result.min_loss_learning_rate,
        "suggested_learning_rate": result.suggested_learning_rate,
    }
    write_json(result_path, summary)
    return summary


def main() -> str:
    _, result = call_with_paths(run)
    return (
        f"{result['model']}: {result['steps_run']} steps, lowest smoothed loss at "
        f"{result['min_loss_learning_rate']:.2e}, suggested learning rate {result['suggested_learning_rate']:.2e}"
    )


if __name__ == "__main__":
    run_stage("lr_range_test", main)
