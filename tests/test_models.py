import numpy as np
import pytest
from conftest import section

from jena_forecast.config import TrainConfig
from jena_forecast.data.windows import WindowSpec, assemble_inputs, window_anchors
from jena_forecast.models.catalog import BUILDER_PARAMS
from jena_forecast.models.registry import build_model
from jena_forecast.training.batches import target_assembler
from jena_forecast.training.fit import (
    learning_rate_schedule,
    make_loss,
    make_optimizer,
    make_reproducible,
)
from jena_forecast.training.predict import load_model

SPEC = WindowSpec(lookback_rows=240, step_rows=2, delay_rows=24, target_index=0)
FEATURES = 4
INPUT_SHAPE = (SPEC.timesteps, FEATURES)


@pytest.mark.parametrize("builder", sorted(BUILDER_PARAMS))
def test_builder_shapes_one_training_step_and_keras_round_trip(builder, tmp_path):
    make_reproducible(0)
    params = section(BUILDER_PARAMS[builder])
    model = build_model(builder, INPUT_SHAPE, params)
    rng = np.random.default_rng(0)
    data = rng.normal(size=(400, FEATURES)).astype(np.float32)
    anchors = window_anchors(np.ones(400, dtype=bool), 0, 400, SPEC)[:16]
    inputs = assemble_inputs(data, anchors, SPEC)
    targets = target_assembler(params.target_kind, getattr(params, "horizons", None))(data, SPEC)(
        anchors
    )
    assert model.input_shape == (None, *INPUT_SHAPE)
    assert model.output_shape == (None, *targets.shape[1:])
    if params.target_kind == "sequence":
        assert targets.shape == (16, SPEC.timesteps, 24)
    config = section(TrainConfig, optimizer="adam", learning_rate=1e-2)
    model.compile(optimizer=make_optimizer(config), loss=make_loss(config))
    before = [w.copy() for w in model.get_weights()]
    model.train_on_batch(inputs, targets)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))
    path = tmp_path / f"{builder}.keras"
    model.save(path)
    np.testing.assert_array_equal(
        model.predict(inputs, verbose=0), load_model(path).predict(inputs, verbose=0)
    )


@pytest.mark.parametrize("name", ["adam", "rmsprop", "sgd"])
def test_optimizers_and_losses_from_config(name):
    config = section(
        TrainConfig, optimizer=name, learning_rate=0.01, momentum=0.9 if name == "sgd" else 0.0
    )
    optimizer = make_optimizer(config)
    assert type(optimizer).__name__.lower() == name
    assert float(optimizer.learning_rate.numpy()) == pytest.approx(0.01)
    assert type(make_loss(section(TrainConfig, loss="huber"))).__name__ == "Huber"


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_warmup_ramps_the_rate_from_zero_then_holds_or_decays(schedule):
    config = section(TrainConfig, learning_rate=0.01, lr_schedule=schedule, warmup_steps=10)
    rate = learning_rate_schedule(config, total_steps=110)
    at = {step: float(rate(step)) for step in (0, 5, 10, 60, 110)}
    assert at[0] == 0.0
    assert at[5] == pytest.approx(0.005)
    assert at[10] == pytest.approx(0.01)
    if schedule == "constant":
        assert at[60] == at[110] == pytest.approx(0.01)
    else:  # half-way through the 100 decay steps, then 0
        assert at[60] == pytest.approx(0.005)
        assert at[110] == pytest.approx(0.0, abs=1e-9)
    no_warmup = learning_rate_schedule(section(TrainConfig, learning_rate=0.01), total_steps=110)
    assert no_warmup == 0.01


def test_weight_decay_and_gradient_clipping_reach_the_optimizer():
    plain = make_optimizer(section(TrainConfig, optimizer="adam"))
    assert plain.weight_decay is None
    assert plain.global_clipnorm is None
    tuned = make_optimizer(
        section(TrainConfig, optimizer="adam", weight_decay=1e-4, global_clipnorm=1.0)
    )
    assert tuned.weight_decay == pytest.approx(1e-4)
    assert tuned.global_clipnorm == pytest.approx(1.0)


def test_a_sequence_model_stops_early_on_its_24_hour_forecast_alone():
    from conftest import PROJECT_PARAMS

    from jena_forecast.config import parse_params
    from jena_forecast.training.fit import forecast_mae, monitored_quantity

    config = parse_params(PROJECT_PARAMS)
    assert monitored_quantity(config.model("seq2seq")) == "val_forecast_mae"
    assert monitored_quantity(config.model("gru")) == "val_forecast_mae"  # a path: its 24 h point
    assert monitored_quantity(config.model("dense")) == "val_loss"
    # (batch 2, timesteps 3, horizons 2): only [:, -1, -1] counts, errors 1 and 3
    y_true = np.zeros((2, 3, 2), dtype="float32")
    y_pred = np.full((2, 3, 2), 100.0, dtype="float32")
    y_pred[:, -1, -1] = [1.0, -3.0]
    assert float(forecast_mae(y_true, y_pred)) == 2.0


