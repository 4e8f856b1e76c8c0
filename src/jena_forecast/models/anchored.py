"""Anchored networks: a network that starts at a classical model's forecast and learns what it leaves.

The classical model's forecast of the 24 h change (normalized units), computed for every row, travels
as one more column of the model's data (``jena_forecast.data.anchor_column``). The network's own
layers read the window without that column; its output layer starts at zero, and the anchor's
change at "now" is added to its 24 h point (the last of a path), then the target's current value
(``residual``). Untrained, the model is the classical model; trained, it corrects it (the
"offset" form of the screen in ``tools/anchor_network_screen.py``).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers


@keras.saving.register_keras_serializable(package="jena_forecast")
class WithoutAnchorColumn(layers.Layer):
    """(batch, timesteps, columns + 1) -> (batch, timesteps, columns): the window the network reads."""

    def call(self, inputs):
        return inputs[:, :, :-1]

    def compute_output_shape(self, input_shape):
        return (*input_shape[:2], input_shape[2] - 1)


@keras.saving.register_keras_serializable(package="jena_forecast")
class AddAnchorChange(layers.Layer):
    """``[window, change] -> change`` with the anchor column's value at the last timestep added to
    the last output (the 24 h point); the earlier points of a path are the network's alone."""

    def call(self, inputs):
        window, change = inputs
        anchor = keras.ops.cast(window[:, -1, -1:], change.dtype)  # (batch, 1)
        last = keras.ops.one_hot(change.shape[-1] - 1, change.shape[-1], dtype=change.dtype)
        return change + anchor * last


def with_anchor(model: keras.Model, columns: int) -> keras.Model:
    """``model`` (a change forecaster of windows of ``columns`` columns) reading windows with the
    anchor column appended, its output layer zeroed, the anchor's change added to its 24 h point."""
    head = model.layers[-1]
    if not isinstance(head, layers.Dense):
        raise TypeError(f"{model.name} does not end in a Dense layer: it cannot start at zero")
    head.set_weights([np.zeros_like(weight) for weight in head.get_weights()])
    timesteps = model.inputs[0].shape[1]
    window = keras.Input(shape=(timesteps, columns + 1), name="window_with_anchor")
    change = model(WithoutAnchorColumn(name="without_anchor_column")(window))
    change = AddAnchorChange(dtype="float32", name="add_anchor_change")([window, change])
    return keras.Model(window, change, name=f"{model.name}_anchored")
