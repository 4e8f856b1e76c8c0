"""Every model's val/test scores in one tidy table, ranked on what survives selection.

The rank follows the validation MAE over seeds where a model has a seed study (a single run is
one draw of a noisy quantity, and the best single run is flattered by the choice), the run from
params' ``seed`` otherwise. Models that the model confidence set cannot tell apart from the best
on validation share rank 1; ``test_tied_with_best`` says the same of the test split.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from jena_forecast.evaluation.significance import POWER, adjusted_verdict, holm
from jena_forecast.plumbing.errors import PipelineError

NAIVE = "naive"
SEED_COLUMNS = [
    "val_mae_degc_mean",
    "val_mae_degc_std",
    "test_mae_degc_mean",
    "test_mae_degc_std",
    "seeds",
]
SEED_SKILL_COLUMN = "test_skill_vs_naive_mean"  # skill of the mean test MAE over the seeds
# The same 95% intervals and test for the seed mean: of the per-window errors averaged over seeds.
SEED_UNCERTAINTY_COLUMNS = {
    "test_mae_mean_low": "mae_degc_low",
    "test_mae_mean_high": "mae_degc_high",
    "test_skill_mean_low": "skill_low",
    "test_skill_mean_high": "skill_high",
    "test_p_vs_naive_mean": "p_value_vs_naive",
    "test_verdict_vs_naive_mean": "verdict_vs_naive",
}
INTERVAL_COLUMNS = ["interval_level", "interval_half_width_degc", "interval_test_coverage"]
# The 95% intervals of the test scores and the test against naive (significance.split_uncertainty).
UNCERTAINTY_COLUMNS = {
    "test_mae_low": "mae_degc_low",
    "test_mae_high": "mae_degc_high",
    "test_skill_low": "skill_low",
    "test_skill_high": "skill_high",
    "test_p_vs_naive": "p_value_vs_naive",
    "test_verdict_vs_naive": "verdict_vs_naive",
}
# The same tests against naive, Holm-adjusted over every model of the column (one family for the
# single runs, one for the seed means): the verdict a reader may take for all of them at once.
# ``*_resolution_degc``: the smallest difference to naive those tests find at 80% power, all at once.
HOLM_COLUMNS = ["test_p_vs_naive_holm", "test_verdict_vs_naive_holm", "test_resolution_degc"]
SEED_HOLM_COLUMNS = [
    "test_p_vs_naive_mean_holm",
    "test_verdict_vs_naive_mean_holm",
    "test_resolution_mean_degc",
]
# The model refitted on training + validation (``refit/``): its test scores over seeds beside the
# fit's, with the same intervals and tests, and the seed-aware difference to the fit (``gain``).
REFIT_COLUMNS = {
    "refit_test_mae_degc_mean": "mae_degc_mean",
    "refit_test_mae_degc_std": "mae_degc_std",
    "refit_test_skill_vs_naive_mean": "skill_vs_naive_mean",
    "refit_test_mae_mean_low": "mae_degc_low",
    "refit_test_mae_mean_high": "mae_degc_high",
    "refit_test_skill_mean_low": "skill_low",
    "refit_test_skill_mean_high": "skill_high",
    "refit_test_p_vs_naive_mean": "p_value_vs_naive",
    "refit_test_verdict_vs_naive_mean": "verdict_vs_naive",
}
REFIT_GAIN_COLUMNS = {
    "refit_gain_degc": "difference_degc",
    "refit_gain_low": "low_degc",
    "refit_gain_high": "high_degc",
    "refit_gain_verdict": "verdict",
}
REFIT_HOLM_COLUMNS = [
    "refit_test_p_vs_naive_mean_holm",
    "refit_test_verdict_vs_naive_mean_holm",
    "refit_test_resolution_mean_degc",
]
TIE_COLUMNS = ["val_tied_with_best", "test_tied_with_best", "val_mcs_p", "test_mcs_p"]
RANKED_COLUMN = "ranked_val_mae_degc"  # what the rank follows: the seed mean, or the single run
COLUMNS = [
    "rank",
    "model",
    RANKED_COLUMN,
    "val_mae_degc",
    "test_mae_degc",
    "val_skill_vs_naive",
    "test_skill_vs_naive",
    *UNCERTAINTY_COLUMNS,
    *HOLM_COLUMNS,
    *TIE_COLUMNS,
    *SEED_COLUMNS,
    SEED_SKILL_COLUMN,
    *SEED_UNCERTAINTY_COLUMNS,
    *SEED_HOLM_COLUMNS,
    *REFIT_COLUMNS,
    *REFIT_HOLM_COLUMNS,
    *REFIT_GAIN_COLUMNS,
    "recipe",
    "parameters",
    "epochs",
    "protocol",
    "features",
    "data",
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
    """The widest prediction interval of a record (its level, half-width and test coverage), and
    per level its test coverage with the 95% interval (``p80_test_coverage``, ``_low``, ``_high``)."""
    intervals = record.get("intervals") or {}
    if not intervals:
        return {column: np.nan for column in INTERVAL_COLUMNS}
    widest = max(intervals.values(), key=lambda interval: interval["level"])
    columns = {
        "interval_level": widest["level"],
        "interval_half_width_degc": widest["half_width_degc"],
        "interval_test_coverage": widest["test_coverage"],
    }
    for key, interval in sorted(intervals.items(), key=lambda item: item[1]["level"]):
        for name in ("test_coverage", "test_coverage_low", "test_coverage_high"):
            columns[f"{key}_{name}"] = interval.get(name, np.nan)
    return columns


SKILL_TOLERANCE = 2e-6  # records round MAE and skill to 6 decimals


def check_consistent(
    naive: dict[str, Any],
    models: dict[str, dict[str, Any]],
    seed_studies: dict[str, dict[str, Any]],
) -> None:
    """Refuse records that were not scored on the naive baseline's windows and data, or whose skill
    does not follow from their MAEs: a stage left stale by a change of data, split, windows or
    features would otherwise be ranked beside fresh ones.

    Every record (and seed study) must have the naive record's ``protocol``, ``features`` and
    ``data``, and
    per split its window count and naive MAE; a single run's ``skill_vs_naive`` must equal
    ``1 - mae_degc / naive_mae_degc``.
    """
    problems = []
    records = [(name, record, "mae_degc") for name, record in models.items()]
    records += [
        (f"{name} (seed study)", study, "mae_degc_mean") for name, study in seed_studies.items()
    ]
    for name, record, mae_key in records:
        for key in ("protocol", "features", "data"):
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


def _uncertainty_columns(record: dict[str, Any]) -> dict[str, Any]:
    """The test split's 95% intervals and test against naive (and that test's resolution, which
    ``_add_holm`` widens for the family); empty for a record without them."""
    test = record["test"]
    columns = {column: test.get(key, np.nan) for column, key in UNCERTAINTY_COLUMNS.items()}
    return columns | {"test_resolution_raw_degc": test.get("resolution_vs_naive_degc", np.nan)}


def _seed_uncertainty_columns(uncertainty: dict[str, Any] | None) -> dict[str, Any]:
    """A seed mean's 95% intervals and test against naive; empty without them."""
    uncertainty = uncertainty or {}
    return {
        column: uncertainty.get(key, "" if key == "verdict_vs_naive" else np.nan)
        for column, key in SEED_UNCERTAINTY_COLUMNS.items()
    } | {"test_resolution_mean_raw_degc": uncertainty.get("resolution_vs_naive_degc", np.nan)}


