import numpy as np
import pytest

from jena_forecast.config import TrainConfig
from jena_forecast.models.params import BUILDER_PARAMS
from jena_forecast.models.registry import MODELS, build_model
from jena_forecast.training.fit import make_loss, make_optimizer, make_reproducible
from jena_forecast.training.predict import load_model

INPUT_SHAPE = (24, 5)


def test_every_builder_has_params_and_every_params_class_a_builder():
    assert set(MODELS) == set(BUILDER_PARAMS)


@pytest.mark.parametrize("builder", sorted(MODELS))
def test_builder_shapes_one_training_step_and_keras_round_trip(builder, tmp_path):
    make_reproducible(0)
    model = build_model(builder, INPUT_SHAPE, BUILDER_PARAMS[builder]())
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(16, *INPUT_SHAPE)).astype(np.float32)
    targets = rng.normal(size=(16, 1)).astype(np.float32)
    assert model.input_shape == (None, *INPUT_SHAPE) and model.output_shape == (None, 1)
    config = TrainConfig(optimizer="adam", learning_rate=1e-2)
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
    config = TrainConfig(optimizer=name, learning_rate=0.01, momentum=0.9 if name == "sgd" else 0.0)
    optimizer = make_optimizer(config)
    assert type(optimizer).__name__.lower() == name
    assert float(optimizer.learning_rate.numpy()) == pytest.approx(0.01)
    assert type(make_loss(TrainConfig(loss="huber"))).__name__ == "Huber"
