"""A static summary a person can read without DVC: Markdown plus PNG charts drawn with matplotlib."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from jena_forecast.evaluation.ensemble import ENSEMBLE  # noqa: E402
from jena_forecast.evaluation.leaderboard import NAIVE, RANKED_COLUMN, SEED_SKILL_COLUMN  # noqa: E402
from jena_forecast.plumbing.atomic import atomic_path  # noqa: E402

LEADERBOARD_PNG = "leaderboard.png"
FORECAST_PNG = "forecast.png"


def save_figure(figure: Figure, path: Path) -> None:
    """Save ``figure`` as a PNG atomically and free it."""
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)


def leaderboard_figure(table: pd.DataFrame) -> Figure:
    """Horizontal bars of validation and test MAE (degC) per model, best at the top, the test MAE's
    95% interval as an error bar."""
    figure, axes = plt.subplots(figsize=(7, 0.5 * len(table) + 1.5))
    positions = range(len(table))[::-1]
    height = 0.4
    axes.barh([p + height / 2 for p in positions], table["val_mae_degc"], height, label="val")
    test_bars = [p - height / 2 for p in positions]
    axes.barh(test_bars, table["test_mae_degc"], height, label="test")
    if {"test_mae_low", "test_mae_high"} <= set(table.columns):
        spread = [
            (table["test_mae_degc"] - table["test_mae_low"]).fillna(0.0).clip(lower=0.0),
            (table["test_mae_high"] - table["test_mae_degc"]).fillna(0.0).clip(lower=0.0),
        ]
        axes.errorbar(
            table["test_mae_degc"],
            test_bars,
            xerr=spread,
            fmt="none",
            ecolor="black",
            elinewidth=0.8,
            capsize=2,
            label="test, 95% interval",
        )
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


SHARED_COLUMNS = ("protocol", "features", "data")


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


def _present(row: pd.Series, *columns: str) -> bool:
    return all(column in row.index and not pd.isna(row[column]) for column in columns)


def _ranked_text(row: pd.Series) -> str:
    """The validation MAE the rank follows: ``mean ± std (n seeds)``, or the single run."""
    if _present(row, "seeds") and row["seeds"] > 0:
        return (
            f"{row['val_mae_degc_mean']:.3f} ± {row['val_mae_degc_std']:.3f} "
            f"({int(row['seeds'])} seeds)"
        )
    return f"{row[RANKED_COLUMN] if _present(row, RANKED_COLUMN) else row['val_mae_degc']:.3f}"


def _test_mae_text(row: pd.Series) -> str:
    text = f"{row['test_mae_degc']:.3f}"
    if _present(row, "test_mae_low", "test_mae_high"):
        text += f" [{row['test_mae_low']:.2f}, {row['test_mae_high']:.2f}]"
    return text


def _test_skill_text(row: pd.Series) -> str:
    text = f"{row['test_skill_vs_naive']:+.1%}"
    if row["model"] != NAIVE and _present(row, "test_skill_low", "test_skill_high"):
        text += f" [{row['test_skill_low']:+.1%}, {row['test_skill_high']:+.1%}]"
    return text


def _verdict_text(row: pd.Series) -> str:
    """The Holm-adjusted verdict against naive with the adjusted and the raw p, where there is one
    (a table without the adjusted columns: the interval's verdict and its p)."""
    if row["model"] == NAIVE or not _present(row, "test_verdict_vs_naive"):
        return ""
    if _present(row, "test_verdict_vs_naive_holm", "test_p_vs_naive_holm"):
        verdict = row["test_verdict_vs_naive_holm"]
        if verdict == "within the noise" and _present(row, "test_resolution_degc"):
            verdict += f", not resolved at ±{row['test_resolution_degc']:.2f} degC"
        return (
            f"{verdict} (p {row['test_p_vs_naive_holm']:.3g} adjusted, "
            f"{row['test_p_vs_naive']:.3g} raw)"
        )
    p_value = f" (p {row['test_p_vs_naive']:.3g})" if _present(row, "test_p_vs_naive") else ""
    return f"{row['test_verdict_vs_naive']}{p_value}"


def _tied_text(row: pd.Series) -> str:
    return ", ".join(
        split for split in ("val", "test") if row.get(f"{split}_tied_with_best") == "yes"
    )


def _seed_mean_text(row: pd.Series, split: str) -> str:
    if not _present(row, f"{split}_mae_degc_mean"):
        return ""
    return f"{row[f'{split}_mae_degc_mean']:.3f} ± {row[f'{split}_mae_degc_std']:.3f}"


def _seed_skill_text(row: pd.Series) -> str:
    """The seed mean's test skill with its 95% interval and verdict against naive, if any."""
    if row["model"] == NAIVE or not _present(row, SEED_SKILL_COLUMN):
        return ""
    text = f"{row[SEED_SKILL_COLUMN]:+.1%}"
    if _present(row, "test_skill_mean_low", "test_skill_mean_high"):
        text += f" [{row['test_skill_mean_low']:+.1%}, {row['test_skill_mean_high']:+.1%}]"
    for column in ("test_verdict_vs_naive_mean_holm", "test_verdict_vs_naive_mean"):
        if _present(row, column) and row[column]:
            return f"{text} {row[column]}"
    return text


def _interval_text(row: pd.Series) -> str:
    """``90%: ±w (p% of test)`` for the widest prediction interval of a row, blank without one."""
    if not _present(row, "interval_level", "interval_half_width_degc", "interval_test_coverage"):
        return ""
    key = f"p{round(row['interval_level'] * 100, 4):g}"
    low, high = f"{key}_test_coverage_low", f"{key}_test_coverage_high"
    spread = f" [{row[low]:.1%}, {row[high]:.1%}]" if _present(row, low, high) else ""
    return (
        f"{row['interval_level']:.0%}: ±{row['interval_half_width_degc']:.2f} "
        f"({row['interval_test_coverage']:.1%}{spread} of test)"
    )


def _optional_count(value: Any) -> str:
    return "-" if pd.isna(value) else str(value)


def _readable(table: pd.DataFrame) -> pd.DataFrame:
    """One line per model as people read it: MAE to 3 decimals with its 95% interval, skill as a
    signed percentage, the verdict against naive, the splits on which it is tied with the best,
    the seed study's mean ± std, "-" where a model has no such number; protocol, features and
    data shown once above the table when every row shares them."""
    rows = []
    for _, row in table.iterrows():
        shown = {
            "rank": str(row["rank"]),
            "model": row["model"],
            "val_mae_degc": _ranked_text(row),
            "test_mae_degc (95%)": _test_mae_text(row),
            "test_skill (95%)": _test_skill_text(row),
            "vs_naive": _verdict_text(row),
            "tied_with_best": _tied_text(row),
        }
        if _has_seed_study(table):
            shown["test_mae_degc_over_seeds"] = _seed_mean_text(row, "test")
            shown["test_skill_over_seeds (95%)"] = _seed_skill_text(row)
        shown |= {
            "parameters": _optional_count(row.get("parameters")),
            "epochs": _optional_count(row.get("epochs")),
        }
        if "interval_level" in table.columns and table["interval_level"].notna().any():
            shown["prediction_interval"] = _interval_text(row)
        rows.append(shown)
    return pd.DataFrame(rows)


def _over_seeds(table: pd.DataFrame, row: pd.Series) -> str:
    """`; over N seeds ...` for a row with a seed study, else nothing."""
    if "seeds" not in table.columns or not row["seeds"] > 0:
        return ""
    skill = _seed_skill_text(row)
    skill = f", skill {skill}" if skill else ""
    return (
        f"; over {int(row['seeds'])} seeds {row['test_mae_degc_mean']:.3f} ± "
        f"{row['test_mae_degc_std']:.3f} degC{skill}"
    )


def _groups(table: pd.DataFrame) -> list[str]:
    """The headline's sentences on the tie groups and on which models beat naive beyond noise."""
    sentences = []
    for split, name in (("test", "test"), ("val", "validation")):
        column = f"{split}_tied_with_best"
        if column in table.columns and (table[column] == "yes").any():
            tied = ", ".join(table.loc[table[column] == "yes", "model"])
            sentences.append(
                f"Cannot be told apart from the best on {name} (model confidence set): {tied}."
            )
    holm = "test_verdict_vs_naive_holm" in table.columns
    if "test_verdict_vs_naive" in table.columns and table["test_verdict_vs_naive"].notna().any():
        column = "test_verdict_vs_naive_holm" if holm else "test_verdict_vs_naive"
        better = table.loc[table[column] == "better", "model"]
        tested = int((table[column].fillna("") != "").sum())
        how = (
            f"Diebold-Mariano test, Holm-adjusted over the {tested} models tested"
            if holm
            else "95% block-bootstrap interval of the paired difference"
        )
        sentences.append(
            f"Better than naive on test beyond the noise ({how}): {', '.join(better) or 'none'}."
        )
    column = "test_verdict_vs_naive_mean_holm" if holm else "test_verdict_vs_naive_mean"
    if column in table.columns and (table["seeds"] > 0).any():
        studied = table[table["seeds"] > 0]
        better = studied.loc[studied[column] == "better", "model"]
        adjusted = ", Holm-adjusted over them" if holm else ""
        sentences.append(
            "Of the models with a seed study, better than naive on test beyond the noise with "
            f"their errors averaged over the seeds{adjusted}: {', '.join(better) or 'none'} "
            f"({len(better)} of {len(studied)})."
        )
    return sentences


def summary_markdown(
    table: pd.DataFrame,
    best: str,
    quality: dict[str, Any],
    ensemble_members: list[str] | None = None,
) -> str:
    """The summary page: the groups tied with the best, the leaderboard, the best model's forecast
    chart and the data-quality report."""
    best_row = table[table["model"] == best].iloc[0]
    quality_table = pd.DataFrame({"check": list(quality), "value": list(quality.values())})
    notes = [
        "`val_mae_degc`: what the rank follows, the mean ± sample std over the seed study's seeds "
        "where a model has one (stage `seeds`), its run from params' `seed` otherwise. Rank 1: "
        "every model that the model confidence set cannot tell apart from the best on validation "
        "(`tied_with_best` names the splits where that holds). `[low, high]`: 95% intervals of a "
        "circular block bootstrap over windows (params `significance`); `vs_naive`: the "
        "Diebold-Mariano test against naive, Holm-adjusted over every model tested (one family "
        "for the single runs, one for the seed means), which decides `better`/`worse`, with the "
        "adjusted and the raw p; a tie gives its resolution: the smallest difference to naive "
        "the tests find at 80% power, all at once."
    ]
    if _has_seed_study(table):
        notes.append(
            "`test_mae_degc_over_seeds`: mean ± sample std of the test MAE over the seeds. A "
            "classical fit that no seed enters shows its single run ± 0. "
            "`test_skill_over_seeds`: the skill of that mean, with the 95% interval and the "
            "verdict against naive of the per-window errors averaged over the seeds."
        )
    if "interval_level" in table.columns and table["interval_level"].notna().any():
        notes.append(
            "`prediction_interval`: the forecast ± a half-width in degC (params `intervals`), and "
            "the share of test windows inside it."
        )
    if ensemble_members:
        notes.append(f"`{ENSEMBLE}` averages the 24 h forecasts of {', '.join(ensemble_members)}.")
    return (
        "\n\n".join(
            [
                "# Jena temperature forecast: summary",
                f"Ranked first on the validation split: **{best}**, test MAE "
                f"{best_row['test_mae_degc']:.3f} degC (skill vs naive {best_row['test_skill_vs_naive']:+.1%})"
                + _over_seeds(table, best_row)
                + ".",
                *_groups(table),
                "## Leaderboard (24 h ahead, MAE in degC, ranked by validation MAE)",
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
