"""The real `dvc repro` on a tiny synthetic data set, in a temporary copy of the project."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT_ROOT
from synthetic import SyntheticJena, SyntheticJenaNewer

pytestmark = pytest.mark.slow
PROJECT_FILES = ["dvc.yaml", "params.yaml", "stages", "src"]
TINY_MODELS = ["linear", "dense", "gru", "conv1d_gru", "seq2seq"]


def run(command: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def stages_run(output: str) -> list[str]:
    return re.findall(r"Running stage '([^']+)'", output)


def tiny_params(project: Path, mirror: Path) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["download"].update(
        mirror=str(mirror.relative_to(project)),
        sha256=hashlib.sha256(mirror.read_bytes()).hexdigest(),
    )
    params["windows"].update(lookback_rows=72, step_rows=6, delay_rows=12)
    params["train"].update(epochs=2, steps_per_epoch=4, batch_size=32, patience=1)
    # A few models cover every code path (point and sequence targets, a model's own step) quickly.
    params["models"] = {name: params["models"][name] for name in TINY_MODELS}
    params["models"]["seq2seq"]["horizons"] = 4
    params["lr_range_test"].update(model="gru", steps=20)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def make_project(root: Path, data: SyntheticJena) -> Path:
    """A git + DVC copy of the project in ``root`` whose mirror holds ``data``, tiny params."""
    for name in PROJECT_FILES:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, root / name)
    run(["git", "init", "-q"], root)
    run(["dvc", "init", "-q"], root)
    run(["dvc", "config", "core.analytics", "false"], root)
    mirror = root / "data" / "mirror" / "tiny.zip"
    mirror.parent.mkdir(parents=True)
    data.write_zip(mirror)
    tiny_params(root, mirror)
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    source = SyntheticJena(rows=2000, duplicate_block=(300, 144), drop_rows=[700, 701])
    return make_project(tmp_path_factory.mktemp("project"), source)


def test_repro_writes_metrics_and_a_second_repro_is_a_no_op(project):
    first = run(["dvc", "repro"], project)
    assert set(stages_run(first.stdout)) >= {
        "download",
        "parse",
        "baseline",
        "train@gru",
        "evaluate@gru",
    }
    quality = json.loads((project / "metrics" / "data_quality.json").read_text())
    assert (quality["duplicate_rows_dropped"], quality["missing_rows"]) == (144, 2)
    naive = json.loads((project / "metrics" / "models" / "naive.json").read_text())
    for name in TINY_MODELS:
        metrics = json.loads((project / "metrics" / "models" / f"{name}.json").read_text())
        for split in ("val", "test"):
            assert metrics[split]["naive_mae_degc"] == naive[split]["mae_degc"]
            assert metrics[split]["windows"] == naive[split]["windows"] > 0
            assert metrics[split]["mae_degc"] > 0
        assert 1 <= metrics["epochs"] <= 2 and metrics["parameters"] > 0
        assert (project / "models" / f"{name}.keras").is_file()
    horizons = (project / "metrics" / "horizons" / "seq2seq.tsv").read_text().splitlines()
    assert horizons[0].split("\t")[0] == "horizon_hours" and len(horizons) == 1 + 4
    lr_range = json.loads((project / "metrics" / "lr_range_test.json").read_text())
    assert 1e-9 <= lr_range["suggested_learning_rate"] < 0.1  # a tenth of a swept rate
    shown = run(["dvc", "metrics", "show"], project).stdout
    assert "metrics/models/gru.json" in shown and "val.skill_vs_naive" in shown

    second = run(["dvc", "repro"], project)
    assert stages_run(second.stdout) == []
    assert "up to date" in run(["dvc", "status"], project).stdout


def test_editing_one_model_reruns_only_its_stages(project):
    run(["dvc", "repro"], project)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["models"]["dense"]["units"] = 8
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    rerun = run(["dvc", "repro"], project)
    assert sorted(stages_run(rerun.stdout)) == ["evaluate@dense", "train@dense"]


def test_bad_params_stop_a_stage_with_one_line_and_exit_code_2(project):
    run(["dvc", "repro"], project)
    params_path = project / "params.yaml"
    original = params_path.read_text()
    params = yaml.safe_load(original)
    params["split"] = {"preset": "dlwp1"}
    params_path.write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        before = (project / "data" / "processed" / "split.json").read_text()
        result = run([sys.executable, "stages/normalize.py"], project, check=False)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert result.stderr.strip().startswith(
            "normalize: error: split.preset=dlwp1: split.train_end=200000"
        )
        assert (project / "data" / "processed" / "split.json").read_text() == before
    finally:
        params_path.write_text(original)


def test_a_newer_export_runs_through_params_alone(tmp_path):
    source = SyntheticJenaNewer(
        rows=1500,
        latin1_units=True,
        sentinel_cells=[(50, "CO2 (ppm)"), (400, "rain (mm)"), (900, "Tlog (degC)")],
        drop_rows=[1000],
    )
    project = make_project(tmp_path, source)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["parse"]["timestamp_format"] = "auto"
    params["windows"]["target_column"] = "Nope"
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["dvc", "repro", "download"], project)
    refused = run([sys.executable, "stages/parse.py"], project, check=False)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith(
        "parse: error: data/raw/jena_climate_2009_2016.csv:1: no target column 'Nope' "
        "(windows.target_column); header columns: 'Date Time', 'p (mbar)', "
    )
    assert not (project / "data" / "interim").exists()

    params["windows"]["target_column"] = "Tlog (degC)"
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    repro = run(["dvc", "repro", "baseline"], project)
    assert set(stages_run(repro.stdout)) == {"parse", "normalize", "windows", "baseline"}
    quality = json.loads((project / "metrics" / "data_quality.json").read_text())
    assert len(quality["columns"]) == 21 and "PAR (\ufffdmol/m\ufffd/s)" in quality["columns"]
    assert quality["timestamp_format"] == "%Y-%m-%d %H:%M:%S"
    assert (quality["invalid_utf8_replaced"], quality["sentinel_cells_replaced"]) == (5, 3)
    assert (quality["missing_rows"], quality["rows_still_missing"]) == (1, 0)
    summary = json.loads((project / "data" / "windows" / "windows.json").read_text())
    assert (summary["target_column"], summary["features"]) == ("Tlog (degC)", 21)
    naive = json.loads((project / "metrics" / "models" / "naive.json").read_text())
    for split in ("val", "test"):
        assert naive[split]["windows"] == summary["windows"][split] > 0
        assert naive[split]["mae_degc"] > 0
    assert not (project / "models").exists()
