"""Classical baselines: window features with known values, fits that never look at the test split."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import section, with_defaults

from jena_forecast.classical.estimators import early_stopping_split, fit_hist_gbr, fit_ridge
from jena_forecast.classical.params import EstimatorParams, HistGbrParams, RidgeParams
from jena_forecast.classical.window_features import window_features
from jena_forecast.config import parse_params
from jena_forecast.data.windows import WindowSpec, split_anchors
from jena_forecast.evaluation.forecasts import load_forecasts
from jena_forecast.plumbing.artifacts import save_array, save_arrays
from jena_forecast.plumbing.atomic import write_json
from jena_forecast.plumbing.errors import PipelineError
from stages import baseline as baseline_stage
from stages import classical as classical_stage


@pytest.fixture(autouse=True)
def one_openmp_thread():
    """HistGradientBoosting's OpenMP threads crawl on a busy machine; the tiny fits need one."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        yield


SPEC = WindowSpec(lookback_rows=36, step_rows=6, delay_rows=12, target_index=0)
ROWS_PER_HOUR = 6


def stamps(rows: int) -> pd.DatetimeIndex:
    return pd.date_range("2009-01-01 00:00", periods=rows, freq="10min")


def test_window_features_hold_known_values():
    rows = 100
    ramp = np.arange(rows, dtype=np.float64)
    data = np.stack([ramp, 2.0 * ramp + 1.0], axis=1)
    params = EstimatorParams(lag_hours=3, recent_hours=2)
    features = window_features(data, stamps(rows), ["T", "p"], SPEC, params, ROWS_PER_HOUR)
    assert len(features.names) == features.values.shape[1] == 2 + 3 + 2 * 3 * 2 + 4
    row = dict(zip(features.names, features.at(np.array([50]))[0], strict=True))
    assert (row["T last"], row["p last"]) == (50.0, 101.0)
    assert (row["T 1 h ago"], row["T 2 h ago"], row["T 3 h ago"]) == (44.0, 38.0, 32.0)
    # Last 2 hours = rows 39..50; the whole lookback = rows 15..50.
    assert (row["T mean last 2 h"], row["T min last 2 h"], row["T max last 2 h"]) == (
        44.5,
        39.0,
        50.0,
    )
    assert (row["p mean lookback"], row["p min lookback"], row["p max lookback"]) == (
        2 * 32.5 + 1,
        31.0,
        101.0,
    )
    # Row 50 is 08:20: 500 minutes into the day.
    assert row["anchor Day sin"] == pytest.approx(np.sin(2 * np.pi * 500 / 1440), abs=1e-6)
    assert features.values.dtype == np.float32


def test_window_features_match_a_per_window_computation_and_use_no_row_after_the_anchor():
    rng = np.random.default_rng(5)
    rows = 300
    data = rng.normal(size=(rows, 3))
    params = EstimatorParams(lag_hours=5, recent_hours=3)
    features = window_features(data, stamps(rows), ["a", "b", "c"], SPEC, params, ROWS_PER_HOUR)
    anchors = np.array([35, 100, 250])
    for anchor, values in zip(anchors, features.at(anchors), strict=True):
        window = data[anchor - SPEC.lookback_rows + 1 : anchor + 1]
        recent = window[-18:]
        expected = np.concatenate(
            [
                data[anchor],
                [data[anchor - 6 * h, 0] for h in range(1, 6)],
                recent.mean(0),
                recent.min(0),
                recent.max(0),
                window.mean(0),
                window.min(0),
                window.max(0),
            ]
        )
        np.testing.assert_allclose(values[: len(expected)], expected, rtol=1e-5, atol=1e-5)
    # Changing every row after an anchor changes none of its features.
    later = data.copy()
    later[101:] += 100.0
    changed = window_features(later, stamps(rows), ["a", "b", "c"], SPEC, params, ROWS_PER_HOUR)
    np.testing.assert_array_equal(changed.values[:101], features.values[:101])
    # Rows without a full lookback have missing features.
    assert np.isnan(features.values[: SPEC.lookback_rows - 1]).any(axis=1).all()
    assert not np.isnan(features.values[SPEC.lookback_rows - 1 :]).any()


