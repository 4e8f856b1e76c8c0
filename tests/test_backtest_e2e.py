"""backtest@<export> in a real DVC project: two exports configured in params (a newer-layout file with
ISO timestamps, and the record's own last rows), only their stages run, and on the record's last
rows every model scores exactly what its kept test forecasts give on those windows."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import yaml
from dvc_project import edit_params, run, stages_run
from synthetic import SyntheticJenaNewer

from jena_forecast.evaluation.forecasts import load_forecasts

pytestmark = pytest.mark.slow

TAIL_ROWS = 300
LOOKBACK_ROWS, DELAY_ROWS = 72, 12  # the tiny project's windows


def test_backtests_of_two_exports_score_every_model_and_match_the_kept_forecasts(project_copy):
    project = project_copy
    folder = project / "data" / "backtest"
    folder.mkdir()
    SyntheticJenaNewer(rows=600, seed=5).write_csv(folder / "newer.csv")
    raw = (project / "data" / "raw" / "jena_climate_2009_2016.csv").read_text().splitlines()
    tail = folder / "tail.csv"
    tail.write_text("\n".join([raw[0], *raw[-TAIL_ROWS:]]) + "\n")
    digest = hashlib.sha256(tail.read_bytes()).hexdigest()
    exports = {
        "newer": {"path": "data/backtest/newer.csv", "parse": {"timestamp_format": "auto"}},
        "tail": {"path": "data/backtest/tail.csv", "sha256": digest},
    }
    edit_params(project, **{"backtest.exports": exports})
    result = run(["dvc", "repro"], project)
    assert sorted(stages_run(result.stdout)) == ["backtest@newer", "backtest@tail"]

    params = yaml.safe_load((project / "params.yaml").read_text())
    every_model = [
        *params["models"],
        *params["anchored"],
        *params["classical"],
        "ensemble",
        "naive",
    ]
    newer = json.loads((project / "metrics" / "backtest" / "newer.json").read_text())
    assert sorted(newer["models"]) == sorted([*every_model, "forecaster"])
    # The packed forecaster beside the fits on training: its deployment fit, on every row
    manifest = json.loads((project / "data" / "forecaster" / "forecaster.json").read_text())
    assert newer["forecaster"] == {
        "model": manifest["model"],
        "members": [member["name"] for member in manifest["members"]],
        "fit": "deployment",
        "fitted_rows": manifest["fitted_rows"],
    }
    assert newer["export"]["ignored_columns"][0] == "rain (mm)"
    assert newer["export"]["windows"] == 600 - LOOKBACK_ROWS - DELAY_ROWS + 1

    record = json.loads((project / "metrics" / "backtest" / "tail.json").read_text())
    windows = TAIL_ROWS - LOOKBACK_ROWS - DELAY_ROWS + 1
    assert record["export"]["windows"] == windows and record["export"]["sha256"] == digest
    for name in every_model:
        kept_path = (
            project / "data" / "ensemble_forecasts.npz"
            if name == "ensemble"
            else project / "data" / "forecasts" / f"{name}.npz"
        )
        kept = load_forecasts(kept_path)
        predicted = kept.naive["test"] if name == "naive" else kept.predicted["test"]
        errors = np.abs(predicted[-windows:] - kept.actual["test"][-windows:])
        expected = errors.mean() * kept.target_scale
        assert record["models"][name]["mae_degc"] == pytest.approx(expected, abs=2e-6), name
    shown = run(["dvc", "metrics", "show"], project).stdout
    assert "metrics/backtest/tail.json" in shown

    # The pinned checksum guards the file: a changed export is refused, and no record of it is
    # written (DVC removes a stage's old outputs before it runs; git or the cache has them).
    before = (project / "metrics" / "backtest" / "tail.json").read_bytes()
    tail.write_text(tail.read_text().replace("\n", "\n", 1) + raw[-1] + "\n")
    refused = run(["dvc", "repro", "backtest@tail"], project, check=False)
    assert refused.returncode != 0
    assert "data/backtest/tail.csv: sha256" in refused.stderr and "differs" in refused.stderr
    after = project / "metrics" / "backtest" / "tail.json"
    assert not after.exists() or after.read_bytes() == before
