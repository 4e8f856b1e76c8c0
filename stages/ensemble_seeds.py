"""DVC stage ensemble_seeds: the ensemble's members trained from every seed of seed_study.seeds,
averaged seed by seed; the mean and std of its MAE."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from jena_forecast.artifacts import load_arrays
from jena_forecast.atomic import read_json, write_json
from jena_forecast.cli import path_arguments, per_model, run_stage
from jena_forecast.config import PipelineConfig, load_params
from jena_forecast.files import load_windows, window_spec
from jena_forecast.forecasts import data_fingerprint

SeedForecasts = dict[int, dict[str, np.ndarray]]  # seed -> split -> (windows, 1) forecasts


def run(
    config: PipelineConfig,
    *,
    array_path: Path,
    scaler_path: Path,
    anchors_path: Path,
    ensemble_path: Path,
    metrics_path: Path,
    scores_path: Path,
    seed_forecast_paths: dict[str, Path],
    classical_forecast_paths: dict[str, Path],
    checkpoint_dir: Path | None = None,
) -> dict[str, Any]:
    """For every seed of ``seed_study.seeds``: the mean forecast of the ensemble's members (those of
    ``ensemble_path``, chosen on validation by the ensemble stage) trained from that seed, scored
    as the ensemble is; the record has the seeds stage's shape (mean and sample std over seeds).

    A deep member with a seed study (``seed_forecast_paths``) brings the forecasts its seeds stage
    saved; any other deep member is trained here from each seed, as the seeds stage would train it.
    Under ``checkpoint_dir`` its finished seeds are kept, keyed by a fingerprint of the model's
    params, the seed and the data: a rerun caused by another model's params (the stage depends on
    all of them) reuses them, and an interrupted run resumes. A classical member's single fit joins
    every seed (``fixed_members``): its fit draws nothing at random on data of this size
    (``seed_dependent`` in its metrics says so).
    """
    from jena_forecast.ensemble import average_forecasts, check_saved_forecasts
    from jena_forecast.evaluate import headline, scores
    from jena_forecast.seed_study import SPLITS, forecast_key, seed_run, seed_study_record

    members = list(read_json(ensemble_path)["members"])
    seeds = list(config.seed_study.seeds)
    base_spec, scale = window_spec(config, scaler_path)
    data, anchors = load_windows(array_path, anchors_path)
    windows = {split: len(split_anchors) for split, split_anchors in anchors.items()}
    member_forecasts: dict[str, SeedForecasts] = {}
    fixed, retrained = [], []
    for name in members:
        if name in classical_forecast_paths:
            path = classical_forecast_paths[name]
            saved = load_arrays(path, SPLITS)
            check_saved_forecasts(path, saved, windows, f"classical@{name}")
            # one 24 h forecast per window, shaped as the deep members' (windows, 1)
            point = {split: values.reshape(-1, 1) for split, values in saved.items()}
            member_forecasts[name] = {seed: point for seed in seeds}
            fixed.append(name)
        elif name in seed_forecast_paths:
            path = seed_forecast_paths[name]
            saved = load_arrays(
                path, tuple(forecast_key(s, seed) for s in SPLITS for seed in seeds)
            )
            check_saved_forecasts(path, saved, windows, f"seeds@{name}")
            member_forecasts[name] = {
                seed: {split: saved[forecast_key(split, seed)] for split in SPLITS}
                for seed in seeds
            }
        else:
            member_dir = None if checkpoint_dir is None else checkpoint_dir / name
            member_forecasts[name] = {
                seed: seed_run(
                    config.model(name), seed, data, anchors, base_spec, scale, member_dir
                )[1]
                for seed in seeds
            }
            retrained.append(name)
    runs = {}
    for seed in seeds:
        averaged = {
            split: average_forecasts([member_forecasts[name][seed][split] for name in members])
            for split in SPLITS
        }
        runs[seed] = scores(averaged, data, anchors, base_spec, scale)
    record = seed_study_record(runs)
    record.update(members=members, fixed_members=fixed, retrained_members=retrained)
    record.update(config.data_record(data_fingerprint(data)))
    write_json(metrics_path, record)
    write_json(scores_path, headline(record))
    return record


def main() -> str:
    config = load_params()
    args = path_arguments(
        "python -m stages.ensemble_seeds",
        [
            "array_path",
            "scaler_path",
            "anchors_path",
            "ensemble_path",
            "seed_forecast_paths",
            "forecast_paths",
            "metrics_path",
            "scores_path",
            "checkpoint_dir",
        ],
    )
    record = run(
        config,
        array_path=args.array_path,
        scaler_path=args.scaler_path,
        anchors_path=args.anchors_path,
        ensemble_path=args.ensemble_path,
        metrics_path=args.metrics_path,
        scores_path=args.scores_path,
        seed_forecast_paths=per_model(args.seed_forecast_paths, config.seed_study.models),
        classical_forecast_paths=per_model(args.forecast_paths, list(config.classical)),
        checkpoint_dir=args.checkpoint_dir,
    )
    val, test = record["val"], record["test"]
    trained = record["retrained_members"]
    return (
        f"mean of {', '.join(record['members'])} over seeds {record['seeds']}"
        + (f" ({', '.join(trained)} trained here)" if trained else "")
        + f": MAE val {val['mae_degc_mean']:.3f} ± {val['mae_degc_std']:.3f} degC, "
        f"test {test['mae_degc_mean']:.3f} ± {test['mae_degc_std']:.3f} degC (sample std)"
    )


if __name__ == "__main__":
    run_stage("ensemble_seeds", main)
