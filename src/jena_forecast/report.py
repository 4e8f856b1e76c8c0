"""A static summary a person can read without DVC: Markdown plus PNG charts drawn with matplotlib."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from jena_forecast.atomic import atomic_path  # noqa: E402
from jena_forecast.ensemble import ENSEMBLE  # noqa: E402
from jena_forecast.leaderboard import (  # noqa: E402
    INTERVAL_COLUMNS,
    NAIVE,
    SEED_COLUMNS,
    SEED_SKILL_COLUMN,
)

LEADERBOARD_PNG = "leaderboard.png"
FORECAST_PNG = "forecast.png"


def save_figure(figure: Figure, path: Path) -> None:
    """Save ``figure`` as a PNG atomically and free it."""
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)


def leaderboard_figure(table: pd.DataFrame) -> Figure:
    """Horizontal bars of validation and test MAE (degC) per model, best at the top."""
    figure, axes = plt.subplots(figsize=(7, 0.5 * len(table) + 1.5))
    positions = range(len(table))[::-1]
    height = 0.4
    axes.barh([p + height / 2 for p in positions], table["val_mae_degc"], height, label="val")
    axes.barh([p - height / 2 for p in positions], table["test_mae_degc"], height, label="test")
    axes.set_yticks(list(positions), list(table["model"]))
    naive = table.loc[table["model"] == NAIVE, "val_mae_degc"]
    if len(naive):
        axes.axvline(float(naive.iloc[0]), color="grey", linestyle="--", label="naive (val)")
    axes.set_xlabel("MAE (degC)")
    axes.set_title("MAE of the 24 h forecast by model")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return figure


def forecast_figure(forecasts: pd.DataFrame, model: str) -> Figure:
    """Actual, predicted and naive temperature over the saved test stretch."""
    figure, axes = plt.subplots(figsize=(10, 4))
    times = pd.to_datetime(forecasts["timestamp"])
    axes.plot(times, forecasts["actual_degc"], color="black", linewidth=1.2, label="actual")
    axes.plot(times, forecasts["predicted_degc"], linewidth=1.0, label=model)
    axes.plot(times, forecasts["naive_degc"], linewidth=0.8, alpha=0.7, label="naive")
    axes.set_ylabel("T (degC)")
    axes.set_title(f"24 h ahead forecast of {model} on the test split")
    axes.legend(loc="upper right")
    figure.autofmt_xdate()
    return figure


def _markdown_table(table: pd.DataFrame) -> str:
    header = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    rows = [
        "| " + " | ".join(str(value) for value in row) + " |" for row in table.itertuples(False)
    ]
    return "\n".join([header, rule, *rows])


SHARED_COLUMNS = ("protocol", "features")


def _shared(table: pd.DataFrame) -> dict[str, str]:
    """The columns of ``SHARED_COLUMNS`` whose value is the same on every row, and that value."""
    return {
        column: str(table[column].iloc[0])
        for column in SHARED_COLUMNS
        if column in table.columns and table[column].nunique(dropna=False) == 1
    }


def _has_seed_study(table: pd.DataFrame) -> bool:
    """Whether any row has a mean over seeds (a seed study, or a fit that no seed enters)."""
    return "test_mae_degc_mean" in table.columns and bool(table["test_mae_degc_mean"].notna().any())


def _mean_and_std(table: pd.DataFrame, split: str) -> pd.Series:
    """``mean ± std`` of a split's MAE over the seeds, blank for a model without one."""
    return pd.Series(
        [
            "" if pd.isna(mean) else f"{mean:.3f} ± {std:.3f}"
            for mean, std in zip(
                table[f"{split}_mae_degc_mean"], table[f"{split}_mae_degc_std"], strict=True
            )
        ],
        index=table.index,
    )


def _interval_text(table: pd.DataFrame) -> pd.Series:
    """``±w (p% of test)`` for the widest prediction interval of each row, blank without one."""
    return pd.Series(
        [
            "" if pd.isna(level) else f"{level:.0%}: ±{half_width:.2f} ({coverage:.1%} of test)"
            for level, half_width, coverage in zip(
                table["interval_level"],
                table["interval_half_width_degc"],
                table["interval_test_coverage"],
                strict=True,
            )
        ],
        index=table.index,
    )


