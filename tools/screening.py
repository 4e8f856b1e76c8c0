"""What the screening tools share: a network's errors from several seeds, a ridge model's errors
when fitted to the 24 h change, and the scores of a set of per-seed errors.

Imported by ``data_curve``, ``feature_ablation`` and ``anchor_network_screen`` (this folder is on their
import path when they run as scripts). Errors are absolute errors per window, in whatever unit the
caller passes; ``scale`` turns them into degC for the MAE figures, skills need no unit.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from jena_forecast.classical.params import RidgeParams  # noqa: E402
from jena_forecast.config import ModelSpec, PipelineConfig  # noqa: E402
from jena_forecast.data.windows import WindowSpec, assemble_targets  # noqa: E402
from jena_forecast.evaluation.seed_study import mean_and_std, seed_run  # noqa: E402
from jena_forecast.evaluation.significance import Bootstrap, skill_interval  # noqa: E402
from jena_forecast.plumbing.atomic import read_json  # noqa: E402
from jena_forecast.plumbing.errors import PipelineError  # noqa: E402

SPLITS = ("val", "test")


def seed_errors(
    model: ModelSpec,
    seeds: list[int],
    data: np.ndarray,
    anchors: dict[str, np.ndarray],
    spec: WindowSpec,
    scale: float,
    cache: Path | None,
) -> dict[str, np.ndarray]:
    """Per split, (seeds, windows) absolute errors in normalized units of the network trained from
    each seed on ``anchors["train"]``, as its ``seeds@`` stage trains it."""
    actual = {split: assemble_targets(data, anchors[split], spec)[:, 0] for split in SPLITS}
    errors: dict[str, list[np.ndarray]] = {split: [] for split in SPLITS}
    for seed in seeds:
        _, forecasts = seed_run(model, seed, data, anchors, spec, scale, cache)
        for split in SPLITS:
            forecast = forecasts[split][:, 0].astype(np.float64)
            errors[split].append(np.abs(forecast - actual[split].astype(np.float64)))
    return {split: np.stack(values) for split, values in errors.items()}


def ridge_features(
    config: PipelineConfig, name: str, root: Path, data: np.ndarray, spec: WindowSpec
) -> tuple[RidgeParams, Any]:
    """The params of the ridge model ``classical.<name>`` and its features of every row of the
    normalized ``data`` (``features.at(anchors)``), from the project at ``root``."""
    import pandas as pd

    from jena_forecast.classical.design import classical_features

    params = config.classical_model(name).params
    if not isinstance(params, RidgeParams):
        raise PipelineError(f"classical.{name} is not a ridge model; give a ridge or a network")
    stamps = pd.DatetimeIndex(pd.read_parquet(root / "data" / "interim" / "jena.parquet").index)
    scaler = read_json(root / "data" / "processed" / "scaler.json")
    rows_per_hour = 60 // config.parse.interval_minutes
    return params, classical_features(data, stamps, scaler, spec, params, rows_per_hour)


def ridge_errors(
    params: RidgeParams,
    x: dict[str, np.ndarray],
    naive: dict[str, np.ndarray],
    actual: dict[str, np.ndarray],
) -> tuple[dict[str, np.ndarray], float, dict[str, np.ndarray]]:
    """Per split of ``SPLITS``, the absolute errors of the ridge model fitted on the training
    features ``x["train"]`` to the change ``actual - naive`` (its alpha the lowest validation MAE);
    that alpha; and the change it forecasts for every split of ``x``."""
    from jena_forecast.classical.estimators import fit_ridge

    change = {split: actual[split] - naive[split] for split in ("train", "val")}
    fit = fit_ridge(params, x["train"], change["train"], x["val"], change["val"])
    forecast = {split: fit.forecast(x[split], naive[split])[:, 0] - naive[split] for split in x}
    errors = {split: np.abs(naive[split] + forecast[split] - actual[split]) for split in SPLITS}
    return errors, float(fit.record["alpha"]), forecast


def seed_scores(
    errors: np.ndarray, naive: np.ndarray, resampling: Bootstrap, scale: float = 1.0
) -> dict[str, Any]:
    """Scores of (seeds, windows) errors against naive's (windows,) on the same windows: MAE per
    seed and its mean +- std in degC, and the skill of the seed-mean error per window with its
    block-bootstrap interval (what is resampled is the error averaged over the seeds)."""
    per_seed = errors.mean(axis=1) * scale
    mean, std = mean_and_std(per_seed.tolist()) if per_seed.size > 1 else (float(per_seed[0]), 0.0)
    seed_mean = errors.mean(axis=0)
    low, high = skill_interval(seed_mean, naive, resampling)
    return {
        "mae_degc_per_seed": [round(float(value), 6) for value in per_seed],
        "mae_degc_mean": round(mean, 6),
        "mae_degc_std": round(std, 6),
        "naive_mae_degc": round(float(naive.mean()) * scale, 6),
        "skill": round(1.0 - float(seed_mean.mean()) / float(naive.mean()), 6),
        "skill_low": round(low, 6),
        "skill_high": round(high, 6),
    }


def score_cells(scores: dict[str, Any]) -> list[str]:
    """One printed cell per split of ``seed_scores`` records: MAE mean +- std, skill [95%]."""
    cells = []
    for split in SPLITS:
        r = scores[split]
        cells.append(
            f"{split} {r['mae_degc_mean']:.3f}+-{r['mae_degc_std']:.3f} "
            f"skill {r['skill']:+.1%} [{r['skill_low']:+.1%}, {r['skill_high']:+.1%}]"
        )
    return cells
