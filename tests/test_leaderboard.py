"""The leaderboard ranks models and the naive baseline by validation MAE; the report reads it."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from conftest import PROJECT_PARAMS

from jena_forecast.config import parse_params
from jena_forecast.evaluation import report
from jena_forecast.evaluation.leaderboard import best_model, leaderboard
from jena_forecast.plumbing.atomic import write_json
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.tables import read_tsv
from stages import leaderboard as leaderboard_stage
from stages import report as report_stage

CONFIG = parse_params(PROJECT_PARAMS)
WINDOWS = {"val": 400, "test": 410}
NAIVE = {
    split: {
        "mae_degc": mae,
        "naive_mae_degc": mae,
        "skill_vs_naive": 0.0,
        "windows": WINDOWS[split],
    }
    for split, mae in (("val", 2.0), ("test", 2.2))
}


def skill(mae: float, split: str) -> float:
    """Skill against the naive baseline of NAIVE, as the evaluate stage records it."""
    return round(1 - mae / NAIVE[split]["mae_degc"], 6)


def record(val_mae: float, test_mae: float, parameters: int = 10) -> dict:
    return {
        split: {
            "mae_degc": mae,
            "skill_vs_naive": skill(mae, split),
            "naive_mae_degc": NAIVE[split]["mae_degc"],
            "windows": WINDOWS[split],
        }
        for split, mae in (("val", val_mae), ("test", test_mae))
    } | {
        "epochs": 5,
        "parameters": parameters,
        "train_seconds": 1.5,
    }


def shown(*values: float) -> list[str]:
    """MAEs as the report shows them, to three decimals."""
    return [f"{value:.3f}" for value in values]


def shown_skill(mae: float, split: str) -> str:
    """A skill as the report shows it: a signed percentage."""
    return f"{skill(mae, split):+.1%}"


def test_rows_are_sorted_by_validation_mae_with_naive_among_them():
    models = {"gru": record(1.5, 1.6), "linear": record(2.5, 2.4)}
    table = leaderboard(NAIVE, models)
    # naive's val MAE lies between gru's and linear's
    assert list(table["model"]) == ["gru", "naive", "linear"]
    assert list(table["rank"]) == [1, 2, 3]
    naive = table[table["model"] == "naive"].iloc[0]
    assert (naive["val_mae_degc"], naive["test_mae_degc"]) == (
        NAIVE["val"]["mae_degc"],
        NAIVE["test"]["mae_degc"],
    )
    assert (naive["val_skill_vs_naive"], naive["test_skill_vs_naive"], naive["parameters"]) == (
        0.0,
        0.0,
        0,
    )
    for name, rec in models.items():
        row = table[table["model"] == name].iloc[0]
        for split in ("val", "test"):
            assert row[f"{split}_mae_degc"] == rec[split]["mae_degc"]
            assert row[f"{split}_skill_vs_naive"] == skill(rec[split]["mae_degc"], split)
    assert best_model(table) == "gru"


def test_best_model_is_a_trained_one_even_when_naive_wins():
    table = leaderboard(NAIVE, {"dense": record(2.1, 2.0)})
    assert list(table["model"]) == ["naive", "dense"]
    assert best_model(table) == "dense"


def test_ties_are_broken_by_name():
    table = leaderboard(NAIVE, {"b": record(1.0, 1.0), "a": record(1.0, 1.2)})
    assert list(table["model"])[:2] == ["a", "b"]


def test_report_writes_markdown_and_two_charts(tmp_path):
    metrics = {"gru": tmp_path / "gru.json", "dense": tmp_path / "dense.json"}
    write_json(metrics["gru"], record(1.5, 1.6))
    write_json(metrics["dense"], record(1.8, 1.9))
    write_json(tmp_path / "naive.json", NAIVE)
    board = leaderboard_stage.run(
        CONFIG,
        naive_path=tmp_path / "naive.json",
        metrics_paths=metrics,
        leaderboard_path=tmp_path / "leaderboard.tsv",
    )
    assert (tmp_path / "leaderboard.tsv").read_text().splitlines()[1].split("\t")[:3] == [
        "1",
        "gru",
        str(1.5),
    ]
    assert len(board) == len(metrics) + 1
    forecasts = pd.DataFrame(
        {
            "timestamp": ["2015-01-01T00:00:00", "2015-01-01T00:10:00"],
            "actual_degc": [1.0, 2.0],
            "predicted_degc": [1.5, 2.5],
            "naive_degc": [0.0, 1.0],
        }
    )
    forecasts.to_csv(tmp_path / "gru.csv", index=False)
    write_json(tmp_path / "quality.json", {"rows_read": 10, "duplicate_rows_dropped": 0})
    written = report_stage.run(
        leaderboard_path=tmp_path / "leaderboard.tsv",
        predictions_paths={"gru": tmp_path / "gru.csv", "dense": tmp_path / "dense.csv"},
        quality_path=tmp_path / "quality.json",
        report_dir=tmp_path / "reports",
    )
    assert written["best_model"] == "gru"
    summary = (tmp_path / "reports" / "summary.md").read_text()
    assert (
        f"Ranked first on the validation split: **gru**, test MAE {1.6:.3f} degC "
        f"(skill vs naive {shown_skill(1.6, 'test')})" in summary
    )
    gru = ["1", "gru", *shown(1.5, 1.6), shown_skill(1.6, "test"), "", ""]
    assert "| " + " | ".join([*gru, "10", "5"]) + " |" in summary
    assert "| rows_read | 10 |" in summary
    for png in (report.LEADERBOARD_PNG, report.FORECAST_PNG):
        assert (tmp_path / "reports" / png).read_bytes().startswith(b"\x89PNG")


def test_report_names_a_missing_predictions_file(tmp_path):
    write_json(tmp_path / "naive.json", NAIVE)
    write_json(tmp_path / "gru.json", record(1.5, 1.6))
    leaderboard_stage.run(
        CONFIG,
        naive_path=tmp_path / "naive.json",
        metrics_paths={"gru": tmp_path / "gru.json"},
        leaderboard_path=tmp_path / "lb.tsv",
    )
    write_json(tmp_path / "quality.json", {})
    with pytest.raises(PipelineError, match=r"gru\.csv: file not found; run evaluate@gru"):
        report_stage.run(
            leaderboard_path=tmp_path / "lb.tsv",
            predictions_paths={"gru": tmp_path / "gru.csv"},
            quality_path=tmp_path / "quality.json",
            report_dir=tmp_path / "r",
        )


def study(val_mean: float, val_std: float, test_mean: float, test_std: float) -> dict:
    splits = {
        "val": {"mae_degc_mean": val_mean, "mae_degc_std": val_std},
        "test": {
            "mae_degc_mean": test_mean,
            "mae_degc_std": test_std,
            "skill_vs_naive_mean": skill(test_mean, "test"),
        },
    }
    return {"seeds": [1, 2, 3]} | {
        split: {**scores, "naive_mae_degc": NAIVE[split]["mae_degc"], "windows": WINDOWS[split]}
        for split, scores in splits.items()
    }


def test_seed_study_columns_and_the_ensemble_row():
    ensemble = {**record(1.2, 1.3, parameters=30), "members": ["gru", "lstm"]}
    table = leaderboard(
        NAIVE,
        {"gru": record(1.5, 1.6), "lstm": record(1.4, 1.7), "ensemble": ensemble},
        {"gru": study(1.55, 0.05, 1.65, 0.07)},
    )
    assert list(table["model"]) == ["ensemble", "lstm", "gru", "naive"]  # one row per model
    gru = table[table["model"] == "gru"].iloc[0]
    assert (gru["val_mae_degc_mean"], gru["val_mae_degc_std"]) == (1.55, 0.05)
    assert (gru["test_mae_degc_mean"], gru["test_mae_degc_std"], gru["seeds"]) == (1.65, 0.07, 3)
    assert gru["test_skill_vs_naive_mean"] == pytest.approx(1 - 1.65 / NAIVE["test"]["mae_degc"])
    for name in ("ensemble", "lstm", "naive"):
        row = table[table["model"] == name].iloc[0]
        assert row["seeds"] == 0 and pd.isna(row["val_mae_degc_mean"])
        assert pd.isna(row["test_skill_vs_naive_mean"])
    assert table.iloc[0]["parameters"] == 30 and best_model(table) == "ensemble"


def test_report_shows_mean_and_std_over_seeds_and_the_ensemble_members(tmp_path):
    metrics = {
        "gru": tmp_path / "gru.json",
        "lstm": tmp_path / "lstm.json",
        "ensemble": tmp_path / "ensemble.json",
    }
    write_json(metrics["gru"], record(1.5, 1.6))
    write_json(metrics["lstm"], record(1.8, 1.9))
    write_json(metrics["ensemble"], {**record(1.2, 1.4), "members": ["gru", "lstm"]})
    write_json(tmp_path / "gru.seeds.json", study(1.55, 0.05, 1.65, 0.07))
    write_json(tmp_path / "naive.json", NAIVE)
    leaderboard_stage.run(
        CONFIG,
        naive_path=tmp_path / "naive.json",
        metrics_paths=metrics,
        leaderboard_path=tmp_path / "leaderboard.tsv",
        seed_paths={"gru": tmp_path / "gru.seeds.json"},
    )
    header, *lines = (tmp_path / "leaderboard.tsv").read_text().splitlines()
    rows = [dict(zip(header.split("\t"), line.split("\t"), strict=True)) for line in lines]
    # Ranked by val MAE over seeds where there are seeds: ensemble 1.2, gru 1.55, lstm 1.8, naive 2.0.
    assert [row["model"] for row in rows] == ["ensemble", "gru", "lstm", "naive"]
    seed_columns = ["val_mae_degc_mean", "val_mae_degc_std", "test_mae_degc_mean"]
    seed_columns += ["test_mae_degc_std", "seeds", "ranked_val_mae_degc"]
    assert [rows[1][column] for column in seed_columns] == [
        "1.55",
        "0.05",
        "1.65",
        "0.07",
        "3",
        "1.55",
    ]
    assert [rows[1][column] for column in ("val_mae_degc", "test_mae_degc")] == ["1.5", "1.6"]
    assert [rows[3][column] for column in seed_columns] == ["", "", "", "", "0", "2.0"]
    pd.DataFrame(
        {
            "timestamp": ["2015-01-01T00:00:00"],
            "actual_degc": [1.0],
            "predicted_degc": [1.5],
            "naive_degc": [0.0],
        }
    ).to_csv(tmp_path / "ensemble.csv", index=False)
    write_json(tmp_path / "quality.json", {"rows_read": 10})
    written = report_stage.run(
        leaderboard_path=tmp_path / "leaderboard.tsv",
        predictions_paths={"ensemble": tmp_path / "ensemble.csv"},
        quality_path=tmp_path / "quality.json",
        report_dir=tmp_path / "reports",
        ensemble_path=metrics["ensemble"],
    )
    assert written["best_model"] == "ensemble"
    summary = (tmp_path / "reports" / "summary.md").read_text()
    assert f"Ranked first on the validation split: **ensemble**, test MAE {1.4:.3f} degC" in summary
    assert (
        "| tied_with_best | test_mae_degc_over_seeds | test_skill_over_seeds (95%) | parameters |"
        in summary
    )
    gru = ["2", "gru", f"{1.55:.3f} ± {0.05:.3f} (3 seeds)", *shown(1.6)]
    gru += [shown_skill(1.6, "test"), "", "", f"{1.65:.3f} ± {0.07:.3f}"]
    gru += [shown_skill(1.65, "test"), "10"]
    assert "| " + " | ".join(gru) + " |" in summary
    ensemble = ["1", "ensemble", *shown(1.2, 1.4), shown_skill(1.4, "test"), "", "", "", "", "10"]
    assert "| " + " | ".join(ensemble) + " |" in summary
    assert "`ensemble` averages the 24 h forecasts of gru, lstm." in summary


def test_protocol_and_features_columns_and_a_model_without_parameters_or_epochs(tmp_path):
    data = {"protocol": "dlwp2 lookback=1440 step=6 delay=144", "features": "none"}
    boosted = {**record(1.4, 1.5), **data}
    del boosted["parameters"], boosted["epochs"]
    boosted["iterations"] = 40
    write_json(tmp_path / "naive.json", {**NAIVE, **data})
    paths = {"hist_gbr": tmp_path / "hist_gbr.json", "gru": tmp_path / "gru.json"}
    write_json(paths["hist_gbr"], boosted)
    write_json(paths["gru"], {**record(1.5, 1.6), **data})
    table = leaderboard_stage.run(
        CONFIG,
        naive_path=tmp_path / "naive.json",
        metrics_paths=paths,
        leaderboard_path=tmp_path / "leaderboard.tsv",
    )
    header, *lines = (tmp_path / "leaderboard.tsv").read_text().splitlines()
    assert header.split("\t")[-6:] == [
        "protocol",
        "features",
        "data",
        "interval_level",
        "interval_half_width_degc",
        "interval_test_coverage",
    ]
    row = dict(zip(header.split("\t"), lines[0].split("\t"), strict=True))
    assert {key: row[key] for key in ("rank", "model", "val_mae_degc", "test_mae_degc")} == {
        "rank": "1",
        "model": "hist_gbr",
        "val_mae_degc": str(1.4),
        "test_mae_degc": str(1.5),
    }
    # no parameters, epochs, seed study, uncertainty or prediction interval in its record
    blank = ["parameters", "epochs", "val_mae_degc_mean", "test_mae_low", "test_mcs_p"]
    assert [row[key] for key in [*blank, "interval_level"]] == [""] * 6
    assert (row["protocol"], row["features"]) == (data["protocol"], "none")
    assert set(table["protocol"]) == {data["protocol"]} and set(table["features"]) == {"none"}
    reread = read_tsv(tmp_path / "leaderboard.tsv")
    assert pd.isna(reread.loc[0, "parameters"]) and reread.loc[1, "parameters"] == 10
    assert reread.loc[0, "features"] == "none"
    markdown = report.summary_markdown(reread, "hist_gbr", {})
    assert "Protocol of every row: `dlwp2 lookback=1440 step=6 delay=144`" in markdown
    assert "Features of every row: `none`" in markdown
    hist_gbr = ["1", "hist_gbr", *shown(1.4, 1.5), shown_skill(1.5, "test"), "", ""]
    assert "| " + " | ".join([*hist_gbr, "-", "-"]) + " |" in markdown
    # A record scored on other data (a stale stage) is refused, naming it; nothing is rewritten.
    before = (tmp_path / "leaderboard.tsv").read_bytes()
    write_json(paths["gru"], {**record(1.5, 1.6), **data, "features": "time_signals"})
    with pytest.raises(
        PipelineError, match="gru: features 'time_signals', the naive baseline's is 'none'"
    ):
        leaderboard_stage.run(
            CONFIG,
            naive_path=tmp_path / "naive.json",
            metrics_paths=paths,
            leaderboard_path=tmp_path / "leaderboard.tsv",
        )
    assert (tmp_path / "leaderboard.tsv").read_bytes() == before


def stale(rec: dict, split: str, **changes: object) -> dict:
    return {**rec, split: {**rec[split], **changes}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda r: stale(r, "test", windows=409),
            "gru: 409 test windows, the naive baseline has 410",
        ),
        (
            lambda r: stale(r, "val", naive_mae_degc=2.1),
            "gru: val naive MAE 2.1, the naive baseline's is 2.0",
        ),
        (
            lambda r: stale(r, "test", skill_vs_naive=0.2),
            "gru: test skill 0.2 does not follow from its MAE 1.6 and naive MAE 2.2 (0.272727)",
        ),
        (lambda r: {**r, "protocol": "dlwp1 lookback=1440 step=6 delay=144"}, "gru: protocol"),
    ],
)
def test_a_stale_or_inconsistent_record_is_refused(change, message):
    good = record(1.5, 1.6)
    leaderboard(NAIVE, {"gru": good})  # consistent: accepted
    with pytest.raises(PipelineError, match=re.escape(message)):
        leaderboard(NAIVE, {"gru": change(good), "lstm": record(1.4, 1.7)})


def test_a_seed_study_of_other_windows_is_refused():
    studied = study(1.35, 0.05, 1.65, 0.07)
    with pytest.raises(PipelineError, match=re.escape("gru (seed study): 1 val windows")):
        leaderboard(NAIVE, {"gru": record(1.5, 1.6)}, {"gru": stale(studied, "val", windows=1)})


def test_a_classical_model_a_seed_study_and_the_ensemble_share_one_table(tmp_path):
    data = {"protocol": "dlwp2 lookback=1440 step=6 delay=144", "features": "time_signals"}
    boosted = {**record(1.4, 1.5), **data, "estimator": "hist_gbr", "iterations": 40}
    del boosted["parameters"], boosted["epochs"]
    paths = {
        "gru": tmp_path / "gru.json",
        "hist_gbr": tmp_path / "hist_gbr.json",
        "ensemble": tmp_path / "ensemble.json",
    }
    write_json(tmp_path / "naive.json", {**NAIVE, **data})
    write_json(paths["gru"], {**record(1.6, 1.7), **data})
    write_json(paths["hist_gbr"], boosted)
    write_json(paths["ensemble"], {**record(1.5, 1.6), **data, "members": ["gru"]})
    write_json(tmp_path / "gru.seeds.json", {**study(1.62, 0.04, 1.72, 0.06), **data})
    leaderboard_stage.run(
        CONFIG,
        naive_path=tmp_path / "naive.json",
        metrics_paths=paths,
        leaderboard_path=tmp_path / "leaderboard.tsv",
        seed_paths={"gru": tmp_path / "gru.seeds.json"},
    )
    reread = read_tsv(tmp_path / "leaderboard.tsv")
    assert list(reread["model"]) == ["hist_gbr", "ensemble", "gru", "naive"]
    assert reread["val_mae_degc_mean"].dtype == float and list(reread["seeds"]) == [0, 0, 3, 0]
    assert pd.isna(reread.loc[0, "epochs"]) and set(reread["features"]) == {"time_signals"}
    markdown = report.summary_markdown(reread, "hist_gbr", {}, ensemble_members=["gru"])
    assert "Features of every row: `time_signals`" in markdown
    hist_gbr = ["1", "hist_gbr", *shown(1.4, 1.5), shown_skill(1.5, "test"), "", "", ""]
    assert "| " + " | ".join([*hist_gbr, "", "-", "-"]) + " |" in markdown
    gru = ["3", "gru", f"{1.62:.3f} ± {0.04:.3f} (3 seeds)", *shown(1.7)]
    gru += [shown_skill(1.7, "test"), "", "", f"{1.72:.3f} ± {0.06:.3f}"]
    assert "| " + " | ".join(gru) + " |" in markdown


def test_a_seed_free_classical_fit_has_its_run_as_the_mean_and_the_widest_interval_shows(tmp_path):
    intervals = {
        "p80": {"level": 0.8, "half_width_degc": 2.0, "val_coverage": 0.8, "test_coverage": 0.78},
        "p90": {"level": 0.9, "half_width_degc": 3.0, "val_coverage": 0.9, "test_coverage": 0.87},
    }
    ridge = {**record(1.4, 1.5), "seed_dependent": False, "intervals": intervals}
    ridge["test"].update(skill_low=0.02, skill_high=0.5, verdict_vs_naive="better")
    seeded = {**record(1.3, 1.45), "seed_dependent": True}
    paths = {"ridge": tmp_path / "ridge.json", "hist_gbr": tmp_path / "hist_gbr.json"}
    write_json(tmp_path / "naive.json", NAIVE)
    write_json(paths["ridge"], ridge)
    write_json(paths["hist_gbr"], seeded)
    table = leaderboard_stage.run(
        CONFIG,
        naive_path=tmp_path / "naive.json",
        metrics_paths=paths,
        leaderboard_path=tmp_path / "leaderboard.tsv",
    )
    row = table.set_index("model").loc["ridge"]
    # Its single run is the mean over any seeds, with no spread, and that run's skill.
    assert (row["test_mae_degc_mean"], row["test_mae_degc_std"], row["seeds"]) == (
        ridge["test"]["mae_degc"],
        0.0,
        0,
    )
    assert (row["val_mae_degc_mean"], row["val_mae_degc_std"]) == (ridge["val"]["mae_degc"], 0.0)
    assert row["test_skill_vs_naive_mean"] == ridge["test"]["skill_vs_naive"]
    assert (row["test_skill_mean_low"], row["test_verdict_vs_naive_mean"]) == (0.02, "better")
    widest = intervals["p90"]
    assert (row["interval_level"], row["interval_half_width_degc"]) == (
        widest["level"],
        widest["half_width_degc"],
    )
    assert row["interval_test_coverage"] == widest["test_coverage"]
    boosted = table.set_index("model").loc["hist_gbr"]  # seeded and not studied: no mean
    assert pd.isna(boosted["test_mae_degc_mean"]) and pd.isna(boosted["interval_level"])


def test_report_headline_gives_the_best_models_seed_mean_and_skill_and_intervals(tmp_path):
    intervals = {
        "p90": {"level": 0.9, "half_width_degc": 3.0, "val_coverage": 0.9, "test_coverage": 0.87}
    }
    paths = {"gru": tmp_path / "gru.json", "ridge": tmp_path / "ridge.json"}
    write_json(tmp_path / "naive.json", NAIVE)
    write_json(paths["gru"], {**record(1.3, 1.6), "intervals": intervals})
    write_json(paths["ridge"], {**record(1.4, 1.5), "seed_dependent": False})
    write_json(tmp_path / "gru.seeds.json", study(1.35, 0.05, 1.65, 0.07))
    table = leaderboard_stage.run(
        CONFIG,
        naive_path=tmp_path / "naive.json",
        metrics_paths=paths,
        leaderboard_path=tmp_path / "lb.tsv",
        seed_paths={"gru": tmp_path / "gru.seeds.json"},
    )
    markdown = report.summary_markdown(table, "gru", {})
    naive_test = NAIVE["test"]["mae_degc"]
    assert (
        f"**gru**, test MAE {1.6:.3f} degC (skill vs naive {shown_skill(1.6, 'test')}); "
        f"over 3 seeds {1.65:.3f} ± {0.07:.3f} degC, skill {1 - 1.65 / naive_test:+.1%}."
        in markdown
    )
    # ridge: no seed enters its fit, so its single run is shown with no spread
    assert f"| {1.500:.3f} ± {0:.3f} | {shown_skill(1.5, 'test')} | 10 |" in markdown
    p90 = intervals["p90"]
    assert (
        f"| {p90['level']:.0%}: ±{p90['half_width_degc']:.2f} "
        f"({p90['test_coverage']:.1%} of test) |" in markdown
    )
    assert "single run ± 0" in markdown and "`prediction_interval`" in markdown


def uncertain(rec: dict, verdict: str, p_value: float) -> dict:
    """``rec`` with the test split's verdict against naive, as evaluate records it."""
    return stale(rec, "test", verdict_vs_naive=verdict, p_value_vs_naive=p_value)


