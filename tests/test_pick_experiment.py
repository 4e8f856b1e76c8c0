"""tools/pick_experiment.py chooses on validation MAE and prints a test number for the winner only."""

from __future__ import annotations

import json

import pytest
from conftest import load_tool


def revision(name: str, units: int, val: float, test: float) -> dict:
    record = {
        "val_mae_degc": val,
        "val_skill": 1 - val / 2.7,
        "test_mae_degc": test,
        "test_skill": 1 - test / 2.6,
    }
    return {
        "rev": f"{name}0000000",
        "name": name,
        "data": {
            "params": {"params.yaml": {"data": {"seed": 1, "models": {"s2s": {"units": units}}}}},
            "metrics": {"metrics/scores/s2s.json": {"data": record}},
        },
    }


def exp_show() -> list[dict]:
    base = revision("main", 32, 2.50, 2.50)
    return [
        {"rev": "workspace", "name": None, "data": base["data"], "experiments": None},
        {
            **base,
            "experiments": [
                {"revs": [revision("wide", 64, 2.40, 2.61)]},
                # Better on test, worse on validation: must not win.
                {"revs": [revision("lucky", 16, 2.45, 2.03)]},
                {"revs": [{"rev": "f" * 40, "name": "failed", "data": {}}]},
                # Still running: it shows its baseline's metrics, which must not count as its own.
                {"executor": {"state": "running"}, "revs": [revision("busy", 8, 2.10, 2.10)]},
            ],
        },
    ]


def test_the_winner_is_chosen_on_validation_and_only_its_test_score_is_shown(tmp_path, capsys):
    tool = load_tool("pick_experiment")
    saved = tmp_path / "exp.json"
    saved.write_text(json.dumps(exp_show()))
    tool.main(["metrics/scores/s2s.json", "--json-file", str(saved)])
    printed = capsys.readouterr().out
    ranking, verdict = printed.split("\n\n")
    assert [line.split(" | ")[1] for line in ranking.splitlines()[1:]] == [
        "wide",
        "lucky",
        "(baseline) main",
    ]
    assert "models.s2s.units=64" in ranking and "failed" not in printed and "busy" not in printed
    assert "chosen on validation MAE: wide" in verdict
    skill = 1 - 2.610 / 2.6  # the fixture's test skill vs a naive MAE of 2.6
    assert f"its test MAE: 2.610 degC, skill vs naive {skill:+.1%}" in verdict
    assert "2.03" not in printed and "2.50 " not in printed  # no other test number appears


def test_no_scores_is_an_error():
    tool = load_tool("pick_experiment")
    with pytest.raises(SystemExit, match="no experiment has scores"):
        tool.report(tool.candidates(exp_show(), ["metrics/scores/other.json"]))