def test_early_stopping_holds_out_blocks_spread_over_training_and_skips_windows_sharing_rows():
    anchors = np.arange(100, 200)
    fit, held = early_stopping_split(anchors, 0.2, blocks=1, span_rows=10)
    assert list(anchors[held]) == list(range(180, 200))
    assert list(anchors[fit]) == list(range(100, 171))  # 171..179 share rows with anchor 180
    fit, held = early_stopping_split(anchors, 0.1, blocks=2, span_rows=5)
    assert list(anchors[held]) == [*range(145, 150), *range(195, 200)]
    assert list(anchors[fit]) == [*range(100, 141), *range(154, 191)]
    with pytest.raises(PipelineError, match="too few to hold out"):
        early_stopping_split(np.arange(10), 0.2, blocks=1, span_rows=10)


def learnable(rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Features whose first column predicts the change exactly, up to small noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 4))
    return x, 0.8 * x[:, 0] - 0.3 * x[:, 1] + rng.normal(0, 0.05, rows)


def test_ridge_keeps_the_alpha_best_on_validation_and_never_sees_the_test_split():
    train_x, train_change = learnable(500)
    val_x, val_change = learnable(200, seed=1)
    fit = fit_ridge(
        section(RidgeParams, alphas=(1e6, 0.1, 10.0)), train_x, train_change, val_x, val_change
    )
    assert fit.record == {"alpha": 0.1, "parameters": 5, "seed_dependent": False}
    test_x, test_change = learnable(200, seed=2)
    forecast = fit.forecast(test_x, np.full(200, 3.0))
    assert forecast.shape == (200, 1)
    assert np.mean(np.abs(forecast[:, 0] - 3.0 - test_change)) < 0.06
    # Validation decides: with a validation target that no feature explains, the most shrinkage wins.
    noise = np.random.default_rng(3).normal(size=200)
    assert (
        fit_ridge(
            section(RidgeParams, alphas=(0.1, 1e6)), train_x, train_change, val_x, noise
        ).record["alpha"]
        == 1e6
    )


def test_hist_gbr_is_seeded_and_early_stopped_on_training_windows_only():
    x, change = learnable(600)
    anchors = np.arange(1000, 1600)
    params = section(
        HistGbrParams,
        max_iter=60,
        learning_rate=0.2,
        early_stopping_fraction=0.2,
        early_stopping_blocks=1,
    )
    first = fit_hist_gbr(params, 7, x, change, anchors, span_rows=20)
    second = fit_hist_gbr(params, 7, x, change, anchors, span_rows=20)
    assert first.record == second.record
    assert first.record["early_stopping_windows"] == 120
    assert first.record["early_stopping_fit_windows"] == 600 - 120 - 19
    assert 1 <= first.record["iterations"] <= 60
    test_x, test_change = learnable(200, seed=2)
    np.testing.assert_array_equal(first.estimator.predict(test_x), second.estimator.predict(test_x))
    assert np.mean(np.abs(first.estimator.predict(test_x) - test_change)) < 0.5 * np.mean(
        np.abs(test_change)
    )
    # Held-out windows whose change no feature explains stop the boosting at once.
    assert first.record["seed_dependent"] is False
    for seed in (1, 2, 3):
        other = fit_hist_gbr(params, seed, x, change, anchors, span_rows=20)
        assert other.record == first.record
        np.testing.assert_array_equal(
            other.estimator.predict(test_x), first.estimator.predict(test_x)
        )
    noise = change.copy()
    noise[480:] = np.random.default_rng(4).normal(size=120)
    assert fit_hist_gbr(params, 7, x, noise, anchors, span_rows=20).record["iterations"] <= 3


def params_with(classical: dict) -> dict:
    return {
        "windows": {"lookback_rows": 36, "step_rows": 6, "delay_rows": 12, "target_column": "T"},
        "classical": classical,
    }


