"""Every model's val/test scores in one tidy table, best validation MAE first."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from jena_forecast.errors import PipelineError

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


SKILL_TOLERANCE = 2e-6  # records round MAE and skill to 6 decimals


def check_consistent(
    naive: dict[str, Any],
    models: dict[str, dict[str, Any]],
    seed_studies: dict[str, dict[str, Any]],
) -> None:
    """Refuse records that were not scored on the naive baseline's windows and data, or whose skill
    does not follow from their MAEs: a stage left stale by a change of data, split, windows or
    features would otherwise be ranked beside fresh ones.

    Every record (and seed study) must have the naive record's ``protocol`` and ``features``, and
    per split its window count and naive MAE; a single run's ``skill_vs_naive`` must equal
    ``1 - mae_degc / naive_mae_degc``.
    """
    problems = []
    records = [(name, record, "mae_degc") for name, record in models.items()]
    records += [
        (f"{name} (seed study)", study, "mae_degc_mean") for name, study in seed_studies.items()
    ]
    for name, record, mae_key in records:
        for key in ("protocol", "features"):
            if record.get(key) != naive.get(key):
                problems.append(
                    f"{name}: {key} {record.get(key)!r}, the naive baseline's is {naive.get(key)!r}"
                )
        for split in ("val", "test"):
            scores, reference = record[split], naive[split]
            if scores.get("windows") != reference["windows"]:
                problems.append(
                    f"{name}: {scores.get('windows')} {split} windows, the naive baseline has "
                    f"{reference['windows']}"
                )
            naive_mae = scores.get("naive_mae_degc")
            if naive_mae is None or abs(naive_mae - reference["mae_degc"]) > SKILL_TOLERANCE:
                problems.append(
                    f"{name}: {split} naive MAE {naive_mae}, the naive baseline's is "
                    f"{reference['mae_degc']}"
                )
            elif mae_key == "mae_degc":
                skill = 1.0 - scores["mae_degc"] / naive_mae
                if abs(scores["skill_vs_naive"] - skill) > SKILL_TOLERANCE:
                    problems.append(
                        f"{name}: {split} skill {scores['skill_vs_naive']} does not follow from "
                        f"its MAE {scores['mae_degc']} and naive MAE {naive_mae} ({skill:.6f})"
                    )
    if problems:
        listing = "\n".join(f"  - {problem}" for problem in problems)
        raise PipelineError(
            f"{len(problems)} inconsistent record(s), refused; rerun their stages "
            f"(dvc repro):\n{listing}"
        )


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
    without one). Records that were not scored on the naive baseline's windows and data, or whose
    skill does not follow from their MAEs, are refused (``check_consistent``).
    """
    seed_studies = seed_studies or {}
    check_consistent(naive, models, seed_studies)
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