def _readable(table: pd.DataFrame) -> pd.DataFrame:
    """MAE to 3 decimals, skill as a signed percentage, "-" where a model has no such number; the
    seed study as ``mean ± std`` columns when a model has one (none otherwise); protocol and
    features shown once above the table when every row shares them."""
    shown = table.drop(columns=list(_shared(table)))
    seed_columns = [
        column for column in [*SEED_COLUMNS, SEED_SKILL_COLUMN] if column in shown.columns
    ]
    if _has_seed_study(table):
        at = shown.columns.get_loc(seed_columns[0])
        if SEED_SKILL_COLUMN in table.columns:
            skill = table[SEED_SKILL_COLUMN].map(
                lambda value: "" if pd.isna(value) else f"{value:+.1%}"
            )
            shown.insert(at, "test_skill_over_seeds", skill)
        shown.insert(at, "test_mae_degc_over_seeds", _mean_and_std(table, "test"))
        shown.insert(at, "val_mae_degc_over_seeds", _mean_and_std(table, "val"))
    shown = shown.drop(columns=seed_columns)
    interval_columns = [column for column in INTERVAL_COLUMNS if column in shown.columns]
    if interval_columns:
        if table["interval_level"].notna().any():
            shown["prediction_interval"] = _interval_text(table)
        shown = shown.drop(columns=interval_columns)
    for column in ("val_mae_degc", "test_mae_degc"):
        shown[column] = shown[column].map(lambda value: f"{value:.3f}")
    for column in ("val_skill_vs_naive", "test_skill_vs_naive"):
        shown[column] = shown[column].map(lambda value: f"{value:+.1%}")
    for column in ("parameters", "epochs"):
        if column in shown.columns:
            shown[column] = shown[column].map(lambda value: "-" if pd.isna(value) else str(value))
    return shown


def _over_seeds(table: pd.DataFrame, row: pd.Series) -> str:
    """`; over N seeds ...` for a row with a seed study, else nothing."""
    if "seeds" not in table.columns or not row["seeds"] > 0:
        return ""
    mean_skill = row.get(SEED_SKILL_COLUMN)
    skill = "" if mean_skill is None or pd.isna(mean_skill) else f", skill {mean_skill:+.1%}"
    return (
        f"; over {int(row['seeds'])} seeds {row['test_mae_degc_mean']:.3f} ± "
        f"{row['test_mae_degc_std']:.3f} degC{skill}"
    )


def summary_markdown(
    table: pd.DataFrame,
    best: str,
    quality: dict[str, Any],
    ensemble_members: list[str] | None = None,
) -> str:
    """The summary page: leaderboard, the best model's forecast chart and the data-quality report."""
    best_row = table[table["model"] == best].iloc[0]
    quality_table = pd.DataFrame({"check": list(quality), "value": list(quality.values())})
    notes = []
    if _has_seed_study(table):
        notes.append(
            "`*_over_seeds`: mean ± sample standard deviation of the MAE over the seed study's "
            "seeds (stage `seeds`); the other columns are the run from params' `seed`. A "
            "classical fit that no seed enters shows its single run ± 0."
        )
    if "interval_level" in table.columns and table["interval_level"].notna().any():
        notes.append(
            "`prediction_interval`: the forecast ± a half-width in degC set on the validation "
            "errors (split conformal), and the share of test windows inside it."
        )
    if ensemble_members:
        notes.append(f"`{ENSEMBLE}` averages the 24 h forecasts of {', '.join(ensemble_members)}.")
    return (
        "\n\n".join(
            [
                "# Jena temperature forecast: summary",
                f"Best model on the validation split: **{best}**, test MAE "
                f"{best_row['test_mae_degc']:.3f} degC (skill vs naive {best_row['test_skill_vs_naive']:+.1%})"
                + _over_seeds(table, best_row)
                + ".",
                "## Leaderboard (24 h ahead, MAE in degC, sorted by validation MAE)",
                *[
                    f"{column.capitalize()} of every row: `{value}`"
                    for column, value in _shared(table).items()
                    if value
                ],
                _markdown_table(_readable(table)),
                *notes,
                f"![MAE by model]({LEADERBOARD_PNG})",
                f"## Forecast of {best} on the first two weeks of the test split",
                f"![Forecast of {best}]({FORECAST_PNG})",
                "## Data quality of the raw file",
                _markdown_table(quality_table),
            ]
        )
        + "\n"
    )