def test_classical_params_are_validated_with_every_problem_reported():
    raw = params_with(
        {
            "ridge": {"alphas": []},
            "mystery": {"estimator": "svm"},
            "far": {"estimator": "hist_gbr", "lag_hours": 6, "recent_hours": 7, "max_iter": 0},
        }
    )
    raw["models"] = {"ridge": {"builder": "dense"}}
    with pytest.raises(PipelineError) as caught:
        parse_params(with_defaults(raw))
    message = str(caught.value)
    for expected in [
        "classical.ridge.alphas",
        "classical.mystery.estimator: unknown classical estimator. Expected one of: damped_persistence, hist_gbr, ridge",
        "classical.far.max_iter",
        "classical.ridge: the name is already a model of params models",
    ]:
        assert expected in message, expected
    raw = params_with({"far": {"estimator": "hist_gbr", "lag_hours": 6, "recent_hours": 7}})
    with pytest.raises(PipelineError) as caught:
        parse_params(with_defaults(raw))
    message = str(caught.value)
    assert "classical.far.lag_hours reaches back beyond the window: 6 h is 36 rows" in message
    assert "allows at most 5 h" in message
    assert "classical.far.recent_hours is longer than the window" in message
    short = {"lag_hours": 5, "recent_hours": 6}
    config = parse_params(
        with_defaults(params_with({"ridge": short, "boost": {"estimator": "hist_gbr", **short}}))
    )
    assert config.classical["ridge"].estimator == "ridge"  # the estimator defaults to the name
    assert config.classical["boost"].params.lag_hours == 5


def write_inputs(tmp_path, rows: int = 900):
    """A normalized array with a learnable 12-row-ahead target, its scaler record, anchors, table."""
    rng = np.random.default_rng(11)
    t = np.arange(rows)
    target = np.sin(2 * np.pi * t / 144.0) + rng.normal(0, 0.05, rows)
    data = np.stack([target, np.cos(2 * np.pi * t / 144.0)], axis=1).astype(np.float32)
    index = pd.date_range("2009-01-01 00:00", periods=rows, freq="10min", name="timestamp")
    pd.DataFrame(data, index=index, columns=["T", "c"]).to_parquet(tmp_path / "jena.parquet")
    save_array(tmp_path / "normalized.npy", data)
    write_json(
        tmp_path / "scaler.json",
        {"columns": {"T": {"mean": 10.0, "scale": 2.0}, "c": {"mean": 0.0, "scale": 1.0}}},
    )
    bounds = {"train": (0, 450), "val": (450, 675), "test": (675, rows)}
    save_arrays(tmp_path / "anchors.npz", split_anchors(np.ones(rows, bool), bounds, SPEC))
    return data


