"""The forecaster as the pipeline packs it: its forecast of an export equals the pipeline's own
forecast of the same window, and another repository fetches it with `dvc artifacts get`."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dvc_project import run
from synthetic import TIMESTAMP_FORMAT

from jena_forecast.evaluation.forecasts import load_forecasts

pytestmark = pytest.mark.slow

LOOKBACK_ROWS = 72  # the tiny project's windows


def kept_forecasts_path(project: Path, name: str) -> Path:
    if name == "ensemble":
        return project / "data" / "ensemble_forecasts.npz"
    return project / "data" / "forecasts" / f"{name}.npz"


def write_export(project: Path, last_row: int, path: Path) -> Path:
    """The parsed record's rows up to ``last_row`` (one window's worth) as a station export."""
    table = pd.read_parquet(project / "data" / "interim" / "jena.parquet")
    rows = table.iloc[last_row - LOOKBACK_ROWS + 1 : last_row + 1]
    lines = [",".join(f'"{name}"' for name in ["Date Time", *map(str, table.columns)])]
    for stamp, values in zip(rows.index, rows.to_numpy(), strict=True):
        lines.append(",".join([stamp.strftime(TIMESTAMP_FORMAT), *(f"{v:.2f}" for v in values)]))
    path.write_text("\n".join(lines) + "\n")
    return path


def forecast(cwd: Path, output: Path, *args: str) -> dict:
    """Run the forecast command in ``cwd``, its record written to ``output`` (outside the project:
    the shared reproduced project must stay as it is)."""
    output.unlink(missing_ok=True)
    run([sys.executable, "-m", "jena_forecast.forecast", *args, "--output", str(output)], cwd)
    return json.loads(output.read_text())


def test_the_packed_forecaster_gives_the_pipelines_forecast_of_the_last_test_window(
    reproduced_project, tmp_path
):
    project = reproduced_project
    board = pd.read_csv(project / "metrics" / "leaderboard.tsv", sep="\t")
    best = str(board[board["model"] != "naive"]["model"].iloc[0])
    manifest = json.loads((project / "data" / "forecaster" / "forecaster.json").read_text())
    assert manifest["model"] == best
    kept = load_forecasts(kept_forecasts_path(project, best))
    anchor = int(kept.anchors["test"][-1])
    export = write_export(project, anchor, tmp_path / "latest.csv")
    # The fit the pipeline scored, packed on the fly by name: its own kept forecast
    result = forecast(project, tmp_path / "f.json", "--csv", str(export), "--model", best)
    expected = kept.predicted["test"][-1] * kept.target_scale + kept.target_mean
    assert result["model"] == best and result["fit"] == "the training slice"
    assert result["forecast_degc"] == pytest.approx(expected, abs=2e-3)
    # data/forecaster packs the deployment fit: the same model fitted on every row of the record
    assert manifest["fit"] == "deployment" and manifest["fitted_rows"] == [0, 2000]
    deployed = forecast(project, tmp_path / "f.json", "--csv", str(export))
    assert deployed["model"] == best and deployed["fit"] == "every row of its record"
    assert deployed["forecast_degc"] != result["forecast_degc"]
    assert run(["git", "status", "--porcelain"], project).stdout == ""  # nothing left behind
    naive = kept.naive["test"][-1] * kept.target_scale + kept.target_mean
    assert result["naive_degc"] == pytest.approx(naive, abs=2e-3)
    for key, interval in manifest["intervals"].items():
        width = interval["half_width_degc"]
        assert deployed[f"{key}_high_degc"] == pytest.approx(
            deployed["forecast_degc"] + width, abs=2e-3
        )
    # Any other model of the checkout, packed on the fly: its own kept forecast, a network's and
    # a classical model's alike.
    for name in ("gru", "ridge"):
        mine = forecast(project, tmp_path / "f.json", "--csv", str(export), "--model", name)
        own = load_forecasts(kept_forecasts_path(project, name))
        assert np.array_equal(own.anchors["test"], kept.anchors["test"])
        value = own.predicted["test"][-1] * own.target_scale + own.target_mean
        assert mine["forecast_degc"] == pytest.approx(value, abs=2e-3), name


def test_another_repository_fetches_the_forecaster_artifact_and_forecasts_with_it(
    project_copy, tmp_path
):
    project = project_copy
    run(["dvc", "push"], project)
    # A registered version, as `gto register forecaster` would tag it.
    run(["git", "tag", "-a", "forecaster@v1.0.0", "-m", "forecaster v1.0.0"], project)
    shutil.rmtree(project / ".dvc" / "cache")  # the consumer must get it from the remote
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    run(["git", "init", "-q"], consumer)
    run(["dvc", "init", "-q"], consumer)
    run(["dvc", "artifacts", "get", str(project), "forecaster"], consumer)
    fetched = consumer / "forecaster"
    packed = project / "data" / "forecaster"
    assert sorted(p.name for p in fetched.iterdir()) == sorted(p.name for p in packed.iterdir())
    assert (fetched / "forecaster.json").read_bytes() == (packed / "forecaster.json").read_bytes()
    kept = load_forecasts(
        kept_forecasts_path(project, json.loads((packed / "forecaster.json").read_text())["model"])
    )
    export = write_export(project, int(kept.anchors["test"][-1]), consumer / "latest.csv")
    theirs = forecast(
        consumer, tmp_path / "theirs.json", "--forecaster", "forecaster", "--csv", "latest.csv"
    )
    ours = forecast(project, tmp_path / "ours.json", "--csv", str(export))
    assert {k: v for k, v in theirs.items() if k != "source"} == {
        k: v for k, v in ours.items() if k != "source"
    }