def test_models_tied_with_the_best_share_rank_one_and_the_headline_names_the_groups():
    models = {
        "gru": uncertain(record(1.5, 1.6), "better", 0.001),
        "lstm": uncertain(record(1.52, 1.7), "within the noise", 0.2),
        "dense": uncertain(record(1.9, 2.1), "within the noise", 0.6),
    }
    mcs_p = {
        "val": {"gru": 1.0, "lstm": 0.4, "dense": 0.02, "naive": 0.01},
        "test": {"gru": 1.0, "lstm": 0.05, "dense": 0.01, "naive": 0.0},
    }
    table = leaderboard(NAIVE, models, mcs_p=mcs_p, tie_size=0.1)
    assert list(table["model"]) == ["gru", "lstm", "dense", "naive"]
    assert list(table["rank"]) == [1, 1, 3, 4]  # lstm is tied with gru on validation
    assert list(table["test_tied_with_best"]) == ["yes", "no", "no", "no"]
    markdown = report.summary_markdown(table, "gru", {})
    assert "Cannot be told apart from the best on test (model confidence set): gru." in markdown
    assert "on validation (model confidence set): gru, lstm." in markdown
    # the only one better than naive beyond the noise, for the three tests at once
    assert "(Diebold-Mariano test, Holm-adjusted over the 3 models tested): gru." in markdown
    assert "| better (p 0.003 adjusted, 0.001 raw) | val, test |" in markdown


