"""Wall-clock times of a stage's work, kept apart from its results.

A time differs on every run, so a time inside a DVC output changes the output's hash though the
model is the same: DVC then reruns every stage downstream, and a teammate's ``dvc status`` and
``dvc diff`` show changes where there are none. The stages take the times out of what they record
(``split_timings``) and write them to ``metrics/timings/<stage>.json``, a git-tracked file that no
stage declares or reads: ``dvc metrics show metrics/timings`` lists them, and ``dvc.lock`` holds
no hash of them. A forced rerun that computes the same model leaves ``dvc.lock`` as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jena_forecast.plumbing.atomic import write_json

TIMING_KEYS = frozenset({"train_seconds", "feature_seconds"})


def split_timings(record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``record`` without its timing keys (at any depth), and those keys alone, in the same nesting::

    {"epochs": 3, "train_seconds": 4.2, "runs": {"seed_1": {"train_seconds": 2.0, "epochs": 2}}}
    -> {"epochs": 3, "runs": {"seed_1": {"epochs": 2}}},
       {"train_seconds": 4.2, "runs": {"seed_1": {"train_seconds": 2.0}}}
    """
    kept: dict[str, Any] = {}
    timings: dict[str, Any] = {}
    for key, value in record.items():
        if key in TIMING_KEYS:
            timings[key] = value
        elif isinstance(value, dict):
            kept[key], inner = split_timings(value)
            if inner:
                timings[key] = inner
        else:
            kept[key] = value
    return kept, timings


def write_timings(path: Path | None, timings: dict[str, Any]) -> None:
    """Write a stage's ``timings`` to ``path`` (nothing without a path or a timing)."""
    if path is not None and timings:
        write_json(path, timings)