def _refit_columns(record: dict[str, Any] | None) -> dict[str, Any]:
    """A refit's test scores over its seeds and its difference to the fit; empty without one
    (or for an ensemble whose members were not all refitted)."""
    test = (record or {}).get("test", {})
    gain = (record or {}).get("vs_fit", {})
    text = ("verdict_vs_naive", "verdict")
    return (
        {
            column: test.get(key, "" if key in text else np.nan)
            for column, key in REFIT_COLUMNS.items()
        }
        | {
            column: gain.get(key, "" if key in text else np.nan)
            for column, key in REFIT_GAIN_COLUMNS.items()
        }
        | {"refit_test_resolution_mean_raw_degc": test.get("resolution_vs_naive_degc", np.nan)}
    )


def _row(name: str, record: dict[str, Any], seed_columns: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": name,
        "val_mae_degc": record["val"]["mae_degc"],
        "test_mae_degc": record["test"]["mae_degc"],
        "val_skill_vs_naive": record["val"]["skill_vs_naive"],
        "test_skill_vs_naive": record["test"]["skill_vs_naive"],
        **_uncertainty_columns(record),
        **seed_columns,
        "recipe": record.get("recipe", ""),
        "parameters": _optional_int(record, "parameters"),
        "epochs": _optional_int(record, "epochs"),
        "protocol": record.get("protocol", ""),
        "features": record.get("features", ""),
        "data": record.get("data", ""),
        **_interval_columns(record),
    }