def test_verdicts_against_naive_are_holm_adjusted_over_every_model_tested():
    # Raw p 0.01, 0.03 and 0.04: each "better" alone at 5%; Holm multiplies the smallest by 3,
    # the next by 2, the last by 1, never below the one before: 0.03, 0.06, 0.06.
    models = {
        "gru": uncertain(record(1.5, 1.6), "better", 0.01),
        "lstm": uncertain(record(1.52, 1.7), "better", 0.03),
        "dense": uncertain(record(1.9, 2.1), "worse", 0.04),
    }
    table = leaderboard(NAIVE, models, alpha=0.05).set_index("model")
    assert table["test_p_vs_naive_holm"].round(6).to_dict() == pytest.approx(
        {"gru": 0.03, "lstm": 0.06, "dense": 0.06, "naive": float("nan")}, nan_ok=True
    )
    assert table["test_verdict_vs_naive_holm"].to_dict() == {
        "gru": "better",
        "lstm": "within the noise",
        "dense": "within the noise",
        "naive": "",
    }
    # The resolution of three tests at once: each record's one-test resolution (0.2 degC) times
    # (z[1 - 0.05/6] + z[0.8]) / (z[0.975] + z[0.8]).
    with_resolution = {
        name: stale(rec, "test", resolution_vs_naive_degc=0.2) for name, rec in models.items()
    }
    resolved = leaderboard(NAIVE, with_resolution, alpha=0.05).set_index("model")
    assert resolved.loc["gru", "test_resolution_degc"] == pytest.approx(
        0.2 * (2.393980 + 0.841621) / (1.959964 + 0.841621), abs=1e-5
    )
    # The unadjusted verdicts stay beside them.
    assert table.loc[["gru", "lstm", "dense"], "test_verdict_vs_naive"].tolist() == [
        "better",
        "better",
        "worse",
    ]


