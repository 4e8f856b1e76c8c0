"""DVC stage ensemble: the mean 24 h forecast of the best models by validation MAE (or named ones),
deep and classical."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from jena_forecast.classical.spec import ClassicalConfig
from jena_forecast.data.normalize import column_stats
from jena_forecast.data.windows import load_windows, window_spec
from jena_forecast.evaluation.ensemble import EnsembleConfig
from jena_forecast.evaluation.forecasts import save_forecasts
from jena_forecast.evaluation.metrics import headline, write_forecasts
from jena_forecast.evaluation.scoring import ScoringConfig, score_forecasts
from jena_forecast.models.spec import ModelsConfig
from jena_forecast.plumbing.atomic import read_json, write_json
from jena_forecast.plumbing.cli import path_arguments, per_model, run_stage
from jena_forecast.plumbing.errors import PipelineError


class Config(ModelsConfig, ClassicalConfig, ScoringConfig):
    """The params this stage reads: every candidate, the ensemble's, and how it is scored."""

    ensemble: EnsembleConfig


def _member_forecasts(
    name: str, config: Config, path: Path, anchors: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """A member's normalized 24 h forecasts of the val and test windows, as its evaluate@ or
    classical@ stage saved them; refused when they are of other windows than this run's."""
    from jena_forecast.evaluation.forecasts import SPLITS, load_forecasts

    saved = load_forecasts(path)
    stage = f"classical@{name}" if name in config.classical else f"evaluate@{name}"
    for split in SPLITS:
        if not np.array_equal(saved.anchors[split], anchors[split]):
            raise PipelineError(
                f"{path}: forecasts of {saved.anchors[split].size} {split} windows other than "
                f"this run's {anchors[split].size}; rerun {stage}"
            )
    return saved.predicted


def run(
    config: Config,
    *,
    array_path: Path,
    scaler_path: Path,
    anchors_path: Path,
    table_path: Path,
    metrics_paths: dict[str, Path],
    forecast_paths: dict[str, Path],
    ensemble_path: Path,
    ensemble_forecasts_path: Path,
    scores_path: Path,
    predictions_path: Path,
) -> dict[str, Any]:
    """Average the 24 h forecasts of the ensemble's members; score it like a model.

    Members are ``ensemble.members``, or the ``ensemble.top_k`` models of ``metrics_paths`` with the
    lowest validation MAE; their forecasts are read from ``forecast_paths`` (what each member's
    evaluate@ or classical@ stage saved). The ensemble's own are saved at
    ``ensemble_forecasts_path``.
    """
    from jena_forecast.evaluation.ensemble import average_forecasts, ensemble_record, select_members

    records = {name: read_json(path) for name, path in metrics_paths.items()}
    members = select_members(config.ensemble, records)
    spec, scale = window_spec(config.windows, scaler_path)
    mean, _ = column_stats(read_json(scaler_path), config.windows.target_column, str(scaler_path))
    data, anchors = load_windows(array_path, anchors_path)
    forecasts: dict[str, list[np.ndarray]] = {"val": [], "test": []}
    for name in members:
        member = _member_forecasts(name, config, forecast_paths[name], anchors)
        for split in forecasts:
            forecasts[split].append(member[split])
    averaged = {split: average_forecasts(values) for split, values in forecasts.items()}
    metrics, kept = score_forecasts(config, averaged, data, anchors, spec, scale, mean)
    split_scores = {split: metrics.pop(split) for split in ("val", "test")}
    record = ensemble_record(members, records, split_scores) | metrics
    test_paths = averaged["test"].reshape(-1, 1)  # one point per window: the 24 h forecast
    write_forecasts(
        predictions_path, table_path, test_paths, data, anchors["test"], spec, mean, scale
    )
    save_forecasts(ensemble_forecasts_path, kept)
    write_json(ensemble_path, record)
    write_json(scores_path, headline(record))
    return record


def main() -> str:
    config = Config.load()
    args = path_arguments(
        "python -m stages.ensemble",
        [
            "array_path",
            "scaler_path",
            "anchors_path",
            "table_path",
            "metrics_paths",
            "forecast_paths",
            "ensemble_path",
            "ensemble_forecasts_path",
            "scores_path",
            "predictions_path",
        ],
    )
    candidates = [*config.models, *(config.classical if config.ensemble.include_classical else [])]
    record = run(
        config,
        array_path=args.array_path,
        scaler_path=args.scaler_path,
        anchors_path=args.anchors_path,
        table_path=args.table_path,
        metrics_paths=per_model(args.metrics_paths, candidates),
        forecast_paths=per_model(args.forecast_paths, candidates),
        ensemble_path=args.ensemble_path,
        ensemble_forecasts_path=args.ensemble_forecasts_path,
        scores_path=args.scores_path,
        predictions_path=args.predictions_path,
    )
    val, test = record["val"], record["test"]
    return (
        f"mean of {', '.join(record['members'])}: MAE val {val['mae_degc']:.3f} degC, "
        f"test {test['mae_degc']:.3f} degC, skill val {val['skill_vs_naive']:+.1%} "
        f"test {test['skill_vs_naive']:+.1%}"
    )


if __name__ == "__main__":
    run_stage("ensemble", main)