@pytest.mark.parametrize(
    "entry",
    [
        {"estimator": "ridge", "lag_hours": 5, "recent_hours": 6},
        {"estimator": "hist_gbr", "lag_hours": 5, "recent_hours": 6, "max_iter": 50},
    ],
)
def test_classical_stage_scores_the_same_windows_as_the_naive_baseline(tmp_path, entry):
    write_inputs(tmp_path)
    config = parse_params(with_defaults(params_with({"model": entry})))
    files = {name: tmp_path / name for name in ("normalized.npy", "scaler.json", "anchors.npz")}
    naive = baseline_stage.run(
        config,
        array_path=files["normalized.npy"],
        scaler_path=files["scaler.json"],
        anchors_path=files["anchors.npz"],
        metrics_path=tmp_path / "naive.json",
        scores_path=tmp_path / "scores.json",
        forecasts_path=tmp_path / "naive.npz",
    )
    metrics = classical_stage.run(
        config,
        "model",
        table_path=tmp_path / "jena.parquet",
        array_path=files["normalized.npy"],
        scaler_path=files["scaler.json"],
        anchors_path=files["anchors.npz"],
        metrics_path=tmp_path / "model.json",
        horizons_path=tmp_path / "horizons.tsv",
        predictions_path=tmp_path / "predictions.csv",
        scores_path=tmp_path / "scores.json",
        forecasts_path=tmp_path / "model.npz",
        model_path=tmp_path / "model.skops",
    )
    assert json.loads((tmp_path / "model.json").read_text()) == metrics
    # the saved estimator forecasts exactly what was scored
    from jena_forecast.classical.persist import load_estimator

    saved = load_estimator(tmp_path / "model.skops")
    assert (
        type(saved).__name__
        == {"ridge": "Pipeline", "hist_gbr": "HistGradientBoostingRegressor"}[entry["estimator"]]
    )
    kept, naive_kept = (
        load_forecasts(tmp_path / "model.npz"),
        load_forecasts(tmp_path / "naive.npz"),
    )
    assert kept.data == naive_kept.data == metrics["data"] == naive["data"]
    assert metrics["data"].startswith(f"rows={np.load(files['normalized.npy']).shape[0]} ")
    for split in ("val", "test"):
        assert metrics[split]["naive_mae_degc"] == naive[split]["mae_degc"]
        assert metrics[split]["windows"] == naive[split]["windows"] > 0
        # A daily sine 2 hours ahead is learnable from the time of day: far better than naive.
        assert metrics[split]["skill_vs_naive"] > 0.5
        # the kept forecasts give back the recorded MAEs, and naive's are the baseline's
        mae = kept.abs_errors(split).mean() * kept.target_scale
        assert mae == pytest.approx(metrics[split]["mae_degc"], abs=1e-6)
        assert np.array_equal(kept.naive[split], naive_kept.predicted[split])
        assert np.array_equal(kept.anchors[split], naive_kept.anchors[split])
        # beats naive on every block of windows: the 95% interval of its skill is above zero
        assert 0 < metrics[split]["skill_low"] <= metrics[split]["skill_vs_naive"]
        assert metrics[split]["verdict_vs_naive"] == "better"
    assert metrics["protocol"] == naive["protocol"] == "dlwp2 lookback=36 step=6 delay=12"
    assert metrics["features"] == naive["features"] == "none"
    assert metrics["estimator"] == entry["estimator"]
    assert metrics["window_features"] == 2 + 5 + 2 * 3 * 2 + 4
    assert "train_seconds" not in metrics and "feature_seconds" not in metrics
    assert metrics["seed_dependent"] is False
    assert list(metrics["intervals"]) == ["p80", "p90"]
    for key, level in (("p80", 0.8), ("p90", 0.9)):
        interval = metrics["intervals"][key]
        assert interval["level"] == level
        assert interval["half_width_degc"] > 0
        assert interval["val_coverage"] == pytest.approx(level, abs=0.1)
        assert 0.0 <= interval["test_coverage"] <= 1.0
    assert (
        metrics["intervals"]["p90"]["half_width_degc"]
        >= metrics["intervals"]["p80"]["half_width_degc"]
    )
    horizons = (tmp_path / "horizons.tsv").read_text().splitlines()
    assert horizons[0].split("\t") == [
        "horizon_hours",
        "mae_degc",
        "naive_mae_degc",
        "skill_vs_naive",
    ]
    assert float(horizons[1].split("\t")[1]) == metrics["test"]["mae_degc"]
    predictions = pd.read_csv(tmp_path / "predictions.csv")
    assert list(predictions.columns) == ["timestamp", "actual_degc", "predicted_degc", "naive_degc"]
    assert len(predictions) == metrics["test"]["windows"]


