"""Step ensemble_seeds: the ensemble's seed study, its members' forecasts averaged seed by seed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from jena_forecast.artifacts import load_arrays
from jena_forecast.atomic import read_json, write_json
from jena_forecast.config import PipelineConfig
from jena_forecast.steps.common import load_windows, window_spec

SeedForecasts = dict[int, dict[str, np.ndarray]]  # seed -> split -> (windows, 1) forecasts


def ensemble_seed_study(
    config: PipelineConfig,
    array_path: Path,
    scaler_path: Path,
    anchors_path: Path,
    ensemble_path: Path,
    metrics_path: Path,
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
    from jena_forecast.evaluate import scores
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
            member_forecasts[name] = {seed: saved for seed in seeds}
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
    record.update(config.data_record())
    write_json(metrics_path, record)
    return record
