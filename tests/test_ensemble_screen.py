"""tools/ensemble_screen.py: top-k ensembles scored seed by seed from the kept forecasts."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml
from conftest import PROJECT_PARAMS, load_tool

from jena_forecast.config import parse_params
from jena_forecast.evaluation.forecasts import Forecasts, save_forecasts
from jena_forecast.plumbing.atomic import write_json

SEEDS = [1, 2, 3]
WINDOWS = 3000
SCALE = 2.0


@pytest.fixture
def project(tmp_path):
    """A project root with the kept forecasts of gru (seed study), lstm, ridge and naive."""
    raw = copy.deepcopy(PROJECT_PARAMS)
    raw["models"] = {name: raw["models"][name] for name in ("gru", "lstm")}
    raw["classical"] = {"ridge": raw["classical"]["ridge"]}
    raw["seed_study"] = {"models": ["gru"], "seeds": SEEDS}
    raw["lr_range_test"]["model"] = "gru"
    raw["ensemble"].update(top_k=2, members=[])
    parse_params(raw)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    rng = np.random.default_rng(3)
    actual = {split: rng.normal(size=WINDOWS) for split in ("val", "test")}

    def kept(predicted: dict) -> Forecasts:
        return Forecasts(
            predicted=predicted,
            actual=actual,
            naive={split: actual[split] + rng.normal(size=WINDOWS) for split in actual},
            anchors={split: np.arange(WINDOWS) for split in actual},
            target_mean=0.0,
            target_scale=SCALE,
            data="rows=9000 sha256=0123456789ab",
            protocol="p",
        )

    noise = {"gru": 0.5, "lstm": 0.7, "ridge": 0.6, "naive": 1.0}
    predicted = {
        name: {split: actual[split] + rng.normal(scale=scale, size=WINDOWS) for split in actual}
        for name, scale in noise.items()
    }
    (tmp_path / "data" / "forecasts").mkdir(parents=True)
    (tmp_path / "data" / "seed_forecasts").mkdir()
    (tmp_path / "metrics" / "models").mkdir(parents=True)
    for name, forecast in predicted.items():
        save_forecasts(tmp_path / "data" / "forecasts" / f"{name}.npz", kept(forecast))
        val_mae = float(np.abs(forecast["val"] - actual["val"]).mean()) * SCALE
        write_json(tmp_path / "metrics" / "models" / f"{name}.json", {"val": {"mae_degc": val_mae}})
    seeds = {
        f"{split}_seed_{seed}": (actual[split] + rng.normal(scale=0.5, size=WINDOWS))[:, None]
        for split in actual
        for seed in SEEDS
    }
    np.savez(tmp_path / "data" / "seed_forecasts" / "gru.npz", **seeds)
    return tmp_path, actual, predicted, seeds


def test_each_k_averages_each_seeds_members_and_the_lowest_validation_mae_is_chosen(project):
    root, actual, predicted, seeds = project
    tool = load_tool("ensemble_screen")
    config = parse_params(yaml.safe_load((root / "params.yaml").read_text()))
    rows = tool.screen(config, root, [1, 2, 3])
    assert [row["members"] for row in rows] == [["gru"], ["gru", "ridge"], ["gru", "ridge", "lstm"]]
    assert rows[2]["fixed"] == ["ridge", "lstm"]  # one run for every seed
    for row in rows:
        for split in ("val", "test"):
            maes = []
            for seed in SEEDS:
                members = [seeds[f"{split}_seed_{seed}"][:, 0]]
                members += [predicted[name][split] for name in row["members"][1:]]
                maes.append(np.abs(np.mean(members, axis=0) - actual[split]).mean() * SCALE)
            assert row[f"{split}_mae_degc"]["mean"] == pytest.approx(np.mean(maes))
            assert row[f"{split}_mae_degc"]["std"] == pytest.approx(np.std(maes, ddof=1))
        assert row["test_skill_low"] < row["test_skill_mean"] < row["test_skill_high"]
    assert rows[1]["val_vs_reference"]["verdict"] == "reference"  # the project's top_k, 2
    best = min(rows, key=lambda row: row["val_mae_degc"]["mean"])
    assert [row["chosen_on_validation"] for row in rows] == [row is best for row in rows]


def test_it_prints_a_table_and_names_missing_metrics(project, capsys):
    root = project[0]
    tool = load_tool("ensemble_screen")
    assert tool.main(["--root", str(root), "--k", "2", "3"]) == 0
    printed = capsys.readouterr().out
    assert "| 2 | gru, ridge (one run for every seed: ridge) |" in printed
    (root / "metrics" / "models" / "lstm.json").unlink()
    assert tool.main(["--root", str(root)]) == 1
    assert "lstm.json: no metrics of lstm" in capsys.readouterr().err
