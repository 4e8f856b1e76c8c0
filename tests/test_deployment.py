"""The deployment fit: every row normalized on its own statistics, the chosen model fitted on all
of them with its fit's choices frozen, packed as the forecaster with intervals from the refit's
test errors; the fit on training packed instead where a member has no deployment fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import fit_classical, tiny_artifacts

from jena_forecast.classical.persist import load_estimator
from jena_forecast.evaluation.forecasts import load_forecasts
from jena_forecast.evaluation.intervals import conformal_half_width
from jena_forecast.plumbing.artifacts import load_array, load_arrays
from jena_forecast.plumbing.atomic import read_json, write_json
from jena_forecast.plumbing.tables import read_table
from jena_forecast.serving.forecaster import load_forecaster, member_forecast
from jena_forecast.serving.station import read_export
from stages import deploy_classical as deploy_classical_stage
from stages import deploy_windows as deploy_windows_stage
from stages import package as package_stage
from stages import refit_classical as refit_classical_stage
from stages import refit_windows as refit_windows_stage

SEEDS = [5, 1337, 9]


def _pipeline(tmp_path: Path, packed: str):
    """A tiny record with ridge fitted on training, refitted on training + validation and fitted
    on every row, ready to pack ``packed``."""
    tiny = tiny_artifacts(
        tmp_path,
        ("linear",),
        seed=1337,
        seed_study={"models": ["linear"], "seeds": SEEDS},
        refit={"models": [], "classical": ["ridge"]},
        package={"model": packed},
    )
    for name in ("ridge", "hist_gbr"):
        fit_classical(tiny, name, tmp_path)
    refit_rows = {
        "refit_array_path": tmp_path / "refit.npy",
        "refit_scaler_path": tmp_path / "refit_scaler.json",
        "refit_anchors_path": tmp_path / "refit_anchors.npz",
    }
    refit_windows_stage.run(
        tiny.config,
        table_path=tiny.table,
        scaler_path=tiny.scaler,
        split_path=tmp_path / "split.json",
        anchors_path=tiny.anchors,
        **refit_rows,
    )
    refit_classical_stage.run(
        tiny.config,
        "ridge",
        table_path=tiny.table,
        **refit_rows,
        fit_forecasts_path=tmp_path / "ridge.npz",
        fit_metrics_path=tmp_path / "ridge.json",
        metrics_path=tmp_path / "refit" / "ridge.json",
        scores_path=tmp_path / "refit" / "scores.json",
        forecasts_path=tmp_path / "refit_forecasts" / "ridge.npz",
    )
    deploy = {
        "deploy_array_path": tmp_path / "deploy" / "normalized.npy",
        "deploy_scaler_path": tmp_path / "deploy" / "scaler.json",
    }
    deploy_windows_stage.run(
        tiny.config,
        table_path=tiny.table,
        scaler_path=tiny.scaler,
        deploy_anchors_path=tmp_path / "deploy" / "anchors.npz",
        **deploy,
    )
    record = deploy_classical_stage.run(
        tiny.config,
        "ridge",
        table_path=tiny.table,
        **deploy,
        deploy_anchors_path=tmp_path / "deploy" / "anchors.npz",
        fit_metrics_path=tmp_path / "ridge.json",
        model_path=tmp_path / "deploy" / "models" / "ridge.skops",
        record_path=tmp_path / "deploy" / "models" / "ridge.json",
    )
    return tiny, record


def _package(tiny, tmp_path: Path) -> dict:
    write_json(tmp_path / "ensemble.json", {"members": ["ridge"]})
    return package_stage.run(
        tiny.config,
        leaderboard_path=tmp_path / "leaderboard.tsv",
        model_dir=tmp_path,
        scaler_path=tiny.scaler,
        normalized_path=tiny.normalized,
        quality_path=tmp_path / "quality.json",
        model_metrics_dir=tmp_path,
        forecasts_dir=tmp_path,
        ensemble_path=tmp_path / "ensemble.json",
        ensemble_forecasts_path=tmp_path / "ridge.npz",
        forecaster_dir=tmp_path / "forecaster",
        deploy_model_dir=tmp_path / "deploy" / "models",
        deploy_scaler_path=tmp_path / "deploy" / "scaler.json",
        deploy_normalized_path=tmp_path / "deploy" / "normalized.npy",
        refit_forecasts_dir=tmp_path / "refit_forecasts",
        refit_ensemble_forecasts_path=tmp_path / "refit_ensemble.npz",
    )


def test_deployment_rows_are_every_row_on_its_own_statistics(tmp_path):
    tiny, record = _pipeline(tmp_path, "ridge")
    table = read_table(tiny.table).astype("float64")
    scaler = read_json(tmp_path / "deploy" / "scaler.json")
    assert scaler["fitted_on"] == "all rows" and scaler["fitted_rows"] == [0, len(table)]
    for column in table.columns:
        assert scaler["columns"][column]["mean"] == pytest.approx(table[column].mean(), rel=1e-9)
    anchors = load_arrays(tmp_path / "deploy" / "anchors.npz", ("train",))["train"]
    fit = load_arrays(tiny.anchors, ("train", "val", "test"))
    assert set(np.concatenate(list(fit.values()))) <= set(anchors)
    assert record["train_windows"] == len(anchors) and record["frozen"] == {
        "alpha": read_json(tmp_path / "ridge.json")["alpha"]
    }


def test_the_deployment_fit_is_packed_with_intervals_from_the_refits_test_errors(tmp_path):
    tiny, _ = _pipeline(tmp_path, "ridge")
    packed = _package(tiny, tmp_path)
    assert packed["fit"] == "deployment"
    forecaster = load_forecaster(tmp_path / "forecaster")
    deploy_scaler = read_json(tmp_path / "deploy" / "scaler.json")
    assert forecaster.scaler == deploy_scaler and forecaster.record["fit"] == "deployment"
    assert forecaster.record["fitted_rows"] == deploy_scaler["fitted_rows"]
    # the estimator packed is the one fitted on every row
    packed_ridge = load_estimator(tmp_path / "forecaster" / "ridge.skops")
    deployed = load_estimator(tmp_path / "deploy" / "models" / "ridge.skops")
    np.testing.assert_array_equal(packed_ridge[-1].coef_, deployed[-1].coef_)
    # its intervals: the conformal rank of the refit's latest test errors, unseen by any fit
    fit = load_forecasts(tmp_path / "ridge.npz")
    refit = np.load(tmp_path / "refit_forecasts" / "ridge.npz")["test_seed_1337"]
    errors = np.abs(refit - fit.actual["test"]) * fit.target_scale
    windows = int(tiny.config.intervals.calibration_days * 144)
    for level in tiny.config.intervals.levels:
        interval = forecaster.intervals[f"p{level * 100:g}"]
        assert interval["half_width_degc"] == pytest.approx(
            conformal_half_width(errors[-windows:], level), abs=1e-6
        )
    # the training ranges are every row's
    data = load_array(tmp_path / "deploy" / "normalized.npy")
    target = forecaster.target_column
    stats = deploy_scaler["columns"][target]
    column = list(deploy_scaler["columns"]).index(target)
    assert forecaster.training_ranges[target]["max"] == pytest.approx(
        float(np.nanmax(data[:, column]) * stats["scale"] + stats["mean"]), abs=1e-4
    )
    # and it forecasts the record's last window as the deployment estimator does
    csv = tmp_path / "jena.csv"
    record = read_export(
        csv,
        forecaster.parse,
        forecaster.features,
        target,
        forecaster.raw_columns,
        forecaster.scaler,
    )
    anchor = np.array([len(record.timestamps) - 1])
    value = forecaster.predict(record.data, record.timestamps, anchor)[0]
    own = member_forecast(
        forecaster.members[0],
        record.data,
        record.timestamps,
        anchor,
        forecaster.spec,
        deploy_scaler,
        6,
    )[0]
    assert value == pytest.approx(own * stats["scale"] + stats["mean"], abs=1e-9)


def test_a_model_without_a_deployment_fit_is_packed_from_its_fit_on_training(tmp_path):
    tiny, _ = _pipeline(tmp_path, "hist_gbr")  # refit.classical names ridge only
    packed = _package(tiny, tmp_path)
    assert packed["fit"] == "training"
    forecaster = load_forecaster(tmp_path / "forecaster")
    assert forecaster.record["fit"] == "training"
    assert forecaster.scaler == read_json(tiny.scaler)
