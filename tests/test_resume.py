"""Resuming a killed training run: same batches, same dropout masks, same early stopping, same weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import section
from synthetic import tiny_training_inputs

from jena_forecast.config import ModelSpec, TrainConfig
from jena_forecast.data.windows import WindowSpec
from jena_forecast.models.catalog import GruParams
from jena_forecast.training.fit import train_model
from jena_forecast.training.resume import TrainingCheckpoint, fingerprint

pytestmark = pytest.mark.slow
WINDOW = WindowSpec(lookback_rows=36, step_rows=6, delay_rows=6, target_index=1)


class SimulatedKillError(Exception):
    """Stands in for a kill right after a checkpoint is committed."""


def tiny_inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tiny_training_inputs(WINDOW)


def gru_spec(**train: object) -> ModelSpec:
    return ModelSpec(
        name="gru",
        builder="gru",
        builder_params=section(GruParams, units=4, dropout=0.2, recurrent_dropout=0.2),
        train=section(
            TrainConfig,
            **{"epochs": 6, "batch_size": 16, "steps_per_epoch": 4, "learning_rate": 0.03, **train},
        ),
    )


def checkpoint_for(directory: Path, spec: ModelSpec, seed: int = 3) -> TrainingCheckpoint:
    data, train, val = tiny_inputs()
    arrays = {"data": data, "train": train, "val": val}
    return TrainingCheckpoint(directory, fingerprint(spec, seed, WINDOW, arrays))


def fit(spec: ModelSpec, checkpoint: TrainingCheckpoint | None = None):
    data, train, val = tiny_inputs()
    return train_model(spec, 3, data, train, val, WINDOW, verbose=0, checkpoint=checkpoint)


def losses(result) -> list[tuple[float, float]]:
    return [(row["loss"], row["val_loss"]) for row in result.history]


def interrupted_fit(spec: ModelSpec, checkpoint: TrainingCheckpoint, after_epochs: int) -> None:
    """Fit until the checkpoint of epoch ``after_epochs`` is committed, then die."""
    save = checkpoint.save

    def save_then_die(model, epochs_done, *args, **kwargs):
        path = save(model, epochs_done, *args, **kwargs)
        if epochs_done == after_epochs:
            raise SimulatedKillError
        return path

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checkpoint, "save", save_then_die)
        with pytest.raises(SimulatedKillError):
            fit(spec, checkpoint)


LEVERS = {
    "jit_compile": True,
    "steps_per_execution": 3,
}  # 3 does not divide the 4 steps of an epoch


@pytest.mark.parametrize(
    ("patience", "after_epochs", "ema_momentum", "levers"),
    [
        (5, 2, None, {}),
        (1, "last", None, {}),
        (5, 2, 0.9, {}),
        (1, "last", 0.5, {}),
        (5, 2, None, LEVERS),
        (1, "last", 0.5, LEVERS),
    ],
)
def test_an_interrupted_gru_with_dropout_resumes_to_the_same_weights(
    tmp_path, patience, after_epochs, ema_momentum, levers
):
    spec = gru_spec(patience=patience, ema_momentum=ema_momentum, **levers)
    uninterrupted = fit(spec)
    if after_epochs == "last":  # killed after the last epoch, before any output was written
        after_epochs = len(uninterrupted.history)
        assert after_epochs < spec.train.epochs, "early stopping should end this run"
    interrupted_fit(spec, checkpoint_for(tmp_path / "gru", spec), after_epochs)
    assert [p.name for p in (tmp_path / "gru").iterdir()] == [f"epoch-{after_epochs:04d}"]
    resumed = fit(spec, checkpoint_for(tmp_path / "gru", spec))
    assert losses(resumed) == losses(uninterrupted)
    assert resumed.best_epoch == uninterrupted.best_epoch
    for got, want in zip(
        resumed.model.get_weights(), uninterrupted.model.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(got, want)


def test_a_checkpoint_from_other_params_is_deleted_not_resumed(tmp_path, capsys):
    spec = gru_spec(epochs=3)
    interrupted_fit(spec, checkpoint_for(tmp_path / "gru", spec), 1)
    other = gru_spec(epochs=3, learning_rate=0.01)
    assert checkpoint_for(tmp_path / "gru", other).load() is None
    assert "checkpoint is from other params or data; starting over" in capsys.readouterr().err
    assert not (tmp_path / "gru").exists()


def test_an_unreadable_checkpoint_is_deleted_and_training_starts_over(tmp_path, capsys):
    broken = tmp_path / "gru" / "epoch-0002"
    broken.mkdir(parents=True)
    (broken / "state.json").write_text("{not json")
    assert checkpoint_for(tmp_path / "gru", gru_spec()).load() is None
    assert "unreadable checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "gru").exists()