def test_tie_groups_come_from_the_kept_forecasts_of_the_same_windows(tmp_path):
    from jena_forecast.evaluation.forecasts import Forecasts, save_forecasts

    rng = np.random.default_rng(0)
    windows = 4000
    actual = {split: rng.normal(size=windows) for split in ("val", "test")}
    noise = rng.normal(scale=0.3, size=windows)

    def kept(error: np.ndarray, anchors_from: int = 0) -> Forecasts:
        return Forecasts(
            predicted={split: actual[split] + error for split in actual},
            actual=actual,
            naive={split: actual[split] + 1.0 for split in actual},
            anchors={split: np.arange(anchors_from, anchors_from + windows) for split in actual},
            target_mean=0.0,
            target_scale=1.0,
            data="rows=8000 sha256=0123456789ab",
            protocol="p",
        )

    errors = {"good": noise, "twin": noise.copy(), "naive": np.ones(windows), "bad": noise + 2}
    paths = {name: tmp_path / f"{name}.npz" for name in errors}
    for name, error in errors.items():
        save_forecasts(paths[name], kept(error))
    p_values = ties(paths)
    for split in ("val", "test"):
        assert p_values[split]["good"] == p_values[split]["twin"] == 1.0
        assert p_values[split]["naive"] < 0.1 and p_values[split]["bad"] < 0.1
    # A model with a seed study enters with its errors averaged over the seeds: good's seeds are
    # all as bad as `bad`, so good leaves the group and its twin alone stays tied with the best.
    seeds = {
        f"{split}_seed_{seed}": actual[split] + noise + 2
        for split in ("val", "test")
        for seed in CONFIG.seed_study.seeds
    }
    np.savez(tmp_path / "good_seeds.npz", **seeds)
    by_seed = ties(paths, {"good": tmp_path / "good_seeds.npz"})
    assert by_seed["test"]["twin"] == 1.0 and by_seed["test"]["good"] < 0.1
    save_forecasts(paths["bad"], kept(noise, anchors_from=1))
    with pytest.raises(PipelineError, match="not scored on the same windows"):
        ties(paths)