def test_test_rows_change_no_fit_choice_and_no_validation_score(tmp_path):
    data = write_inputs(tmp_path)
    config = parse_params(
        with_defaults(
            params_with(
                {"ridge": {"lag_hours": 5, "recent_hours": 6, "alphas": [0.01, 1.0, 100.0]}}
            )
        )
    )
    paths = {
        f"{name}_path": tmp_path / file
        for name, file in [
            ("table", "jena.parquet"),
            ("array", "normalized.npy"),
            ("scaler", "scaler.json"),
            ("anchors", "anchors.npz"),
            ("metrics", "m.json"),
            ("scores", "s.json"),
            ("horizons", "h.tsv"),
            ("predictions", "p.csv"),
            ("forecasts", "f.npz"),
            ("model", "m.skops"),
        ]
    }
    before = classical_stage.run(config, "ridge", **paths)
    shuffled = data.copy()
    shuffled[675:] = np.random.default_rng(0).permutation(shuffled[675:])
    save_array(tmp_path / "normalized.npy", shuffled)
    after = classical_stage.run(config, "ridge", **paths)
    assert after["val"] == before["val"] and after["alpha"] == before["alpha"]
    for key, interval in before["intervals"].items():  # test errors never reach back into val
        assert after["intervals"][key]["val_coverage"] == interval["val_coverage"]
    assert after["test"] != before["test"]


ANCHOR_SPEC = WindowSpec(lookback_rows=600, step_rows=6, delay_rows=144, target_index=0)
WIND = ["T", "p", "wv (m/s)", "max. wv (m/s)", "wd (deg)"]


def wind_scaler() -> dict:
    """Training statistics that turn the normalized wind columns back into m/s and degrees."""
    stats = {"T": (0.0, 1.0), "p": (0.0, 1.0), "wv (m/s)": (2.0, 1.0)}
    stats |= {"max. wv (m/s)": (3.0, 2.0), "wd (deg)": (180.0, 90.0)}
    return {"columns": {name: {"mean": m, "scale": s} for name, (m, s) in stats.items()}}


def test_anchor_features_hold_known_values():
    from jena_forecast.classical.design import classical_features

    rows = 700
    ramp = np.arange(rows, dtype=np.float64)
    data = np.stack([ramp, 2.0 * ramp, np.zeros(rows), np.ones(rows), np.ones(rows)], axis=1)
    params = EstimatorParams(
        lag_hours=72, recent_hours=24, feature_set="anchor", tendency_columns=("p",)
    )
    features = classical_features(data, stamps(rows), wind_scaler(), ANCHOR_SPEC, params, 6)
    row = dict(zip(features.names, features.at(np.array([650]))[0], strict=True))
    assert (row["T now"], row["p now"], row["T 3 h ago"], row["T 72 h ago"]) == (
        650,
        1300,
        632,
        218,
    )
    assert (row["T change 24 h"], row["p change 3 h"]) == (144.0, 36.0)
    assert row["T mean 6 h"] == pytest.approx(650 - 35 / 2)  # rows 615..650
    assert (row["T min 24 h"], row["T max 24 h"]) == (507.0, 650.0)
    # speed 2 m/s (normalized 0), maximum 5 m/s (normalized 1), from 270 degrees (normalized 1)
    assert row["wind Wx"] == pytest.approx(0.0, abs=1e-6) and row["wind Wy"] == pytest.approx(-2.0)
    assert row["wind max Wy"] == pytest.approx(-5.0)
    # Row 650 is 2009-01-05 12:20: 740 minutes into the day, day of year 5 plus that.
    assert row["hour sin 1"] == pytest.approx(np.sin(2 * np.pi * 740 / 1440), abs=1e-6)
    day = 5 + 740 / 1440
    assert row["day of year cos"] == pytest.approx(np.cos(2 * np.pi * day / 365.25), abs=1e-6)
    assert len(features.names) == 5 + 7 + 2 * 3 + 3 + 2 + 4 + 4 + 2


