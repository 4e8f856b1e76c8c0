"""A real train stage killed with SIGKILL resumes to the results of an uninterrupted run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import PROJECT_ROOT, with_defaults
from dvc_project import stage_command
from synthetic import SyntheticJena

from jena_forecast.config import load_params
from jena_forecast.training.predict import load_model
from stages import evaluate as evaluate_stage
from stages import normalize as normalize_stage
from stages import parse as parse_stage
from stages import train as train_stage
from stages import windows as windows_stage

pytestmark = pytest.mark.slow
PARAMS = {
    "seed": 7,
    "windows": {"lookback_rows": 36, "step_rows": 6, "delay_rows": 6},
    "train": {
        "optimizer": "adam",
        "learning_rate": 0.01,
        "batch_size": 16,
        "epochs": 8,
        "steps_per_epoch": 20,
        "patience": 8,
    },
    "models": {"gru": {"units": 4, "dropout": 0.2, "recurrent_dropout": 0.2}},
}


def tiny_project(root: Path) -> Path:
    """A project directory holding the stages, tiny params and the inputs of train@gru."""
    shutil.copytree(
        PROJECT_ROOT / "stages", root / "stages", ignore=shutil.ignore_patterns("__pycache__")
    )
    (root / "params.yaml").write_text(yaml.safe_dump(with_defaults(PARAMS)))
    config = load_params(root / "params.yaml")
    csv_path = SyntheticJena(rows=700).write_csv(root / "jena.csv")
    data = root / "data"
    parse_stage.run(
        config,
        csv_path=csv_path,
        table_path=data / "interim" / "jena.parquet",
        quality_path=root / "quality.json",
    )
    processed = data / "processed"
    array, scaler, split = processed / "normalized.npy", processed / "scaler.json", root / "s.json"
    normalize_stage.run(
        config,
        table_path=data / "interim" / "jena.parquet",
        array_path=array,
        scaler_path=scaler,
        split_path=split,
    )
    windows_stage.run(
        config,
        array_path=array,
        scaler_path=scaler,
        split_path=split,
        anchors_path=data / "windows" / "anchors.npz",
        summary_path=root / "w.json",
    )
    return root


def stage(project: Path, name: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "src")}
    return subprocess.Popen(
        stage_command(PROJECT_ROOT / "dvc.yaml", name, "gru"),
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return out + err


def kill_after_checkpoint(project: Path, epoch_dir: str) -> None:
    process = stage(project, "train")
    checkpoint = project / "data" / "checkpoints" / "gru" / epoch_dir
    deadline = time.monotonic() + 300
    while not checkpoint.exists():
        assert process.poll() is None, "train ended before its checkpoint appeared"
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL


def history_without_seconds(project: Path) -> dict[str, str]:
    """The DVCLive log of every epoch (it holds no wall times)."""
    curves = project / "dvclive" / "gru" / "plots" / "metrics"
    return {
        str(path.relative_to(curves)): path.read_text() for path in sorted(curves.rglob("*.tsv"))
    }


def metrics(project: Path) -> dict:
    return json.loads((project / "metrics" / "models" / "gru.json").read_text())


def test_sigkilled_training_resumes_to_the_uninterrupted_results(tmp_path):
    uninterrupted = tiny_project(tmp_path / "uninterrupted")
    finish(stage(uninterrupted, "train"))
    finish(stage(uninterrupted, "evaluate"))

    killed = tiny_project(tmp_path / "killed")
    kill_after_checkpoint(killed, "epoch-0002")
    left = sorted(p.name for p in (killed / "data" / "checkpoints" / "gru").iterdir())
    assert left and left[-1].startswith("epoch-") and left[-1] < "epoch-0008"
    assert not (killed / "models").exists() and not (killed / "metrics").exists()

    log = finish(stage(killed, "train"))
    assert f"resuming after epoch {int(left[-1].split('-')[1])}" in log
    assert not (killed / "data" / "checkpoints" / "gru").exists()
    finish(stage(killed, "evaluate"))

    assert metrics(killed) == metrics(uninterrupted)
    assert metrics(killed)["epochs"] == 8
    assert len(history_without_seconds(killed)) == 3  # train/loss, eval/loss, train/learning_rate
    assert history_without_seconds(killed) == history_without_seconds(uninterrupted)
    for got, want in zip(
        load_model(killed / "models" / "gru.keras").get_weights(),
        load_model(uninterrupted / "models" / "gru.keras").get_weights(),
        strict=True,
    ):
        np.testing.assert_array_equal(got, want)


def train_and_evaluate_in_process(project: Path) -> dict:
    config = load_params(project / "params.yaml")
    inputs = {
        "array_path": project / "data/processed/normalized.npy",
        "scaler_path": project / "data/processed/scaler.json",
        "anchors_path": project / "data/windows/anchors.npz",
    }
    model, summary = project / "models/gru.keras", project / "models/gru.train.json"
    train_stage.run(
        config,
        "gru",
        **inputs,
        model_path=model,
        summary_path=summary,
        log_dir=project / "dvclive",
        curve_path=project / "curve.tsv",
    )
    result = evaluate_stage.run(
        config,
        "gru",
        **inputs,
        model_path=model,
        summary_path=summary,
        metrics_path=project / "gru.json",
        horizons_path=project / "horizons.tsv",
        table_path=project / "data/interim/jena.parquet",
        predictions_path=project / "predictions.csv",
        scores_path=project / "scores.json",
        forecasts_path=project / "forecasts.npz",
    )
    assert "train_seconds" not in result  # a time in a hashed output would change it every run
    return result


def test_same_data_params_and_seed_give_identical_metrics(tmp_path):
    first = train_and_evaluate_in_process(tiny_project(tmp_path / "first"))
    second = train_and_evaluate_in_process(tiny_project(tmp_path / "second"))
    assert first == second
    assert first["val"]["mae_degc"] > 0 and first["epochs"] == 8
    (tmp_path / "third").mkdir()
    params = {**PARAMS, "seed": 8}
    (tmp_path / "third" / "params.yaml").write_text(yaml.safe_dump(with_defaults(params)))
    shutil.copytree(tmp_path / "first" / "data", tmp_path / "third" / "data")
    for derived in ("models", "data/checkpoints"):
        shutil.rmtree(tmp_path / "third" / derived, ignore_errors=True)
    assert train_and_evaluate_in_process(tmp_path / "third")["val"] != first["val"]