def ties(paths: dict, seed_paths: dict | None = None) -> dict:
    """The tie p-values of the leaderboard stage over the forecasts at ``paths``."""
    losses, _, _ = leaderboard_stage.window_losses(CONFIG, paths, seed_paths)
    return leaderboard_stage.tie_p_values(CONFIG, losses)


def test_a_seed_mean_has_the_intervals_of_its_seeds_averaged_errors(tmp_path):
    """The seed mean's test intervals and verdict come from the per-window errors averaged over
    the seeds, against naive's on the same windows and resamples."""
    from jena_forecast.evaluation.forecasts import Forecasts, save_forecasts
    from jena_forecast.evaluation.scoring import bootstrap
    from jena_forecast.evaluation.significance import split_uncertainty

    rng = np.random.default_rng(1)
    windows = 4000
    actual = {split: rng.normal(size=windows) for split in ("val", "test")}
    naive_error = rng.normal(scale=1.0, size=windows)
    kept = Forecasts(
        predicted={split: actual[split] + naive_error for split in actual},
        actual=actual,
        naive={split: actual[split] + naive_error for split in actual},
        anchors={split: np.arange(windows) for split in actual},
        target_mean=0.0,
        target_scale=2.0,
        data="rows=8000 sha256=0123456789ab",
        protocol="p",
    )
    paths = {"naive": tmp_path / "naive.npz", "net": tmp_path / "net.npz"}
    for path in paths.values():
        save_forecasts(path, kept)
    seeds = CONFIG.seed_study.seeds
    errors = {seed: rng.normal(scale=0.5 + 0.1 * i, size=windows) for i, seed in enumerate(seeds)}
    saved = {
        f"{split}_seed_{seed}": actual[split] + errors[seed] for split in actual for seed in seeds
    }
    np.savez(tmp_path / "net_seeds.npz", **saved)
    _, seed_means, naive = leaderboard_stage.window_losses(
        CONFIG, paths, {"net": tmp_path / "net_seeds.npz"}
    )
    uncertainty = leaderboard_stage.seed_mean_uncertainty(CONFIG, seed_means, naive)
    averaged = np.mean([np.abs(errors[seed]) for seed in seeds], axis=0)
    expected = split_uncertainty(
        averaged, np.abs(naive_error), bootstrap(CONFIG, windows), kept.target_scale
    )
    assert set(uncertainty) == {"net"} and uncertainty["net"] == expected
    assert expected["verdict_vs_naive"] == "better"
    skill_mean = 1 - averaged.mean() / np.abs(naive_error).mean()
    assert expected["skill_low"] < skill_mean < expected["skill_high"]
    # ... and they reach the leaderboard's seed-mean columns; a model without a study has none.
    study = {
        "seeds": list(seeds),
        **{
            split: {
                "mae_degc_mean": 1.5,
                "mae_degc_std": 0.1,
                "skill_vs_naive_mean": skill(1.5, split),
                "naive_mae_degc": NAIVE[split]["mae_degc"],
                "windows": WINDOWS[split],
            }
            for split in ("val", "test")
        },
    }
    table = leaderboard(
        NAIVE,
        {"net": record(1.5, 1.5), "gru": record(1.6, 1.6)},
        {"net": study},
        seed_uncertainty=uncertainty,
    ).set_index("model")
    assert table.loc["net", "test_skill_mean_low"] == expected["skill_low"]
    assert table.loc["net", "test_verdict_vs_naive_mean"] == "better"
    assert pd.isna(table.loc["gru", "test_skill_mean_low"])
    markdown = report.summary_markdown(table.reset_index(), "net", {})
    assert "averaged over the seeds, Holm-adjusted over them: net (1 of 1)." in markdown
    low, high = expected["skill_low"], expected["skill_high"]
    assert f"{skill(1.5, 'test'):+.1%} [{low:+.1%}, {high:+.1%}] better" in markdown


