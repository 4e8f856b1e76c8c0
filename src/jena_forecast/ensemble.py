"""An ensemble of trained models: members chosen on the validation split only, forecasts averaged."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from jena_forecast.config import EnsembleConfig
from jena_forecast.errors import PipelineError

ENSEMBLE = "ensemble"


def select_members(config: EnsembleConfig, records: dict[str, dict[str, Any]]) -> list[str]:
    """The members: ``config.members`` as given, or the ``top_k`` models by validation MAE.

    ``records`` maps each candidate model to its metrics record. Only ``val.mae_degc`` is read (ties
    by name): the test split never takes part in the choice, so the ensemble's test score stays an
    honest estimate.
    """
    if config.members is not None:
        missing = [name for name in config.members if name not in records]
        if missing:
            raise PipelineError(f"ensemble.members: no metrics for {missing}; evaluate them first")
        return list(config.members)
    if config.top_k > len(records):
        raise PipelineError(
            f"ensemble.top_k must be at most the {len(records)} models evaluated. "
            f"Received: ensemble.top_k={config.top_k}"
        )
    ranked = sorted(records, key=lambda name: (float(records[name]["val"]["mae_degc"]), name))
    return ranked[: config.top_k]


def average_forecasts(forecasts: Sequence[np.ndarray]) -> np.ndarray:
    """The mean of the members' forecasts of the same windows, window by window, in float64."""
    if not forecasts:
        raise ValueError("an ensemble needs at least one member's forecasts")
    shapes = {np.shape(forecast) for forecast in forecasts}
    if len(shapes) != 1:
        raise ValueError(f"members forecast different windows: shapes {sorted(shapes)}")
    return np.mean(np.stack([np.asarray(f, dtype=np.float64) for f in forecasts]), axis=0)


def check_saved_forecasts(
    path: Path, forecasts: dict[str, np.ndarray], windows: dict[str, int], stage: str
) -> None:
    """Saved forecasts (``<split>`` or ``<split>_seed_<n>`` arrays) must have one forecast per
    window of their split in this run; otherwise the stage that wrote them is named to rerun."""
    for key, values in forecasts.items():
        split = key.split("_")[0]
        if len(values) != windows[split]:
            raise PipelineError(
                f"{path}: {len(values)} {key} forecasts for {windows[split]} windows; rerun {stage}"
            )


def ensemble_record(
    members: list[str],
    member_records: dict[str, dict[str, Any]],
    split_scores: dict[str, dict[str, float]],
) -> dict[str, Any]:
    """The ensemble's metrics record, shaped like a model's: split scores, then its members.

    ``parameters``, ``epochs`` and ``train_seconds`` add up the members' (what the ensemble holds
    and what it took to train; a classical member without parameters or epochs adds 0); ``member_val_mae_degc`` is the validation MAE each member was chosen by.
    """
    return {
        **split_scores,
        "members": members,
        "member_val_mae_degc": {name: member_records[name]["val"]["mae_degc"] for name in members},
        "parameters": int(
            sum(int(member_records[name].get("parameters") or 0) for name in members)
        ),
        "epochs": int(sum(int(member_records[name].get("epochs") or 0) for name in members)),
        "train_seconds": round(
            sum(float(member_records[name]["train_seconds"]) for name in members), 2
        ),
    }
