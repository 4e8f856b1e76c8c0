"""A model's scores over several seeds: each run's, and their mean and sample standard deviation."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import (
    StrictInt,
    field_validator,
)

from jena_forecast.data.windows import WindowSpec
from jena_forecast.evaluation.forecasts import seed_forecast_key
from jena_forecast.evaluation.metrics import delay_forecast, scores
from jena_forecast.models.spec import ModelSpec
from jena_forecast.plumbing.artifacts import load_arrays, save_arrays
from jena_forecast.plumbing.atomic import read_json, write_json
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.params import Frozen

MIN_SEEDS = 3


class SeedStudyConfig(Frozen):
    """Models retrained from several seeds, to report a mean and a standard deviation of their scores."""

    models: tuple[str, ...]
    seeds: tuple[StrictInt, ...]

    @field_validator("models")
    @classmethod
    def _models_are_distinct(cls, models: tuple[str, ...]) -> tuple[str, ...]:
        if not models:
            raise ValueError("must name at least one model of models")
        if len(set(models)) != len(models):
            raise ValueError("must not name a model twice")
        return models

    @field_validator("seeds")
    @classmethod
    def _three_distinct_seeds(cls, seeds: tuple[int, ...]) -> tuple[int, ...]:
        if len(set(seeds)) != len(seeds) or len(seeds) < MIN_SEEDS:
            raise ValueError(f"must be at least {MIN_SEEDS} distinct integers")
        return seeds

    @classmethod
    def check(cls, raw: dict[str, Any], values: dict[str, Any], problems: list[str]) -> None:
        """Every studied model is one of ``models`` (where params give both)."""
        seed_study, raw_models = values.get("seed_study"), raw.get("models")
        if seed_study is None or "seed_study" not in raw or not isinstance(raw_models, dict):
            return
        known = ", ".join(map(str, raw_models)) or "(none)"
        for name in seed_study.models if raw_models else ():
            if name not in raw_models:
                problems.append(
                    f"seed_study.models: {name!r} is not in models. Expected names of: {known}"
                )


SPLITS = ("val", "test")
SCORES = ("mae_degc", "skill_vs_naive")
RUN_FIELDS = ("epochs", "best_epoch", "train_seconds")


def forecast_key(split: str, seed: int) -> str:
    """The name of one seed's forecasts of one split in a seed study's forecasts file."""
    return seed_forecast_key(split, seed)


def mean_and_std(values: Sequence[float]) -> tuple[float, float]:
    """The mean and the sample standard deviation (ddof=1) of at least two values."""
    if len(values) < 2:
        raise ValueError(f"a sample standard deviation needs at least 2 values, got {len(values)}")
    mean = math.fsum(values) / len(values)
    variance = math.fsum((value - mean) ** 2 for value in values) / (len(values) - 1)
    return mean, math.sqrt(variance)


def run_key(seed: int) -> str:
    """The key of one seed's run in the record (``seed_7``), so metric names stay readable."""
    return f"seed_{seed}"


