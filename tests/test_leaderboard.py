"""The leaderboard ranks models and the naive baseline by validation MAE; the report reads it."""

from __future__ import annotations

import pandas as pd
import pytest

from jena_forecast import report, steps
from jena_forecast.atomic import write_json
from jena_forecast.errors import PipelineError
from jena_forecast.leaderboard import best_model, leaderboard


def record(val_mae: float, test_mae: float, naive: float = 2.0, parameters: int = 10) -> dict:
    return {
        "val": {"mae_degc": val_mae, "skill_vs_naive": round(1 - val_mae / naive, 6)},
        "test": {"mae_degc": test_mae, "skill_vs_naive": round(1 - test_mae / naive, 6)},
        "epochs": 5,
        "parameters": parameters,
        "train_seconds": 1.5,
    }


NAIVE = {"val": {"mae_degc": 2.0}, "test": {"mae_degc": 2.2}}


def test_rows_are_sorted_by_validation_mae_with_naive_among_them():
    table = leaderboard(NAIVE, {"gru": record(1.5, 1.6), "linear": record(2.5, 2.4)})
    assert list(table["model"]) == ["gru", "naive", "linear"]
    assert list(table["rank"]) == [1, 2, 3]
    naive = table[table["model"] == "naive"].iloc[0]
    assert (naive["val_mae_degc"], naive["test_mae_degc"], naive["parameters"]) == (2.0, 2.2, 0)
    assert table.iloc[0]["val_skill_vs_naive"] == 0.25
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
    board = steps.leaderboard(tmp_path / "naive.json", metrics, tmp_path / "leaderboard.tsv")
    assert (tmp_path / "leaderboard.tsv").read_text().splitlines()[1].split("\t")[:3] == [
        "1",
        "gru",
        "1.5",
    ]
    assert len(board) == 3
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
    written = steps.report(
        tmp_path / "leaderboard.tsv",
        {"gru": tmp_path / "gru.csv", "dense": tmp_path / "dense.csv"},
        tmp_path / "quality.json",
        tmp_path / "reports",
    )
    assert written["best_model"] == "gru"
    summary = (tmp_path / "reports" / "summary.md").read_text()
    assert "Best model on the validation split: **gru**, test MAE 1.600 degC" in summary
    assert "| 1 | gru | 1.500 | 1.600 | +25.0% | +20.0% | 10 | 5 | 1.5 |" in summary
    assert "| rows_read | 10 |" in summary
    for png in (report.LEADERBOARD_PNG, report.FORECAST_PNG):
        assert (tmp_path / "reports" / png).read_bytes().startswith(b"\x89PNG")


def test_report_names_a_missing_predictions_file(tmp_path):
    write_json(tmp_path / "naive.json", NAIVE)
    write_json(tmp_path / "gru.json", record(1.5, 1.6))
    steps.leaderboard(tmp_path / "naive.json", {"gru": tmp_path / "gru.json"}, tmp_path / "lb.tsv")
    write_json(tmp_path / "quality.json", {})
    with pytest.raises(PipelineError, match=r"gru\.csv: file not found; run evaluate@gru"):
        steps.report(
            tmp_path / "lb.tsv",
            {"gru": tmp_path / "gru.csv"},
            tmp_path / "quality.json",
            tmp_path / "r",
        )


def test_protocol_and_features_columns_and_a_model_without_parameters_or_epochs(tmp_path):
    data = {"protocol": "dlwp2 lookback=1440 step=6 delay=144", "features": "none"}
    boosted = {**record(1.4, 1.5), **data}
    del boosted["parameters"], boosted["epochs"]
    boosted["iterations"] = 40
    write_json(tmp_path / "naive.json", {**NAIVE, **data})
    paths = {"hist_gbr": tmp_path / "hist_gbr.json", "gru": tmp_path / "gru.json"}
    write_json(paths["hist_gbr"], boosted)
    write_json(paths["gru"], {**record(1.5, 1.6), **data})
    table = steps.leaderboard(tmp_path / "naive.json", paths, tmp_path / "leaderboard.tsv")
    lines = (tmp_path / "leaderboard.tsv").read_text().splitlines()
    assert lines[0].split("\t")[-2:] == ["protocol", "features"]
    assert lines[1].split("\t") == [
        "1",
        "hist_gbr",
        "1.4",
        "1.5",
        "0.3",
        "0.25",
        "",
        "",
        "1.5",
        "dlwp2 lookback=1440 step=6 delay=144",
        "none",
    ]
    assert set(table["protocol"]) == {data["protocol"]} and set(table["features"]) == {"none"}
    reread = steps.read_tsv(tmp_path / "leaderboard.tsv")
    assert pd.isna(reread.loc[0, "parameters"]) and reread.loc[1, "parameters"] == 10
    assert reread.loc[0, "features"] == "none"
    markdown = report.summary_markdown(reread, "hist_gbr", {})
    assert "Protocol of every row: `dlwp2 lookback=1440 step=6 delay=144`" in markdown
    assert "Features of every row: `none`" in markdown
    assert "| 1 | hist_gbr | 1.400 | 1.500 | +30.0% | +25.0% | - | - | 1.5 |" in markdown
    # Rows scored on different data keep their own protocol and features in the table.
    write_json(paths["gru"], {**record(1.5, 1.6), **data, "features": "time_signals"})
    mixed = steps.leaderboard(tmp_path / "naive.json", paths, tmp_path / "leaderboard.tsv")
    markdown = report.summary_markdown(mixed, "hist_gbr", {})
    assert "Features of every row" not in markdown and "| time_signals |" in markdown
