"""DVC stage baseline: MAE of the naive forecast (temperature now) on the val and test windows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jena_forecast.data.normalize import column_stats
from jena_forecast.data.windows import load_windows, naive_forecast, window_spec
from jena_forecast.evaluation.forecasts import save_forecasts
from jena_forecast.evaluation.metrics import headline
from jena_forecast.evaluation.scoring import ScoringConfig, score_forecasts
from jena_forecast.plumbing.atomic import read_json, write_json
from jena_forecast.plumbing.cli import call_with_paths, run_stage


def run(
    config: ScoringConfig,
    *,
    array_path: Path,
    scaler_path: Path,
    anchors_path: Path,
    metrics_path: Path,
    scores_path: Path,
    forecasts_path: Path,
) -> dict[str, Any]:
    """Score the naive forecast (temperature now) on the val and test windows, and keep it
    (``forecasts_path``) like every model's."""
    spec, scale = window_spec(config.windows, scaler_path)
    mean, _ = column_stats(read_json(scaler_path), config.windows.target_column, str(scaler_path))
    data, anchors = load_windows(array_path, anchors_path)
    naive = {split: naive_forecast(data, anchors[split], spec) for split in ("val", "test")}
    metrics, forecasts = score_forecasts(config, naive, data, anchors, spec, scale, mean)
    save_forecasts(forecasts_path, forecasts)
    write_json(metrics_path, metrics)
    write_json(scores_path, headline(metrics))
    return metrics


def main() -> str:
    _, metrics = call_with_paths(run)
    return f"naive MAE val {metrics['val']['mae_degc']:.3f} degC, test {metrics['test']['mae_degc']:.3f} degC"


if __name__ == "__main__":
    run_stage("baseline", main)
