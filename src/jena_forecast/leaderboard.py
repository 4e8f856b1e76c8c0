"""Every model's val/test scores in one tidy table, best validation MAE first."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

NAIVE = "naive"
SEED_COLUMNS = [
    "val_mae_degc_mean",
    "val_mae_degc_std",
    "test_mae_degc_mean",
    "test_mae_degc_std",
    "seeds",
]
SEED_SKILL_COLUMN = "test_skill_vs_naive_mean"  # skill of the mean test MAE over the seeds
INTERVAL_COLUMNS = ["interval_level", "interval_half_width_degc", "interval_test_coverage"]
COLUMNS = [
    "rank",
    "model",
    "val_mae_degc",
    "test_mae_degc",
    "val_skill_vs_naive",
    "test_skill_vs_naive",
    *SEED_COLUMNS,
    SEED_SKILL_COLUMN,
    "parameters",
    "epochs",
    "train_seconds",
    "protocol",
    "features",
    *INTERVAL_COLUMNS,
]


def _seed_columns(study: dict[str, Any] | None) -> dict[str, Any]:
    """A model's seed-study columns: mean and std of its MAE over the seeds, and how many seeds;
    empty (NaN, 0 seeds) for a model without a study."""
    if study is None:
        return {column: np.nan for column in SEED_COLUMNS[:-1]} | {
            "seeds": 0,
            SEED_SKILL_COLUMN: np.nan,
        }
    return {
        "val_mae_degc_mean": study["val"]["mae_degc_mean"],
        "val_mae_degc_std": study["val"]["mae_degc_std"],
        "test_mae_degc_mean": study["test"]["mae_degc_mean"],
        "test_mae_degc_std": study["test"]["mae_degc_std"],
        "seeds": len(study["seeds"]),
        SEED_SKILL_COLUMN: study["test"]["skill_vs_naive_mean"],
    }


def _seed_independent_columns(record: dict[str, Any]) -> dict[str, Any]:
    """A classical model whose fit no seed enters: every seed gives its single run, so the mean
    is that run and the std 0 (``seeds`` stays 0: no study ran)."""
    return {
        "val_mae_degc_mean": record["val"]["mae_degc"],
        "val_mae_degc_std": 0.0,
        "test_mae_degc_mean": record["test"]["mae_degc"],
        "test_mae_degc_std": 0.0,
        "seeds": 0,
        SEED_SKILL_COLUMN: record["test"]["skill_vs_naive"],
    }


def _interval_columns(record: dict[str, Any]) -> dict[str, Any]:
    """The widest prediction interval of a record: its level, half-width and test coverage."""
    intervals = record.get("intervals") or {}
    if not intervals:
        return {column: np.nan for column in INTERVAL_COLUMNS}
    widest = max(intervals.values(), key=lambda interval: interval["level"])
    return {
        "interval_level": widest["level"],
        "interval_half_width_degc": widest["half_width_degc"],
        "interval_test_coverage": widest["test_coverage"],
    }


def _optional_int(record: dict[str, Any], key: str) -> int | None:
    value = record.get(key)
    return None if value is None else int(value)


def leaderboard(
    naive: dict[str, Any],
    models: dict[str, dict[str, Any]],
    seed_studies: dict[str, dict[str, Any]] | None = None,
) -> pd.DataFrame:
    """One row per model and one for the naive baseline (no parameters, no training).

    ``naive`` is the baseline's metrics record, ``models`` each model's metrics record by name (the
    deep and classical models' and the ensemble's), ``seed_studies`` the seed-study record of the
    models that have one. Rows are sorted by validation MAE of the run from params' ``seed`` (ties
    by name); ``rank`` 1 is the best. A model's seed-study columns hold the mean and sample
    standard deviation of its MAE over the study's seeds, and ``test_skill_vs_naive_mean`` the
    study's mean test skill against naive. ``parameters`` and ``epochs`` are empty
    for a model without them (gradient boosting has neither); ``protocol`` (split and window
    geometry) and ``features`` (the features stage's switches) say which data each row was scored
    on, empty for a record written before they were recorded. A classical model whose fit no
    seed enters (``seed_dependent`` false) gets its single run as the mean over seeds and std 0.
    The interval columns describe the widest conformal prediction interval of the record (empty
    without one).
    """
    seed_studies = seed_studies or {}
    rows = [
        {
            "model": NAIVE,
            "val_mae_degc": naive["val"]["mae_degc"],
            "test_mae_degc": naive["test"]["mae_degc"],
            "val_skill_vs_naive": 0.0,
            "test_skill_vs_naive": 0.0,
            **_seed_columns(None),
            "parameters": 0,
            "epochs": 0,
            "train_seconds": 0.0,
            "protocol": naive.get("protocol", ""),
            "features": naive.get("features", ""),
            **_interval_columns(naive),
        }
    ]
    for name, record in models.items():
        rows.append(
            {
                "model": name,
                "val_mae_degc": record["val"]["mae_degc"],
                "test_mae_degc": record["test"]["mae_degc"],
                "val_skill_vs_naive": record["val"]["skill_vs_naive"],
                "test_skill_vs_naive": record["test"]["skill_vs_naive"],
                **(
                    _seed_independent_columns(record)
                    if record.get("seed_dependent") is False and name not in seed_studies
                    else _seed_columns(seed_studies.get(name))
                ),
                "parameters": _optional_int(record, "parameters"),
                "epochs": _optional_int(record, "epochs"),
                "train_seconds": float(record["train_seconds"]),
                "protocol": record.get("protocol", ""),
                "features": record.get("features", ""),
                **_interval_columns(record),
            }
        )
    table = pd.DataFrame(rows).sort_values(["val_mae_degc", "model"], kind="stable")
    table["parameters"] = table["parameters"].astype("Int64")
    table["epochs"] = table["epochs"].astype("Int64")
    table.insert(0, "rank", range(1, len(table) + 1))
    return table[COLUMNS].reset_index(drop=True)


def best_model(table: pd.DataFrame) -> str:
    """The trained model with the lowest validation MAE (naive only if nothing else is there)."""
    trained = table[table["model"] != NAIVE]
    return str((trained if len(trained) else table)["model"].iloc[0])
