"""An ensemble of trained models: members chosen on the validation split only, forecasts averaged."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import (
    PositiveInt,
    field_validator,
)

from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.params import Frozen


class EnsembleConfig(Frozen):
    """The ensemble: the mean forecast of ``members``, or else of the ``top_k`` models by val MAE."""

    top_k: PositiveInt
    members: tuple[str, ...] | None
    include_classical: bool

    @field_validator("members", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == [] or value == () else value

    @field_validator("members")
    @classmethod
    def _distinct(cls, members: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if members is not None and len(set(members)) != len(members):
            raise ValueError("must not name a model twice")
        return members

    @classmethod
    def check(cls, raw: dict[str, Any], values: dict[str, Any], problems: list[str]) -> None:
        """Members are candidates (models, and classical ones with ``include_classical``); ``top_k``
        is at most their number. Checked where params give ``models`` and ``ensemble``."""
        ensemble, raw_models = values.get("ensemble"), raw.get("models")
        if ensemble is None or "ensemble" not in raw or not isinstance(raw_models, dict):
            return
        if not raw_models:
            return
        raw_classical = raw.get("classical")
        raw_classical = raw_classical if isinstance(raw_classical, dict) else {}
        known = ", ".join(map(str, raw_models)) or "(none)"
        candidates = dict(raw_models)
        if ensemble.include_classical:
            candidates.update(raw_classical)
        for name in ensemble.members or ():
            if name in raw_classical and name not in candidates:
                problems.append(
                    f"ensemble.members: {name!r} is a classical model and "
                    f"ensemble.include_classical is false. Expected names of: {known}"
                )
            elif name not in candidates:
                problems.append(
                    f"ensemble.members: {name!r} is not in models or classical. "
                    f"Expected names of: {', '.join(map(str, candidates))}"
                )
        if ensemble.members is None and ensemble.top_k > len(candidates):
            problems.append(
                f"ensemble.top_k must be at most the number of candidate models ({len(candidates)}). "
                f"Received: ensemble.top_k={ensemble.top_k}"
            )


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

    ``parameters`` and ``epochs`` add up the members' (what the ensemble holds and what it took to
    train; a classical member without parameters or epochs adds 0); ``member_val_mae_degc`` is the
    validation MAE each member was chosen by. Training times are not results (plumbing.timings).
    """
    return {
        **split_scores,
        "members": members,
        "member_val_mae_degc": {name: member_records[name]["val"]["mae_degc"] for name in members},
        "parameters": int(
            sum(int(member_records[name].get("parameters") or 0) for name in members)
        ),
        "epochs": int(sum(int(member_records[name].get("epochs") or 0) for name in members)),
    }