def leaderboard(
    naive: dict[str, Any],
    models: dict[str, dict[str, Any]],
    seed_studies: dict[str, dict[str, Any]] | None = None,
    mcs_p: dict[str, dict[str, float]] | None = None,
    tie_size: float = 0.1,
    seed_uncertainty: dict[str, dict[str, Any]] | None = None,
    alpha: float = 0.05,
    refits: dict[str, dict[str, Any]] | None = None,
) -> pd.DataFrame:
    """One row per model and one for the naive baseline (no parameters, no training).

    ``naive`` is the baseline's metrics record, ``models`` each model's metrics record by name (the
    deep and classical models' and the ensemble's), ``seed_studies`` the seed-study record of the
    models that have one, ``mcs_p`` per split (``val``, ``test``) each row's model confidence set
    p-value (``significance.tied_with_best``).

    Rows are sorted by ``ranked_val_mae_degc``: the validation MAE's mean over seeds where there is
    one, the run from params' ``seed`` otherwise (ties by name). ``rank`` 1 is the best and every
    model whose validation p-value is at least ``tie_size`` (tied with the best); the others keep
    their place in the order. ``val_tied_with_best`` and ``test_tied_with_best`` mark the model
    confidence set of each split. The ``test_*_low``/``_high`` columns are the 95% block-bootstrap
    intervals of test MAE and skill, ``test_p_vs_naive`` and ``test_verdict_vs_naive`` the
    Diebold-Mariano p-value and the verdict of the paired interval against naive;
    ``test_p_vs_naive_holm`` and ``test_verdict_vs_naive_holm`` the same p Holm-adjusted over every
    model tested (``better``/``worse`` where it is below ``alpha``: these verdicts hold together,
    and they, not the intervals, decide what the report calls better).

    A model's seed-study columns hold the mean and sample standard deviation of its MAE over the
    study's seeds, and ``test_skill_vs_naive_mean`` the study's mean test skill against naive;
    ``seed_uncertainty`` (per model with a study, ``significance.split_uncertainty`` of its test
    errors averaged over the seeds) fills the ``test_*_mean_low``/``_high``, ``test_p_vs_naive_mean``
    and ``test_verdict_vs_naive_mean`` columns, adjusted over the seed means in the ``_mean_holm``
    columns. A
    classical model whose fit no seed enters (``seed_dependent`` false) gets its single run as the
    mean over seeds and std 0, and its single run's intervals as the seed mean's. ``parameters`` and ``epochs`` are empty for a model without them;
    ``protocol``, ``features`` and ``data`` say which windows and data each row was scored on. The
    interval columns describe the widest conformal prediction interval of the record; the
    ``p<level>_test_coverage*`` columns that follow give every level's test coverage with its 95%
    interval. ``refits`` (the refit records of ``refit/record.py`` by model) fill the ``refit_*``
    columns: the refit's test MAE and skill over its seeds with the seed mean's intervals and test
    against naive (Holm-adjusted over the refits), and ``refit_gain_*``, the refit's MAE minus the
    fit's with its seed-aware interval. Records that
    were not scored on the naive baseline's windows and data, or whose skill does not follow from
    their MAEs, are refused (``check_consistent``).
    """
    seed_studies = seed_studies or {}
    check_consistent(naive, models, seed_studies)
    naive_row = _row(NAIVE, naive, _seed_columns(None))
    naive_row.update(parameters=0, epochs=0)
    naive_row.update(val_skill_vs_naive=0.0, test_skill_vs_naive=0.0)
    rows = [naive_row]
    rows[0].update(_seed_uncertainty_columns(None))
    for name, record in models.items():
        if record.get("seed_dependent") is False and name not in seed_studies:
            seed_columns = _seed_independent_columns(record)
            seed_columns.update(_seed_uncertainty_columns(record["test"]))
        else:
            seed_columns = _seed_columns(seed_studies.get(name))
            seed_columns.update(_seed_uncertainty_columns((seed_uncertainty or {}).get(name)))
        seed_columns.update(_refit_columns((refits or {}).get(name)))
        rows.append(_row(name, record, seed_columns))
    rows[0].update(_refit_columns(None))
    table = pd.DataFrame(rows)
    _add_holm(table, "test_p_vs_naive", "test_skill_vs_naive", HOLM_COLUMNS, alpha)
    _add_holm(table, "test_p_vs_naive_mean", SEED_SKILL_COLUMN, SEED_HOLM_COLUMNS, alpha)
    _add_holm(
        table,
        "refit_test_p_vs_naive_mean",
        "refit_test_skill_vs_naive_mean",
        REFIT_HOLM_COLUMNS,
        alpha,
    )
    table = table.drop(
        columns=[
            "test_resolution_raw_degc",
            "test_resolution_mean_raw_degc",
            "refit_test_resolution_mean_raw_degc",
        ]
    )
    table[RANKED_COLUMN] = table["val_mae_degc_mean"].fillna(table["val_mae_degc"])
    for split in ("val", "test"):
        p_values = (mcs_p or {}).get(split, {})
        table[f"{split}_mcs_p"] = table["model"].map(p_values).astype(float)
        table[f"{split}_tied_with_best"] = table[f"{split}_mcs_p"].map(
            lambda p: "" if pd.isna(p) else ("yes" if p >= tie_size else "no")
        )
    table = table.sort_values([RANKED_COLUMN, "model"], kind="stable").reset_index(drop=True)
    place = pd.Series(range(1, len(table) + 1))
    tied = (table["val_tied_with_best"] == "yes") | (place == 1)
    table.insert(0, "rank", place.where(~tied, 1))
    table["parameters"] = table["parameters"].astype("Int64")
    table["epochs"] = table["epochs"].astype("Int64")
    per_level = [column for column in table.columns if column not in COLUMNS]
    return table[COLUMNS + per_level]


