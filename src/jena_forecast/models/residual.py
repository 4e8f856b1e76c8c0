"""Residual forecasts: a model learns the change of the target, and its current value is added back.

The TensorFlow time-series tutorial's residual wrapper: the network's output is read as the change
of the target since "now", so an untrained network (outputs near 0) starts from the naive forecast
instead of from the mean temperature, and all it has to learn is the correction.
"""

from __future__ import annotations

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="jena_forecast")
class AddCurrentTarget(layers.Layer):
    """``[inputs, change] -> change + the target's current value`` (normalized units).

    ``inputs`` is the window (batch, timesteps, features). A point forecast (batch, 1) gets the
    target at the last timestep; a sequence forecast (batch, timesteps, horizons) gets, at every
    timestep, the target at that timestep (its "now"), for every horizon.
    """

    def __init__(self, target_index: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.target_index = target_index

    def call(self, inputs):
        window, change = inputs
        current = window[:, :, self.target_index : self.target_index + 1]
        if len(change.shape) == 2:
            current = current[:, -1, :]
        return change + keras.ops.cast(current, change.dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "target_index": self.target_index}


def with_residual(model: keras.Model, target_index: int) -> keras.Model:
    """``model`` whose output is read as the change of the target column ``target_index``."""
    window = keras.Input(shape=model.inputs[0].shape[1:], name="window")
    forecast = AddCurrentTarget(target_index, dtype="float32", name="add_current_target")(
        [window, model(window)]
    )
    return keras.Model(window, forecast, name=f"{model.name}_residual")
