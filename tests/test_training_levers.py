"""train.steps_per_execution and train.jit_compile: faster training, the same run every time."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import section
from synthetic import tiny_training_inputs

from jena_forecast.config import ModelSpec, TrainConfig
from jena_forecast.data.windows import WindowSpec
from jena_forecast.models.catalog import GruParams
from jena_forecast.training.fit import make_reproducible, train_model

pytestmark = pytest.mark.slow
WINDOW = WindowSpec(lookback_rows=36, step_rows=6, delay_rows=6, target_index=1)


@pytest.fixture(autouse=True)
def restore_determinism():
    yield
    make_reproducible(0)  # jit_compile switched TensorFlow's deterministic ops off


def gru_spec(**train: object) -> ModelSpec:
    return ModelSpec(
        name="gru",
        builder="gru",
        builder_params=section(GruParams, units=4, dropout=0.2, recurrent_dropout=0.2),
        train=section(
            TrainConfig,
            **{"epochs": 3, "batch_size": 16, "patience": 5, "learning_rate": 0.03, **train},
        ),
    )


def fit(spec: ModelSpec):
    data, train, val = tiny_training_inputs(WINDOW)
    return train_model(spec, 3, data, train, val, WINDOW, verbose=0)


def assert_same_run(got, want) -> None:
    assert [(r["loss"], r["val_loss"]) for r in got.history] == [
        (r["loss"], r["val_loss"]) for r in want.history
    ]
    for mine, theirs in zip(got.model.get_weights(), want.model.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)


@pytest.mark.parametrize("steps_per_epoch", [4, None])
def test_steps_per_execution_changes_no_weight(steps_per_epoch):
    """3 steps per call, 4 steps an epoch (or a whole pass with a partial last batch): every
    epoch still ends at its own last batch, and the run is the one of a step per call."""
    one_at_a_time = fit(gru_spec(steps_per_epoch=steps_per_epoch))
    three_at_a_time = fit(gru_spec(steps_per_epoch=steps_per_epoch, steps_per_execution=3))
    assert three_at_a_time.model.steps_per_execution == 3
    steps = int(one_at_a_time.model.optimizer.iterations.numpy())
    assert int(three_at_a_time.model.optimizer.iterations.numpy()) == steps
    if steps_per_epoch:
        assert steps == steps_per_epoch * len(one_at_a_time.history)
    assert_same_run(three_at_a_time, one_at_a_time)


def test_steps_per_execution_above_an_epoch_runs_the_epoch_alone():
    short = fit(gru_spec(steps_per_epoch=4, steps_per_execution=50))
    assert int(short.model.optimizer.iterations.numpy()) == 4 * len(short.history)
    assert_same_run(short, fit(gru_spec(steps_per_epoch=4)))


def test_xla_with_steps_per_execution_repeats_itself_bit_for_bit():
    levers = {"steps_per_epoch": 4, "jit_compile": True, "steps_per_execution": 3}
    first, second = fit(gru_spec(**levers)), fit(gru_spec(**levers))
    assert first.model.jit_compile is True
    assert_same_run(second, first)
