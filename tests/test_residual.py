"""Residual models forecast the change of the target: zero change is exactly the naive forecast."""

from __future__ import annotations

import numpy as np
import pytest

from jena_forecast.config import parse_params
from jena_forecast.errors import PipelineError
from jena_forecast.models.catalog import LinearParams, Seq2SeqParams
from jena_forecast.models.registry import build_model
from jena_forecast.training.predict import load_model

TARGET = 2


def zeroed(model):
    for weight in model.weights:
        weight.assign(np.zeros(weight.shape, dtype=weight.dtype))
    return model


def windows(count: int = 5, timesteps: int = 8, features: int = 4) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(count, timesteps, features)).astype(np.float32)


def test_a_point_model_that_learned_nothing_forecasts_the_current_target():
    model = zeroed(build_model("linear", (8, 4), LinearParams(), residual_target=TARGET))
    x = windows()
    np.testing.assert_allclose(model.predict(x, verbose=0), x[:, -1, TARGET : TARGET + 1])


def test_a_sequence_model_adds_each_timesteps_current_target_to_every_horizon():
    params = Seq2SeqParams(units=4, layers=1, horizons=3)
    model = zeroed(build_model("seq2seq", (8, 4), params, residual_target=TARGET))
    x = windows()
    predicted = model.predict(x, verbose=0)
    assert predicted.shape == (5, 8, 3)
    np.testing.assert_allclose(predicted, np.repeat(x[:, :, TARGET : TARGET + 1], 3, axis=2))


def test_the_residual_model_is_the_plain_model_plus_the_current_target(tmp_path):
    plain = build_model("linear", (8, 4), LinearParams())
    residual = build_model("linear", (8, 4), LinearParams(), residual_target=TARGET)
    residual.layers[-2].set_weights(plain.get_weights())  # the wrapped network
    x = windows()
    np.testing.assert_allclose(
        residual.predict(x, verbose=0),
        plain.predict(x, verbose=0) + x[:, -1, TARGET : TARGET + 1],
        rtol=1e-5,
        atol=1e-6,
    )
    # Saved and loaded in safe mode, it forecasts the same.
    residual.save(tmp_path / "residual.keras")
    loaded = load_model(tmp_path / "residual.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), residual.predict(x, verbose=0))


def test_residual_is_a_model_param_checked_at_the_boundary():
    config = parse_params({"models": {"gru": {"units": 8, "residual": True}, "dense": {}}})
    assert config.models["gru"].residual and not config.models["dense"].residual
    with pytest.raises(PipelineError, match=r"models.gru.residual: must be true or false"):
        parse_params({"models": {"gru": {"residual": "yes"}}})


def test_a_residual_model_trains_and_is_scored_by_the_stages(tmp_path):
    from conftest import tiny_artifacts

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
    )
    metrics = evaluate_stage.run(
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
    )
    assert np.isfinite(metrics["val"]["mae_degc"]) and metrics["val"]["windows"] > 0