def _add_holm(
    table: pd.DataFrame, p_column: str, skill_column: str, columns: list[str], alpha: float
) -> None:
    """Holm-adjusted p and verdict against naive over the models with a test in ``p_column``
    (naive's own row is no test); positive skill is the better direction."""
    tested = table["model"] != NAIVE
    p_values = dict(zip(table["model"][tested], table[p_column][tested].astype(float), strict=True))
    adjusted = holm(p_values)
    table[columns[0]] = table["model"].map(adjusted).astype(float)
    table[columns[1]] = [
        adjusted_verdict(-float(skill), p, alpha) if name in adjusted else ""
        for name, skill, p in zip(
            table["model"], table[skill_column], table[columns[0]], strict=True
        )
    ]
    # A record's resolution is one test's at 1 - alpha; the family's needs alpha / m (Holm's
    # first step), with the same standard error.
    raw = p_column.replace("p_vs_naive", "resolution") + "_raw_degc"
    tests = sum(1 for p in adjusted.values() if np.isfinite(p))
    one, family = (norm.ppf(1 - alpha / 2 / m) + norm.ppf(POWER) for m in (1, max(tests, 1)))
    table[columns[2]] = (table[raw].astype(float) * family / one).round(6)


def best_model(table: pd.DataFrame) -> str:
    """The trained model ranked first: lowest validation MAE over seeds, or of its single run
    (naive only if nothing else is there)."""
    trained = table[table["model"] != NAIVE]
    return str((trained if len(trained) else table)["model"].iloc[0])
