"""The real `dvc repro` on a tiny synthetic data set, in a temporary copy of the project."""

from __future__ import annotations

import csv
import json
import re
import statistics
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import PROJECT_ROOT
from dvc_project import (
    ANCHORED_MODEL,
    DENSE_CHANGE_STAGES,
    PROJECT_SEED,
    SEED_STUDY_MODELS,
    SEED_STUDY_SEEDS,
    TINY_CLASSICAL,
    TINY_MODELS,
    commit_all,
    edit_params,
    new_project,
    run,
    stage_command,
    stages_run,
)
from synthetic import HEADER, NEWER_HEADER, SyntheticJena, SyntheticJenaNewer

from jena_forecast.config import load_params

sys.path.insert(0, str(PROJECT_ROOT / "tools"))
from stage_deps import stage_deps  # noqa: E402

pytestmark = pytest.mark.slow
MODELS = TINY_MODELS
CLASSICAL = TINY_CLASSICAL
LOOKBACK, STEP, DELAY = 72, 6, 12  # the tiny params' windows (dvc_project.tiny_params)
PROTOCOL = f"dlwp2 lookback={LOOKBACK} step={STEP} delay={DELAY}"
FEATURES = len(HEADER) - 1  # every measurement column of the tiny file
TIMESTEPS = LOOKBACK // STEP


