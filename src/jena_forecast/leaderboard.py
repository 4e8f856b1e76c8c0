"""Every model's val/test scores in one tidy table, best validation MAE first."""

from __future__ import annotations

from typing import Any

import pandas as pd

NAIVE = "naive"
COLUMNS = [
    "rank",
    "model",
    "val_mae_degc",
    "test_mae_degc",
    "val_skill_vs_naive",
    "test_skill_vs_naive",
    "parameters",
    "epochs",
    "train_seconds",
    "protocol",
    "features",
]


def _optional_int(record: dict[str, Any], key: str) -> int | None:
    value = record.get(key)
    return None if value is None else int(value)


def leaderboard(naive: dict[str, Any], models: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per model and one for the naive baseline (no parameters, no training).

    ``naive`` is the baseline's metrics record, ``models`` each model's metrics record by name.
    Rows are sorted by validation MAE (ties by name); ``rank`` 1 is the best. ``parameters`` and
    ``epochs`` are empty for a model without them (a gradient-boosted ensemble has neither);
    ``protocol`` (split and window geometry) and ``features`` (the features stage's switches) say
    which data each row was scored on, empty for a record written before they were recorded.
    """
    rows = [
        {
            "model": NAIVE,
            "val_mae_degc": naive["val"]["mae_degc"],
            "test_mae_degc": naive["test"]["mae_degc"],
            "val_skill_vs_naive": 0.0,
            "test_skill_vs_naive": 0.0,
            "parameters": 0,
            "epochs": 0,
            "train_seconds": 0.0,
            "protocol": naive.get("protocol", ""),
            "features": naive.get("features", ""),
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
                "parameters": _optional_int(record, "parameters"),
                "epochs": _optional_int(record, "epochs"),
                "train_seconds": float(record["train_seconds"]),
                "protocol": record.get("protocol", ""),
                "features": record.get("features", ""),
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
