"""DVC stage ensemble_seeds: the ensemble's members trained from every seed of seed_study.seeds,
averaged seed by seed; the mean and std of its MAE, and each seed's forecasts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from jena_forecast.classical.spec import ClassicalConfig
from jena_forecast.data.protocol import ProtocolConfig
from jena_forecast.data.windows import WindowSpec, load_windows, window_spec
from jena_forecast.evaluation.forecasts import data_fingerprint
from jena_forecast.evaluation.seed_study import SeedStudyConfig
from jena_forecast.models.spec import ModelsConfig
from jena_forecast.plumbing.artifacts import load_arrays, save_arrays
from jena_forecast.plumbing.atomic import read_json, write_json
from jena_forecast.plumbing.cli import path_arguments, per_model, run_stage


class Config(ModelsConfig, ClassicalConfig, ProtocolConfig):
    """The params this stage reads."""

    seed_study: SeedStudyConfig


SeedForecasts = dict[int, dict[str, np.ndarray]]  # seed -> split -> (windows, 1) forecasts


def _trained_member(
    config: Config,
    name: str,
    data: np.ndarray,
    anchors: dict[str, np.ndarray],
    model_paths: tuple[Path, Path] | None,
    member_dir: Path | None,
    window: tuple[WindowSpec, float],
) -> SeedForecasts:
    """A deep member without a seed study, from every seed: trained here as its seeds stage would
    train it, except the project's own ``seed`` when ``model_paths`` (evaluate@'s record and kept
    forecasts) are given: that run is taken as it is."""
    from jena_forecast.evaluation.seed_study import pipeline_run, seed_run

    base_spec, scale = window
    forecasts: SeedForecasts = {}
    for seed in config.seed_study.seeds:
        if model_paths is not None and seed == config.seed:
            forecasts[seed] = pipeline_run(name, *model_paths, data, anchors)[1]
            print(
                f"{name} seed {seed}: the pipeline's own run (train@{name}), kept", file=sys.stderr
            )
        else:
            forecasts[seed] = seed_run(
                config.model(name), seed, data, anchors, base_spec, scale, member_dir
            )[1]
    return forecasts


def run(
    config: Config,
    *,
    array_path: Path,
    scaler_path: Path,
    anchors_path: Path,
    ensemble_path: Path,
    metrics_path: Path,
    scores_path: Path,
    seed_forecast_paths: dict[str, Path],
    classical_forecast_paths: dict[str, Path],
    forecasts_path: Path | None = None,
    model_metrics_paths: dict[str, Path] | None = None,
    model_forecast_paths: dict[str, Path] | None = None,
    checkpoint_dir: Path | None = None,
) -> dict[str, Any]:
    """For every seed of ``seed_study.seeds``: the mean forecast of the ensemble's members (those of
    ``ensemble_path``, chosen on validation by the ensemble stage) trained from that seed, scored
    as the ensemble is; the record has the seeds stage's shape (mean and sample std over seeds),
    and ``forecasts_path`` gets each seed's normalized forecasts as a seeds stage saves them.

    A deep member with a seed study (``seed_forecast_paths``) brings the forecasts its seeds stage
    saved; any other deep member is trained here from each seed, as the seeds stage would train
    it, but for the project's own ``seed`` when its evaluate@ record and kept forecasts are given
    (``model_metrics_paths``, ``model_forecast_paths``): that run is taken as it is.
    Under ``checkpoint_dir`` its finished seeds are kept, keyed by a fingerprint of the model's
    params, the seed and the data: a rerun caused by another model's params (the stage depends on
    all of them) reuses them, and an interrupted run resumes. A classical member's single fit joins
    every seed (``fixed_members``): its fit draws nothing at random on data of this size
    (``seed_dependent`` in its metrics says so).
    """
    from jena_forecast.evaluation.ensemble import average_forecasts, check_saved_forecasts
    from jena_forecast.evaluation.metrics import headline, scores
    from jena_forecast.evaluation.seed_study import SPLITS, forecast_key, seed_study_record

    members = list(read_json(ensemble_path)["members"])
    seeds = list(config.seed_study.seeds)
    window = window_spec(config.windows, scaler_path)
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
            record, kept = (
                (model_metrics_paths or {}).get(name),
                (model_forecast_paths or {}).get(name),
            )
            member_forecasts[name] = _trained_member(
                config,
                name,
                data,
                anchors,
                (record, kept) if record and kept else None,
                None if checkpoint_dir is None else checkpoint_dir / name,
                window,
            )
            retrained.append(name)
    runs, forecasts = {}, {}
    for seed in seeds:
        averaged = {
            split: average_forecasts([member_forecasts[name][seed][split] for name in members])
            for split in SPLITS
        }
        runs[seed] = scores(averaged, data, anchors, *window)
        forecasts.update({forecast_key(split, seed): averaged[split] for split in SPLITS})
    record = seed_study_record(runs)
    record.update(members=members, fixed_members=fixed, retrained_members=retrained)
    record.update(config.data_record(data_fingerprint(data)))
    if forecasts_path is not None:
        save_arrays(forecasts_path, forecasts)
    write_json(metrics_path, record)
    write_json(scores_path, headline(record))
    return record


def main() -> str:
    config = Config.load()
    args = path_arguments(
        "python -m stages.ensemble_seeds",
        [
            "array_path",
            "scaler_path",
            "anchors_path",
            "ensemble_path",
            "seed_forecast_paths",
            "forecast_paths",
            "model_metrics_paths",
            "metrics_path",
            "scores_path",
            "forecasts_path",
            "checkpoint_dir",
        ],
    )
    deep = list(config.models)
    record = run(
        config,
        array_path=args.array_path,
        scaler_path=args.scaler_path,
        anchors_path=args.anchors_path,
        ensemble_path=args.ensemble_path,
        metrics_path=args.metrics_path,
        scores_path=args.scores_path,
        seed_forecast_paths=per_model(
            args.seed_forecast_paths, [*config.seed_study.models, *config.anchored]
        ),
        classical_forecast_paths=per_model(args.forecast_paths, list(config.classical)),
        forecasts_path=args.forecasts_path,
        model_metrics_paths=per_model(args.model_metrics_paths, deep),
        model_forecast_paths=per_model(args.forecast_paths, deep),
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