def seed_study_record(runs: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """The seed study's metrics record from each seed's evaluate-style metrics.

    ``runs`` maps a seed to what the evaluate stage would write for a model trained from it (``val``
    and ``test`` split metrics, plus the training summary). Per split, the record holds the mean and
    sample standard deviation over the seeds of the MAE (degC) and of the skill against naive, and
    the naive MAE and window count (the same for every seed); ``runs`` keeps each seed's scores
    (and its ``epochs``, ``best_epoch`` and ``train_seconds`` where the run has them).
    """
    seeds = list(runs)
    record: dict[str, Any] = {"seeds": seeds}
    for split in SPLITS:
        first = runs[seeds[0]][split]
        summary: dict[str, Any] = {}
        for score in SCORES:
            mean, std = mean_and_std([runs[seed][split][score] for seed in seeds])
            summary[f"{score}_mean"] = round(mean, 6)
            summary[f"{score}_std"] = round(std, 6)
        summary["naive_mae_degc"] = first["naive_mae_degc"]
        summary["windows"] = first["windows"]
        record[split] = summary
    record["runs"] = {
        run_key(seed): {
            **{split: {score: run[split][score] for score in SCORES} for split in SPLITS},
            **{field: run[field] for field in RUN_FIELDS if field in run},
        }
        for seed, run in runs.items()
    }
    return record


def seed_run(
    model_spec: ModelSpec,
    seed: int,
    data: np.ndarray,
    anchors: dict[str, np.ndarray],
    window_spec: WindowSpec,
    target_scale: float,
    checkpoint_dir: Path | None = None,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Train the model from ``seed`` as its train stage does; score it as its evaluate stage does.

    Returns the evaluate stage's record (``val`` and ``test`` split metrics and the training
    summary) and the normalized 24 h forecasts of the val and test windows, (windows, 1) each. With
    ``checkpoint_dir``, a finished seed's record and forecasts are kept there as ``seed-<n>.json``
    and ``seed-<n>.npz`` (reused by a rerun with the same params and data) and an unfinished seed
    resumes from its last completed epoch (``seed-<n>/``, see ``training/resume.py``).
    """
    import keras

    from jena_forecast.training.fit import train_model
    from jena_forecast.training.predict import predict_paths
    from jena_forecast.training.resume import TrainingCheckpoint, fingerprint

    checkpoint = done_path = None
    if checkpoint_dir is not None:
        arrays = {**anchors, "data": data, "target_scale": np.array([target_scale])}
        run_fingerprint = fingerprint(model_spec, seed, window_spec, arrays)
        done_path = checkpoint_dir / f"seed-{seed}.json"
        forecasts_path = done_path.with_suffix(".npz")
        if done_path.is_file() and forecasts_path.is_file():
            done = read_json(done_path)
            if done.get("fingerprint") == run_fingerprint:
                print(f"{model_spec.name} seed {seed}: finished earlier, kept", file=sys.stderr)
                return dict(done["run"]), load_arrays(forecasts_path, SPLITS)
        done_path.unlink(missing_ok=True)
        checkpoint = TrainingCheckpoint(checkpoint_dir / f"seed-{seed}", run_fingerprint)
    keras.backend.clear_session()  # every seed starts from the state a fresh process has
    result = train_model(
        model_spec,
        seed,
        data,
        anchors["train"],
        anchors["val"],
        window_spec,
        checkpoint=checkpoint,
    )
    # As evaluate@ predicts: Keras loads a saved model without XLA on a CPU, and XLA's predictions
    # differ from the plain graph's in the last bits.
    result.model.jit_compile = False
    paths = predict_paths(result.model, model_spec, data, anchors, window_spec)
    run: dict[str, Any] = dict(scores(paths, data, anchors, window_spec, target_scale))
    run.update(result.summary())
    forecasts = {split: delay_forecast(paths[split]) for split in SPLITS}
    if done_path is not None and checkpoint is not None:
        save_arrays(done_path.with_suffix(".npz"), forecasts)
        write_json(done_path, {"fingerprint": checkpoint.fingerprint, "run": run})
        checkpoint.remove()
    return run, forecasts


def pipeline_run(
    name: str,
    record_path: Path,
    forecasts_path: Path,
    data: np.ndarray,
    anchors: dict[str, np.ndarray],
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The run of the project's own seed, taken from the pipeline's ``train@``/``evaluate@`` stages
    instead of trained again: their metrics record and kept forecasts, in ``seed_run``'s shape.

    Training is deterministic (``training/fit.py``), so that run is the one ``seed_run`` would
    give; forecasts of other data or windows than these (a stale stage) are refused.
    """
    from jena_forecast.evaluation.forecasts import data_fingerprint, load_forecasts

    kept = load_forecasts(forecasts_path)
    fingerprint = data_fingerprint(data)
    stale = kept.data != fingerprint or any(
        not np.array_equal(kept.anchors[split], anchors[split]) for split in SPLITS
    )
    if stale:
        raise PipelineError(
            f"{forecasts_path}: forecasts of other data or windows ({kept.data}) than the seed "
            f"study's ({fingerprint}); rerun evaluate@{name} (dvc repro)"
        )
    record = read_json(record_path)
    run: dict[str, Any] = {split: record[split] for split in SPLITS}
    run.update({field: record[field] for field in RUN_FIELDS if field in record})
    forecasts = {split: kept.predicted[split].astype(np.float32)[:, None] for split in SPLITS}
    return run, forecasts