def windows_per_split(rows: int) -> dict[str, int]:
    """dlwp2 splits 50/25/25 % of the rows; a split of n rows holds n - (lookback - 1) - delay
    windows when none of its rows is missing."""
    bounds = {"val": (rows // 2, rows * 3 // 4), "test": (rows * 3 // 4, rows)}
    return {split: end - start - (LOOKBACK - 1) - DELAY for split, (start, end) in bounds.items()}


def naive_mae(values, split: str) -> float:
    """Mean |T(anchor + delay) - T(anchor)| over a split's windows, from the raw column."""
    rows = len(values)
    start, end = {"val": (rows // 2, rows * 3 // 4), "test": (rows * 3 // 4, rows)}[split]
    anchors = range(start + LOOKBACK - 1, end - DELAY)
    return statistics.mean(abs(values[a + DELAY] - values[a]) for a in anchors)


def interpolated(column, rows: list[int]):
    """``column`` with each of ``rows`` (single missing rows) filled linearly from its neighbours."""
    filled = column.copy()
    for row in rows:
        filled[row] = (column[row - 1] + column[row + 1]) / 2
    return filled


def gru_parameters(inputs: int, units: int) -> int:
    """Keras GRU, reset_after: three gates of input and recurrent kernels and two biases each."""
    return 3 * (inputs * units + units * units + 2 * units)


# Parameter counts by hand from the tiny params (FEATURES inputs every STEP rows, units 32).
PARAMETERS = {
    "linear": TIMESTEPS * FEATURES + 1,
    "dense": (TIMESTEPS * FEATURES * 32 + 32) + (32 + 1),
    # the tuned recipe: GRU(32), then Dense(4), the path's 4 points (aux_horizons, shrunk to 4)
    "gru": gru_parameters(FEATURES, 32) + 32 * 4 + 4,
    # Conv1D(32, 5) on 24 timesteps, pooled by 3 to 6, Conv1D(32, 5) to 2, GRU(32), Dense(4)
    "conv1d_gru": (5 * FEATURES * 32 + 32) + (5 * 32 * 32 + 32) + gru_parameters(32, 32) + 33 * 4,
    # GRU(32) at every timestep, then Dense(4 horizons)
    "seq2seq": gru_parameters(FEATURES, 32) + 32 * 4 + 4,
}
# Ridge: every column's last value, 6 hourly target lags, mean/min/max of every column over the
# last 6 h and the lookback, day and year sine and cosine; one coefficient each and an intercept.
RIDGE_PARAMETERS = FEATURES + 6 + 2 * 3 * FEATURES + 4 + 1


def read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def metrics_path(project: Path, name: str) -> Path:
    """Where a leaderboard row's metrics are: the ensemble's outside metrics/models."""
    if name == "ensemble":
        return project / "metrics" / "ensemble.json"
    return project / "metrics" / "models" / f"{name}.json"


def test_repro_writes_metrics_and_a_second_repro_is_a_no_op(reproduced_project, repro_output):
    project = reproduced_project
    assert set(stages_run(repro_output)) >= {
        "download",
        "parse",
        "features",
        "normalize",
        "baseline",
        "train@gru",
        "evaluate@gru",
        "classical@ridge",
        "classical@hist_gbr",
        "seeds@linear",
        "ensemble",
        "ensemble_seeds",
        "leaderboard",
        "report",
        "package",
    }
    modules = {name: [path.stem for path in paths] for name, (paths, _) in stage_deps().items()}
    for stage in stages_run(repro_output):  # every step of a stage ends with its one-line summary
        name, _, model = stage.partition("@")
        for module in modules[name]:
            summary = f"{module}: {model}: " if model else f"{module}: "
            assert re.search(rf"^{re.escape(summary)}\S", repro_output, flags=re.M), stage
    # With every feature off, the features table is the parsed table, byte for byte.
    interim = project / "data" / "interim"
    assert (interim / "features.parquet").read_bytes() == (interim / "jena.parquet").read_bytes()
    quality = json.loads((project / "metrics" / "data_quality.json").read_text())
    assert (quality["duplicate_rows_dropped"], quality["missing_rows"]) == (144, 2)
    naive = json.loads((project / "metrics" / "models" / "naive.json").read_text())
    # The tiny file: 2,000 rows once its repeated day is dropped and its two-row gap filled.
    temperature = SyntheticJena(rows=2000).values()[:, HEADER.index("T (degC)") - 1]
    temperature[700:702] = (
        temperature[699] + (temperature[702] - temperature[699]) * np.array([1, 2]) / 3
    )
    windows = windows_per_split(2000)
    for split in ("val", "test"):
        assert naive[split]["windows"] == windows[split]
        assert naive[split]["mae_degc"] == pytest.approx(naive_mae(temperature, split), abs=1e-4)
    for name in MODELS:
        metrics = json.loads((project / "metrics" / "models" / f"{name}.json").read_text())
        for split in ("val", "test"):
            scores = metrics[split]
            assert scores["naive_mae_degc"] == naive[split]["mae_degc"]
            assert scores["windows"] == windows[split]
            assert scores["skill_vs_naive"] == pytest.approx(
                1 - scores["mae_degc"] / scores["naive_mae_degc"], abs=1e-5
            )
        assert 1 <= metrics["epochs"] <= 2 and metrics["parameters"] == PARAMETERS[name]
        assert (metrics["protocol"], metrics["features"]) == (PROTOCOL, "none")
        assert (project / "models" / f"{name}.keras").is_file()
    assert (naive["protocol"], naive["features"]) == (PROTOCOL, "none")
    for name in CLASSICAL:
        metrics = json.loads((project / "metrics" / "models" / f"{name}.json").read_text())
        for split in ("val", "test"):
            scores = metrics[split]
            assert scores["naive_mae_degc"] == naive[split]["mae_degc"]
            assert scores["windows"] == windows[split]
            assert scores["skill_vs_naive"] == pytest.approx(
                1 - scores["mae_degc"] / scores["naive_mae_degc"], abs=1e-5
            )
        assert metrics["estimator"] == name and "train_seconds" not in metrics
        timing = json.loads(
            (project / "metrics" / "timings" / "classical" / f"{name}.json").read_text()
        )
        assert timing["train_seconds"] >= 0
        assert (metrics["protocol"], metrics["features"]) == (PROTOCOL, "none")
    ridge = json.loads((project / "metrics" / "models" / "ridge.json").read_text())
    assert ridge["parameters"] == RIDGE_PARAMETERS
    horizons = (project / "metrics" / "horizons" / "seq2seq.tsv").read_text().splitlines()
    assert horizons[0].split("\t")[0] == "horizon_hours" and len(horizons) == 1 + 4
    lr_range = json.loads((project / "metrics" / "lr_range_test.json").read_text())
    assert 1e-9 <= lr_range["suggested_learning_rate"] < 0.1  # a tenth of a swept rate
    shown = run(["dvc", "metrics", "show"], project).stdout
    assert "metrics/scores/gru.json" in shown and "val_skill" in shown
    assert "metrics/scores/hist_gbr.json" in shown and "metrics/models/" not in shown

    second = run(["dvc", "repro"], project)
    assert stages_run(second.stdout) == []
    assert "up to date" in run(["dvc", "status"], project).stdout


def test_dvclive_logs_every_epoch_of_every_model(reproduced_project):
    config = load_params(reproduced_project / "params.yaml")
    for name in MODELS:
        summary = json.loads((reproduced_project / "models" / f"{name}.train.json").read_text())
        log = reproduced_project / "dvclive" / name
        curves = log / "plots" / "metrics"
        val_loss = [float(row["loss"]) for row in read_tsv(curves / "eval" / "loss.tsv")]
        assert len(val_loss) == summary["epochs"]
        # The best epoch is the monitored quantity's (a path model's: its 24 h point's MAE).
        monitored = summary["early_stopping_monitor"].removeprefix("val_")
        watched = [float(row[monitored]) for row in read_tsv(curves / "eval" / f"{monitored}.tsv")]
        best = watched.index(min(watched))
        assert (best + 1, val_loss[best]) == (summary["best_epoch"], summary["best_val_loss"])
        assert len(read_tsv(curves / "train" / "loss.tsv")) == summary["epochs"]
        rates = [
            float(row["learning_rate"]) for row in read_tsv(curves / "train" / "learning_rate.tsv")
        ]
        if config.model(name).recipe == "tuned":  # warm-up, then cosine decay towards 0
            assert (
                len(rates) == summary["epochs"] and 0 < rates[0] <= 0.001 and rates[-1] < rates[0]
            )
        else:
            assert rates == [0.001] * summary["epochs"]
        # No wall time in a hashed output: it is in metrics/timings, which no stage declares.
        assert not (curves / "train" / "epoch_seconds.tsv").exists()
        assert "train_seconds" not in summary
        timing = json.loads(
            (reproduced_project / "metrics/timings/train" / f"{name}.json").read_text()
        )
        assert timing["train_seconds"] > 0
        last = json.loads((log / "metrics.json").read_text())
        assert last["step"] == summary["epochs"] - 1 and last["eval"]["loss"] == val_loss[-1]
        assert not (log / "dvc.yaml").exists() and not (log / "report.html").exists()
    # DVCLive made no experiment commits of its own and left nothing untracked.
    assert run(["git", "status", "--porcelain"], reproduced_project).stdout == ""
    assert run(["dvc", "exp", "list", "--all-commits"], reproduced_project).stdout.strip() == ""


def test_leaderboard_predictions_and_report(reproduced_project):
    project = reproduced_project
    board = read_tsv(project / "metrics" / "leaderboard.tsv")
    assert sorted(row["model"] for row in board) == sorted(
        [*MODELS, ANCHORED_MODEL, *CLASSICAL, "naive", "ensemble"]
    )
    assert {(row["protocol"], row["features"]) for row in board} == {(PROTOCOL, "none")}
    # Ranked by validation MAE over seeds where there is a seed study; the models the model
    # confidence set cannot tell apart from the best share rank 1, the others keep their place.
    ranked = [float(row["ranked_val_mae_degc"]) for row in board]
    assert ranked == sorted(ranked)
    for place, row in enumerate(board, start=1):
        tied = row["val_tied_with_best"] == "yes" or place == 1
        assert row["rank"] == ("1" if tied else str(place))
        assert row["test_tied_with_best"] in ("yes", "no") and row["data"].startswith("rows=")
    for row in board:
        record = json.loads(metrics_path(project, row["model"]).read_text())
        assert float(row["val_mae_degc"]) == record["val"]["mae_degc"]
        assert float(row["test_mae_degc"]) == record["test"]["mae_degc"]
        studied = (*SEED_STUDY_MODELS, ANCHORED_MODEL, "ensemble")  # anchored@ has its own study
        assert row["seeds"] == ("3" if row["model"] in studied else "0")
    # Every model's intervals, as its record gives them, with the scores that tell them apart.
    intervals = read_tsv(project / "metrics" / "interval_scores.tsv")
    assert {(row["model"], row["level"]) for row in intervals} == {
        (row["model"], level) for row in board for level in ("p80", "p90")
    }
    for row in intervals:
        record = json.loads(metrics_path(project, row["model"]).read_text())["intervals"]
        assert float(row["test_coverage"]) == pytest.approx(record[row["level"]]["test_coverage"])
        assert float(row["winkler_degc"]) >= float(row["half_width_degc"]) * 2
    naive = json.loads((project / "metrics" / "models" / "naive.json").read_text())
    for name in [*MODELS, ANCHORED_MODEL, *CLASSICAL, "ensemble"]:
        with (project / "metrics" / "predictions" / f"{name}.csv").open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert list(rows[0]) == ["timestamp", "actual_degc", "predicted_degc", "naive_degc"]
        # The tiny test split is shorter than two weeks: every test window is there, in time order.
        assert len(rows) == naive["test"]["windows"]
        assert [row["timestamp"] for row in rows] == sorted(row["timestamp"] for row in rows)
        naive_mae = sum(abs(float(r["naive_degc"]) - float(r["actual_degc"])) for r in rows) / len(
            rows
        )
        assert naive_mae == pytest.approx(naive["test"]["mae_degc"], abs=1e-3)
    summary = (project / "reports" / "summary.md").read_text()
    best = next(row["model"] for row in board if row["model"] != "naive")
    assert f"Ranked first on the validation split: **{best}**" in summary
    assert (
        "![MAE by model](leaderboard.png)" in summary
        and "| duplicate_rows_dropped | 144 |" in summary
    )
    for png in ("leaderboard.png", "forecast.png"):
        assert (project / "reports" / png).read_bytes().startswith(b"\x89PNG")


def test_seed_study_reruns_the_train_stage_from_each_seed(reproduced_project):
    project = reproduced_project
    study = json.loads((project / "metrics" / "seeds" / "linear.json").read_text())
    assert study["seeds"] == list(SEED_STUDY_SEEDS)
    # The project's own seed is train@linear + evaluate@linear's run, not trained again (that a
    # retrain gives exactly the same is tests/test_seed_study.py's); the others differ.
    assert study["pipeline_run_seed"] == PROJECT_SEED
    trained = json.loads((project / "metrics" / "models" / "linear.json").read_text())
    runs = study["runs"]
    for split in ("val", "test"):
        assert runs[f"seed_{PROJECT_SEED}"][split]["mae_degc"] == trained[split]["mae_degc"]
        maes = [runs[f"seed_{seed}"][split]["mae_degc"] for seed in SEED_STUDY_SEEDS]
        assert len(set(maes)) == 3
        assert study[split]["mae_degc_mean"] == pytest.approx(statistics.mean(maes), abs=1e-6)
        assert study[split]["mae_degc_std"] == pytest.approx(statistics.stdev(maes), abs=1e-6)
        assert study[split]["naive_mae_degc"] == trained[split]["naive_mae_degc"]
    row = next(
        r for r in read_tsv(project / "metrics" / "leaderboard.tsv") if r["model"] == "linear"
    )
    assert float(row["val_mae_degc_std"]) == study["val"]["mae_degc_std"]
    # Finished: no seed checkpoint is left behind.
    assert not (project / "data" / "checkpoints" / "seeds" / "linear").exists()
    summary = (project / "reports" / "summary.md").read_text()
    mean, std = study["val"]["mae_degc_mean"], study["val"]["mae_degc_std"]
    assert f"| {mean:.3f} ± {std:.3f} (3 seeds) |" in summary


def test_ensemble_averages_the_top_models_by_validation_mae(reproduced_project):
    project = reproduced_project
    ensemble = json.loads((project / "metrics" / "ensemble.json").read_text())
    candidates = (*MODELS, ANCHORED_MODEL, *CLASSICAL)  # include_classical is on by default
    records = {
        name: json.loads((project / "metrics" / "models" / f"{name}.json").read_text())
        for name in candidates
    }
    by_val = sorted(candidates, key=lambda name: (records[name]["val"]["mae_degc"], name))
    assert ensemble["members"] == by_val[:2]
    assert ensemble["member_val_mae_degc"] == {
        name: records[name]["val"]["mae_degc"] for name in by_val[:2]
    }
    assert ensemble["parameters"] == sum(
        records[name].get("parameters") or 0 for name in by_val[:2]
    )

    # The saved forecasts are the mean of the members' saved forecasts (rounded to 4 decimals).
    def predicted(name: str) -> list[float]:
        rows = read_csv(project / "metrics" / "predictions" / f"{name}.csv")
        return [float(row["predicted_degc"]) for row in rows]

    mean = [statistics.mean(values) for values in zip(*map(predicted, by_val[:2]), strict=True)]
    assert predicted("ensemble") == pytest.approx(mean, abs=2e-4)
    for split in ("val", "test"):
        assert ensemble[split]["naive_mae_degc"] == records[by_val[0]][split]["naive_mae_degc"]
        assert ensemble[split]["windows"] == records[by_val[0]][split]["windows"]
    # Both records say which data they used.
    study = json.loads((project / "metrics" / "seeds" / "linear.json").read_text())
    for record in (ensemble, study):
        assert (record["protocol"], record["features"]) == (PROTOCOL, "none")
    shown = run(["dvc", "metrics", "show"], project).stdout
    assert "metrics/scores/ensemble.json" in shown and "metrics/scores/linear.seeds.json" in shown

    # The ensemble's seed study: the same members, each seed's; linear brings its seeds@ forecasts,
    # a classical member its single fit, any other deep member is trained from each seed.
    seeds = json.loads((project / "metrics" / "seeds" / "ensemble.json").read_text())
    assert seeds["members"] == ensemble["members"] and seeds["seeds"] == list(SEED_STUDY_SEEDS)
    assert seeds["fixed_members"] == [name for name in by_val[:2] if name in CLASSICAL]
    assert seeds["retrained_members"] == [
        name for name in by_val[:2] if name in MODELS and name != "linear"
    ]
    board = {row["model"]: row for row in read_tsv(project / "metrics" / "leaderboard.tsv")}
    assert board["ensemble"]["seeds"] == str(len(SEED_STUDY_SEEDS))
    assert float(board["ensemble"]["test_mae_degc_mean"]) == pytest.approx(
        seeds["test"]["mae_degc_mean"]
    )


def test_seed_study_of_more_models_is_one_experiment_away(project_copy):
    project = project_copy
    result = run(
        ["dvc", "exp", "run", "-n", "more-seeds", "-S", "seed_study.models=[linear,dense]"], project
    )
    assert sorted(stages_run(result.stdout)) == [
        "ensemble_seeds",
        "leaderboard",
        "package",
        "report",
        "seeds@dense",
    ]
    study = json.loads((project / "metrics" / "seeds" / "dense.json").read_text())
    assert study["seeds"] == list(SEED_STUDY_SEEDS)
    board = {row["model"]: row for row in read_tsv(project / "metrics" / "leaderboard.tsv")}
    assert (board["dense"]["seeds"], board["linear"]["seeds"], board["gru"]["seeds"]) == (
        "3",
        "3",
        "0",
    )
    # The experiment, by its name, against its baseline: dense's one run against its new study.
    compared = run(
        ["python", "-m", "jena_forecast.compare", "HEAD", "more-seeds", "--model", "linear"]
        + ["--model", "dense"],
        project,
    ).stdout.splitlines()
    at = next(i for i, line in enumerate(compared) if line.split()[:1] == ["model"])
    header = compared[at].split()
    table = {
        line.split()[0]: dict(zip(header, line.split(), strict=False))
        for line in compared[at + 1 : at + 3]
    }
    assert (table["linear"]["first_seeds"], table["linear"]["second_seeds"]) == ("3", "3")
    assert float(table["linear"]["difference_degc"]) == 0.0  # the same study on both sides
    assert (table["dense"]["first_seeds"], table["dense"]["second_seeds"]) == ("1", "3")


def test_changing_one_model_reruns_its_stages_and_metrics_diff_reports_it(project_copy):
    project = project_copy
    before = json.loads((project / "metrics" / "models" / "dense.json").read_text())
    edit_params(project, **{"models.dense.units": 8})
    rerun = run(["dvc", "repro"], project)
    assert sorted(stages_run(rerun.stdout)) == DENSE_CHANGE_STAGES
    commit_all(project, "Fewer dense units")
    after = json.loads((project / "metrics" / "models" / "dense.json").read_text())

    diff = json.loads(run(["dvc", "metrics", "diff", "HEAD~1", "HEAD", "--json"], project).stdout)
    assert "metrics/scores/gru.json" not in diff and "metrics/scores/naive.json" not in diff
    assert diff["metrics/scores/dense.json"]["val_mae_degc"] == {
        "old": before["val"]["mae_degc"],
        "new": after["val"]["mae_degc"],
        "diff": pytest.approx(after["val"]["mae_degc"] - before["val"]["mae_degc"]),
    }
    # A full record is compared by naming it.
    targets = ["--targets", "metrics/models/dense.json"]
    diff = json.loads(
        run(["dvc", "metrics", "diff", "HEAD~1", "HEAD", "--json", *targets], project).stdout
    )
    dense = diff["metrics/models/dense.json"]
    assert dense["parameters"] == {
        "old": before["parameters"],
        "new": after["parameters"],
        "diff": after["parameters"] - before["parameters"],
    }
    assert after["parameters"] < before["parameters"]
    assert dense["val.mae_degc"]["old"] == before["val"]["mae_degc"]
    assert dense["val.mae_degc"]["new"] == after["val"]["mae_degc"]
    params = json.loads(run(["dvc", "params", "diff", "HEAD~1", "HEAD", "--json"], project).stdout)
    assert params["params.yaml"]["models.dense.units"] == {"old": 32, "new": 8, "diff": -24}


def test_bad_params_stop_a_stage_with_one_line_and_exit_code_2(project_copy):
    project = project_copy
    edit_params(project, **{"split.preset": "dlwp1"})
    before = (project / "data" / "processed" / "split.json").read_text()
    result = run(stage_command(project / "dvc.yaml", "normalize"), project, check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith(
        "normalize: error: split.preset=dlwp1: split.train_end=200000"
    )
    assert (project / "data" / "processed" / "split.json").read_text() == before


def test_a_newer_export_runs_through_params_alone(tmp_path):
    source = SyntheticJenaNewer(
        rows=1500,
        latin1_units=True,
        sentinel_cells=[(50, "CO2 (ppm)"), (400, "rain (mm)"), (900, "Tlog (degC)")],
        drop_rows=[1000],
    )
    project = new_project(tmp_path / "project", source)
    edit_params(project, **{"parse.timestamp_format": "auto", "windows.target_column": "Nope"})
    run(["dvc", "repro", "download"], project)
    refused = run(stage_command(project / "dvc.yaml", "parse"), project, check=False)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith(
        "parse: error: data/raw/jena_climate_2009_2016.csv:1: no target column 'Nope' "
        "(windows.target_column); header columns: 'Date Time', 'p (mbar)', "
    )
    assert not (project / "data" / "interim").exists()

    edit_params(project, **{"windows.target_column": "Tlog (degC)"})
    repro = run(["dvc", "repro", "baseline"], project)
    assert set(stages_run(repro.stdout)) == {
        "parse",
        "features",
        "normalize",
        "windows",
        "baseline",
    }
    quality = json.loads((project / "metrics" / "data_quality.json").read_text())
    assert len(quality["columns"]) == 21 and "PAR (\ufffdmol/m\ufffd/s)" in quality["columns"]
    assert quality["timestamp_format"] == "%Y-%m-%d %H:%M:%S"
    assert (quality["invalid_utf8_replaced"], quality["sentinel_cells_replaced"]) == (5, 3)
    assert (quality["missing_rows"], quality["rows_still_missing"]) == (1, 0)
    summary = json.loads((project / "data" / "windows" / "windows.json").read_text())
    assert (summary["target_column"], summary["features"]) == ("Tlog (degC)", 21)
    naive = json.loads((project / "metrics" / "models" / "naive.json").read_text())
    # By hand: Tlog of the 1,500 rows, its sentinel (row 900) and the dropped row 1000 filled.
    tlog = source.values()[:, NEWER_HEADER.index("Tlog (degC)") - 1]
    tlog = interpolated(tlog, [900, 1000])
    windows = windows_per_split(1500)
    for split in ("val", "test"):
        assert naive[split]["windows"] == summary["windows"][split] == windows[split]
        assert naive[split]["mae_degc"] == pytest.approx(naive_mae(tlog, split), abs=1e-4)
    assert not (project / "models").exists()


def test_features_are_params_and_every_score_says_which_it_used(project_copy):
    project = project_copy
    edit_params(project, **{"features.time_signals": True, "features.temperature_diffs": [6]})
    repro = run(["dvc", "repro", "classical@ridge"], project)
    assert set(stages_run(repro.stdout)) == {
        "features",
        "normalize",
        "windows",
        "classical@ridge",
    }
    summary = json.loads((project / "data" / "windows" / "windows.json").read_text())
    assert summary["features"] == 14 + 4 + 1
    scaler = json.loads((project / "data" / "processed" / "scaler.json").read_text())
    assert {"Day sin", "Year cos", "T (degC) diff 6 rows"} <= set(scaler["columns"])
    ridge = json.loads((project / "metrics" / "models" / "ridge.json").read_text())
    assert ridge["features"] == "time_signals+temperature_diffs=6"
    assert ridge["protocol"] == PROTOCOL
    shown = run(["dvc", "metrics", "show", "metrics/models/ridge.json"], project).stdout
    assert "time_signals+temperature_diffs=6" in shown  # a full record, by name
