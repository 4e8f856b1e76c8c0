"""Residual models forecast the change of the target: zero change is exactly the naive forecast."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import section, with_defaults

from jena_forecast.config import load_params, parse_params
from jena_forecast.models.catalog import LinearParams
from jena_forecast.models.registry import build_model
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.training.predict import load_model

TARGET = 2
TIMESTEPS, FEATURES = 96, 4  # long enough for every builder's convolutions and pooling
PROJECT_MODELS = load_params(Path(__file__).resolve().parents[1] / "params.yaml").models


def zeroed(model):
    for weight in model.weights:
        weight.assign(np.zeros(weight.shape, dtype=weight.dtype))
    return model


def windows(count: int = 5) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.normal(size=(count, TIMESTEPS, FEATURES)).astype(np.float32)


def current_target(x: np.ndarray, spec) -> np.ndarray:
    """The naive forecast by hand: the target at the last timestep (point), or at every timestep
    for every horizon (sequence)."""
    if spec.target_kind == "sequence":
        return np.repeat(x[:, :, TARGET : TARGET + 1], spec.builder_params.horizons, axis=2)
    return x[:, -1, TARGET : TARGET + 1]


@pytest.mark.parametrize("name", sorted(PROJECT_MODELS))
def test_a_model_that_learned_nothing_forecasts_the_current_target(name):
    spec = PROJECT_MODELS[name]
    model = zeroed(
        build_model(
            spec.builder, (TIMESTEPS, FEATURES), spec.builder_params, residual_target=TARGET
        )
    )
    x = windows()
    np.testing.assert_array_equal(model.predict(x, verbose=0), current_target(x, spec))


@pytest.mark.parametrize("name", sorted(PROJECT_MODELS))
def test_the_residual_model_is_the_plain_model_plus_the_current_target(name):
    spec = PROJECT_MODELS[name]
    shape = (TIMESTEPS, FEATURES)
    plain = build_model(spec.builder, shape, spec.builder_params)
    residual = build_model(spec.builder, shape, spec.builder_params, residual_target=TARGET)
    rng = np.random.default_rng(1)
    weights = [rng.normal(0, 0.3, size=w.shape).astype(np.float32) for w in plain.get_weights()]
    plain.set_weights(weights)
    residual.layers[-2].set_weights(weights)  # the wrapped network
    x = windows()
    change = plain.predict(x, verbose=0)
    assert np.abs(change).max() > 0.01  # the network's own forecast is not zero
    np.testing.assert_allclose(
        residual.predict(x, verbose=0), change + current_target(x, spec), rtol=1e-5, atol=1e-5
    )


def test_a_saved_residual_model_loads_in_safe_mode_and_forecasts_the_same(tmp_path):
    residual = build_model(
        "linear", (TIMESTEPS, FEATURES), section(LinearParams), residual_target=TARGET
    )
    x = windows()
    residual.save(tmp_path / "residual.keras")
    loaded = load_model(tmp_path / "residual.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), residual.predict(x, verbose=0))


def test_residual_is_a_model_param_checked_at_the_boundary():
    config = parse_params(
        with_defaults({"models": {"gru": {"units": 8, "residual": True}, "dense": {}}})
    )
    assert config.models["gru"].residual and not config.models["dense"].residual
    with pytest.raises(PipelineError, match=r"models.gru.residual: must be true or false"):
        parse_params(with_defaults({"models": {"gru": {"residual": "yes"}}}))


def test_a_residual_model_trains_and_is_scored_by_the_stages(tmp_path):
    """Trained, its scores are those of its own forecasts; with zero weights, the naive forecast's."""
    from conftest import tiny_artifacts

    from jena_forecast.plumbing.atomic import read_json
    from stages import evaluate as evaluate_stage
    from stages import train as train_stage

    tiny = tiny_artifacts(tmp_path, ("linear",))
    residual = tiny.config.models["linear"].model_copy(update={"residual": True})
    config = tiny.config.model_copy(update={"models": {"linear": residual}})
    paths = {
        "array_path": tiny.normalized,
        "scaler_path": tiny.scaler,
        "anchors_path": tiny.anchors,
    }
    train_stage.run(
        config,
        "linear",
        **paths,
        model_path=tmp_path / "m.keras",
        summary_path=tmp_path / "m.json",
        log_dir=tmp_path / "log",
        curve_path=tmp_path / "curve.tsv",
    )

    def evaluate() -> dict:
        return evaluate_stage.run(
            config,
            "linear",
            **paths,
            model_path=tmp_path / "m.keras",
            summary_path=tmp_path / "m.json",
            metrics_path=tmp_path / "metrics.json",
            horizons_path=tmp_path / "horizons.tsv",
            table_path=tiny.table,
            predictions_path=tmp_path / "predictions.csv",
            scores_path=tmp_path / "scores.json",
            forecasts_path=tmp_path / "forecasts.npz",
        )

    # By hand: inputs every 6th row of the 72 up to the anchor, target 12 rows on, T (degC) column 1.
    data = np.load(tiny.normalized)
    anchors = dict(np.load(tiny.anchors))
    target = list(read_json(tiny.scaler)["columns"]).index("T (degC)")
    model = load_model(tmp_path / "m.keras")
    metrics = evaluate()
    for split in ("val", "test"):
        a = anchors[split]
        x = data[a[:, None] + np.arange(-66, 1, 6)[None, :]]
        actual, now = data[a + 12, target], data[a, target]
        forecast = model.predict(x, verbose=0)[:, 0]
        change = model.layers[-2].predict(x, verbose=0)[:, 0]
        np.testing.assert_allclose(forecast, change + now, rtol=1e-5, atol=1e-5)
        mae, naive_mae = np.abs(forecast - actual).mean(), np.abs(now - actual).mean()
        assert metrics[split]["windows"] == len(a)
        assert metrics[split]["mae_norm"] == pytest.approx(mae, abs=2e-6)
        assert metrics[split]["naive_mae_norm"] == pytest.approx(naive_mae, abs=2e-6)
        assert metrics[split]["skill_vs_naive"] == pytest.approx(1 - mae / naive_mae, abs=1e-5)
        assert metrics[split]["skill_vs_naive"] != 0.0

    zeroed(model).save(tmp_path / "m.keras")
    untrained = evaluate()
    for split in ("val", "test"):
        assert untrained[split]["mae_norm"] == untrained[split]["naive_mae_norm"]
        assert untrained[split]["skill_vs_naive"] == 0.0
