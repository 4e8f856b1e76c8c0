"""The Keras pieces the model catalog's builders share: the float32 output head, convolution
blocks and the last-timestep layer. Imported only when a model is built (or loaded).

Recurrent layers keep Keras's defaults (tanh, sigmoid, ``unroll=False``, ``reset_after=True``), so on
a GPU they run the fused cuDNN kernels unless ``recurrent_dropout`` > 0 (input ``dropout`` alone
keeps them). Every output layer is float32, so under the ``mixed_float16`` policy
(``train.mixed_precision``) the loss is still computed in float32; under the default float32 policy
that changes nothing.
"""

from __future__ import annotations

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="jena_forecast")
class LastTimestep(layers.Layer):
    """(batch, timesteps, channels) -> (batch, channels): the output at the last timestep.

    A named layer rather than a Lambda, so saved models load in Keras's safe mode.
    """

    def call(self, inputs):
        return inputs[:, -1, :]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


def dense_head(inputs: keras.KerasTensor, hidden: keras.KerasTensor, name: str) -> keras.Model:
    """The model from ``inputs`` to one float32 Dense unit on ``hidden``."""
    return keras.Model(inputs, layers.Dense(1, dtype="float32")(hidden), name=name)


def conv_blocks(
    hidden: keras.KerasTensor, filters: int, kernel_size: int, pool_size: int, blocks: int
) -> keras.KerasTensor:
    """``blocks`` times Conv1D(filters, kernel_size, relu) -> MaxPooling1D(pool_size)."""
    for _ in range(blocks):
        hidden = layers.Conv1D(filters, kernel_size, activation="relu")(hidden)
        hidden = layers.MaxPooling1D(pool_size)(hidden)
    return hidden