def test_a_sequence_model_trains_with_early_stopping_on_its_forecast_mae(tmp_path):
    from conftest import tiny_artifacts

    from jena_forecast.data.windows import load_windows, window_spec
    from jena_forecast.training.fit import train_model

    tiny = tiny_artifacts(tmp_path, ("seq2seq",))
    spec, _ = window_spec(tiny.config.windows, tiny.scaler)
    data, anchors = load_windows(tiny.normalized, tiny.anchors)
    result = train_model(
        tiny.config.model("seq2seq"), 1, data, anchors["train"], anchors["val"], spec, verbose=0
    )
    history = [row["val_forecast_mae"] for row in result.history]
    assert len(history) == len(result.history) >= 1 and all(value > 0 for value in history)
    assert result.summary()["early_stopping_monitor"] == "val_forecast_mae"
    assert result.best_epoch == int(np.argmin(history)) + 1


def test_a_model_with_its_own_lookback_trains_and_predicts_on_the_latest_rows(tmp_path):
    from conftest import tiny_artifacts

    from jena_forecast.data.windows import load_windows, window_spec
    from jena_forecast.training.fit import train_model
    from jena_forecast.training.predict import predict_paths

    tiny = tiny_artifacts(tmp_path, ("seq2seq",))
    spec, _ = window_spec(tiny.config.windows, tiny.scaler)
    data, anchors = load_windows(tiny.normalized, tiny.anchors)
    short = tiny.config.model("seq2seq").model_copy(update={"lookback_rows": 36, "residual": True})
    result = train_model(short, 1, data, anchors["train"], anchors["val"], spec, verbose=0)
    assert result.model.input_shape == (None, 36 // spec.step_rows, data.shape[1])
    paths = predict_paths(result.model, short, data, anchors, spec)
    windows = assemble_inputs(data, anchors["val"], spec)[:, -6:]
    np.testing.assert_allclose(
        paths["val"], result.model.predict(windows, verbose=0)[:, -1], rtol=1e-5, atol=1e-5
    )


def test_a_point_model_with_auxiliary_horizons_learns_the_path_and_is_scored_on_its_end(tmp_path):
    from conftest import tiny_artifacts

    from jena_forecast.data.windows import load_windows, window_spec
    from jena_forecast.evaluation.metrics import delay_forecast, scores
    from jena_forecast.training.fit import monitored_quantity, train_model
    from jena_forecast.training.lr_range import learning_rate_range_test
    from jena_forecast.training.predict import predict_paths

    tiny = tiny_artifacts(tmp_path, ("gru",))
    spec, scale = window_spec(tiny.config.windows, tiny.scaler)
    data, anchors = load_windows(tiny.normalized, tiny.anchors)
    path_model = tiny.config.model("gru").model_copy(
        update={"aux_horizons": 4, "residual": True, "lookback_rows": None}
    )
    assert (path_model.target_kind, path_model.horizons) == ("path", 4)
    assert monitored_quantity(path_model) == "val_forecast_mae"
    result = train_model(path_model, 1, data, anchors["train"], anchors["val"], spec, verbose=0)
    assert result.model.output_shape == (None, 4)
    assert all(row["val_forecast_mae"] > 0 for row in result.history)
    paths = predict_paths(result.model, path_model, data, anchors, spec)
    assert paths["val"].shape == (anchors["val"].size, 4)
    # Scored on the last point of the path, the 24 h forecast, like every model.
    ranked = scores(paths, data, anchors, spec, scale)["val"]["mae_norm"]
    truth = data[anchors["val"] + spec.delay_rows, spec.target_index]
    assert ranked == pytest.approx(
        np.abs(delay_forecast(paths["val"])[:, 0] - truth).mean(), abs=1e-6
    )
    path = tmp_path / "path.keras"
    result.model.save(path)
    np.testing.assert_allclose(
        load_model(path).predict(assemble_inputs(data, anchors["val"][:8], spec), verbose=0),
        result.model.predict(assemble_inputs(data, anchors["val"][:8], spec), verbose=0),
        atol=1e-6,
    )
    # The range test sweeps the rate itself, whatever schedule and warm-up the model trains with.
    warm = path_model.model_copy(
        update={
            "train": path_model.train.model_copy(
                update={"lr_schedule": "cosine", "warmup_steps": 5}
            )
        }
    )
    swept = learning_rate_range_test(
        tiny.config.lr_range_test, warm, 1, data, anchors["train"], spec
    )
    assert len(swept.rows) >= 2
