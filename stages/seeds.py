"""DVC stage seeds@<model>: retrain one model from every seed of seed_study.seeds; mean and std."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from jena_forecast.data.anchor_column import model_data
from jena_forecast.data.protocol import ProtocolConfig
from jena_forecast.data.windows import load_windows, window_spec
from jena_forecast.evaluation.forecasts import data_fingerprint
from jena_forecast.evaluation.metrics import headline
from jena_forecast.evaluation.seed_study import SeedStudyConfig
from jena_forecast.models.spec import ModelsConfig
from jena_forecast.plumbing.artifacts import save_arrays
from jena_forecast.plumbing.atomic import write_json
from jena_forecast.plumbing.cli import call_with_paths, run_stage
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.timings import split_timings, write_timings


class Config(ModelsConfig, ProtocolConfig):
    """The params this stage reads."""

    seed_study: SeedStudyConfig


def run(
    config: Config,
    name: str,
    *,
    array_path: Path,
    scaler_path: Path,
    anchors_path: Path,
    metrics_path: Path,
    scores_path: Path,
    forecasts_path: Path,
    model_metrics_path: Path | None = None,
    model_forecasts_path: Path | None = None,
    checkpoint_dir: Path | None = None,
    timing_path: Path | None = None,
    anchor_column_path: Path | None = None,
) -> dict[str, Any]:
    """Retrain model ``name`` from every seed of ``seed_study.seeds``; save each seed's val/test
    scores and their mean and sample standard deviation, and each seed's normalized 24 h forecasts
    of the val and test windows (``forecast_key``: the ensemble's seed study averages them). No
    model file is kept.

    With ``model_metrics_path`` and ``model_forecasts_path`` (evaluate@'s record and kept
    forecasts), the project's own ``seed``, when it is among the seeds, is not trained again: its
    run is taken from them (``pipeline_run_seed`` in the record says so). With ``checkpoint_dir``,
    an interrupted study keeps the seeds it finished and resumes the one it was training; the
    directory is removed once the metrics are written.
    """
    from jena_forecast.evaluation.seed_study import (
        forecast_key,
        pipeline_run,
        seed_run,
        seed_study_record,
    )

    if name not in config.seed_study.models and name not in config.anchored:
        raise PipelineError(
            f"model {name!r} is not in seed_study.models (nor anchored). "
            f"Expected one of: {', '.join(config.seed_study.models)}"
        )
    base_spec, scale = window_spec(config.windows, scaler_path)
    data, anchors = load_windows(array_path, anchors_path)
    runs, forecasts = {}, {}
    reused = None  # checked before any training: a stale evaluate@ fails fast
    if config.seed in config.seed_study.seeds and model_metrics_path and model_forecasts_path:
        reused = pipeline_run(name, model_metrics_path, model_forecasts_path, data, anchors)
    for seed in config.seed_study.seeds:
        if reused is not None and seed == config.seed:
            runs[seed], seed_forecasts = reused
            print(
                f"{name} seed {seed}: the pipeline's own run (train@{name}), kept", file=sys.stderr
            )
        else:
            model_spec = config.model(name)
            inputs = model_data(data, name, model_spec.anchor, anchor_column_path)
            runs[seed], seed_forecasts = seed_run(
                model_spec, seed, inputs, anchors, base_spec, scale, checkpoint_dir
            )
        forecasts.update(
            {forecast_key(split, seed): values for split, values in seed_forecasts.items()}
        )
    record = seed_study_record(runs)
    if reused is not None:
        record["pipeline_run_seed"] = config.seed
    record.update(config.data_record(data_fingerprint(data)))
    save_arrays(forecasts_path, forecasts)
    record, timings = split_timings(record)
    write_json(metrics_path, record)
    write_timings(timing_path, timings)
    write_json(scores_path, headline(record))
    if checkpoint_dir is not None:
        shutil.rmtree(checkpoint_dir, ignore_errors=True)
    return record


def main() -> str:
    (name,), record = call_with_paths(run)
    val, test = record["val"], record["test"]
    return (
        f"{name}: "
        f"seeds {record['seeds']}: MAE val {val['mae_degc_mean']:.3f} ± {val['mae_degc_std']:.3f} degC, "
        f"test {test['mae_degc_mean']:.3f} ± {test['mae_degc_std']:.3f} degC (sample std)"
    )


if __name__ == "__main__":
    run_stage("seeds", main)