def test_anchor_features_use_no_row_after_the_anchor_and_refuse_unknown_columns():
    from jena_forecast.classical.design import classical_features

    rng = np.random.default_rng(3)
    data = rng.normal(size=(700, 5))
    params = EstimatorParams(
        lag_hours=72, recent_hours=24, feature_set="anchor", tendency_columns=("p",)
    )
    features = classical_features(data, stamps(700), wind_scaler(), ANCHOR_SPEC, params, 6)
    later = data.copy()
    later[601:] += 50.0
    changed = classical_features(later, stamps(700), wind_scaler(), ANCHOR_SPEC, params, 6)
    np.testing.assert_array_equal(changed.values[:601], features.values[:601])
    assert not np.isnan(features.values[432:]).any()  # 72 h of history is all a feature needs
    unknown = EstimatorParams(
        lag_hours=72, recent_hours=24, feature_set="anchor", tendency_columns=("rh (%)",)
    )
    with pytest.raises(PipelineError, match=r"tendency_columns: \['rh \(%\)'\] are not columns"):
        classical_features(data, stamps(700), wind_scaler(), ANCHOR_SPEC, unknown, 6)
    no_wind = {"columns": {name: {"mean": 0.0, "scale": 1.0} for name in "abcde"}}
    bare = EstimatorParams(lag_hours=72, recent_hours=24, feature_set="anchor", tendency_columns=())
    with pytest.raises(PipelineError, match="set wind_vector: false"):
        classical_features(data, stamps(700), no_wind, ANCHOR_SPEC, bare, 6)
    calm = EstimatorParams(
        lag_hours=72, recent_hours=24, feature_set="anchor", tendency_columns=(), wind_vector=False
    )
    assert not any(
        "wind" in name
        for name in classical_features(data, stamps(700), no_wind, ANCHOR_SPEC, calm, 6).names
    )


def test_damped_persistence_recovers_a_known_climatology_and_damping(tmp_path):
    """A year of hourly-in-10-minute rows: a daily and yearly climatology plus an anomaly that keeps
    a fraction phi of itself over 24 h. The fit finds the climatology and phi in every season and
    hour; its forecast is the formula; its saved file forecasts the same."""
    from jena_forecast.classical.damped_persistence import DampedPersistence, persistence_features
    from jena_forecast.classical.persist import load_estimator, save_estimator

    rows, delay = 2 * 52_560, 144  # two years of 10-minute rows
    timestamps = pd.date_range("2009-01-01", periods=rows, freq="10min")
    hour = np.asarray(timestamps.hour + timestamps.minute / 60.0)
    day = np.asarray(timestamps.day_of_year) + hour / 24
    climate = (
        8 - 9 * np.cos(2 * np.pi * (day - 15) / 365.25) - 4 * np.cos(2 * np.pi * (hour - 3) / 24)
    )
    phi, rng = 0.6, np.random.default_rng(0)
    anomaly = np.zeros(rows)
    shocks = rng.normal(0, 2.0, rows)
    for row in range(delay, rows):  # anomaly(t + 24 h) = phi * anomaly(t) + shock
        anomaly[row] = phi * anomaly[row - delay] + shocks[row]
    series = (climate + anomaly)[:, None].astype(np.float32)
    spec = WindowSpec(lookback_rows=144, step_rows=6, delay_rows=delay, target_index=0)
    features = persistence_features(series, timestamps, spec, 6)
    anchors = np.arange(2 * delay, rows - delay)
    x = features.at(anchors)
    change = series[anchors + delay, 0] - series[anchors, 0]
    model = DampedPersistence().fit(x, change)
    assert model.damping_ == pytest.approx(np.full(96, phi), abs=0.08)
    now = series[anchors, 0] - model.basis(x[:, 1], x[:, 2]) @ model.climatology_
    np.testing.assert_allclose(now, anomaly[anchors], atol=0.25)  # the climatology, recovered
    expected = climate[anchors + delay] + phi * anomaly[anchors]
    forecast = series[anchors, 0] + model.predict(x)
    assert np.mean(np.abs(forecast - expected)) < 0.25
    record = model.record()
    assert record["parameters"] == 25 + 96 and record["seed_dependent"] is False
    save_estimator(tmp_path / "dp.skops", model)
    np.testing.assert_array_equal(
        load_estimator(tmp_path / "dp.skops").predict(x), model.predict(x)
    )