def refit(test_mae: float, p_value: float, gain: float) -> dict:
    """A refit record (refit/record.py) with its test scores and its difference to the fit."""
    return {
        "seeds": [1, 2, 3],
        "test": {
            "mae_degc_mean": test_mae,
            "mae_degc_std": 0.01,
            "skill_vs_naive_mean": skill(test_mae, "test"),
            "mae_degc_low": test_mae - 0.2,
            "mae_degc_high": test_mae + 0.2,
            "skill_low": 0.01,
            "skill_high": 0.2,
            "p_value_vs_naive": p_value,
            "verdict_vs_naive": "better" if p_value < 0.05 else "within the noise",
            "resolution_vs_naive_degc": 0.1,
        },
        "vs_fit": {
            "difference_degc": gain,
            "low_degc": gain - 0.05,
            "high_degc": gain + 0.05,
            "verdict": "within the noise",
        },
    }


def test_refit_columns_sit_beside_the_fit_and_are_holm_adjusted_over_the_refits():
    models = {"gru": record(1.5, 1.6), "lstm": record(1.4, 1.7), "ridge": record(1.6, 1.65)}
    refits = {"gru": refit(1.55, 0.02, -0.05), "lstm": refit(1.68, 0.03, -0.02)}
    refits["ensemble"] = {"members": ["gru", "x"], "not_refitted": ["x"]}  # no scores: no row
    table = leaderboard(NAIVE, models, refits=refits, alpha=0.05).set_index("model")
    assert table.loc["gru", "refit_test_mae_degc_mean"] == 1.55
    assert table.loc["gru", "test_mae_degc"] == 1.6  # the fit's, beside it
    assert table.loc["gru", "refit_gain_degc"] == -0.05
    assert (table.loc["gru", "refit_gain_low"], table.loc["gru", "refit_gain_high"]) == (-0.1, 0.0)
    # Holm over the two refits: 0.02 -> 0.04 (better), 0.03 -> 0.04 (better)
    assert table.loc["gru", "refit_test_p_vs_naive_mean_holm"] == pytest.approx(0.04)
    assert table.loc["lstm", "refit_test_verdict_vs_naive_mean_holm"] == "better"
    for name in ("ridge", "naive"):
        assert np.isnan(table.loc[name, "refit_test_mae_degc_mean"])
        assert table.loc[name, "refit_gain_verdict"] == ""
    assert not any(column.endswith("_raw_degc") for column in table.columns)
