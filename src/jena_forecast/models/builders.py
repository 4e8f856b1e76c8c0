"""Builders of the models the classic texts teach; each returns an uncompiled ``keras.Model``.

Every builder takes the input shape (timesteps, features) in ``channels_last`` order and its own
params. Recurrent layers keep Keras's defaults (tanh, sigmoid, ``unroll=False``,
``reset_after=True``), so on a GPU they run the fused cuDNN kernels unless ``recurrent_dropout`` > 0
(input ``dropout`` alone keeps them). Every output layer is float32, so under the ``mixed_float16``
policy (``train.mixed_precision``) the loss is still computed in float32; under the default float32
policy that changes nothing.
"""

from __future__ import annotations

import keras
from keras import layers

from jena_forecast.models.params import (
    BidirectionalParams,
    CausalCnnParams,
    Conv1dGruParams,
    Conv1dParams,
    DeepRnnParams,
    DenseParams,
    GruParams,
    LinearParams,
    LstmParams,
    Seq2SeqParams,
    SimpleRnnParams,
    StackedGruParams,
)


@keras.saving.register_keras_serializable(package="jena_forecast")
class LastTimestep(layers.Layer):
    """(batch, timesteps, channels) -> (batch, channels): the output at the last timestep.

    A named layer rather than a Lambda, so saved models load in Keras's safe mode.
    """

    def call(self, inputs):
        return inputs[:, -1, :]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


def _model(inputs: keras.KerasTensor, hidden: keras.KerasTensor, name: str) -> keras.Model:
    return keras.Model(inputs, layers.Dense(1, dtype="float32")(hidden), name=name)


def build_linear(input_shape: tuple[int, int], params: LinearParams) -> keras.Model:
    """Flatten -> Dense(1): a linear regression over every input value (Geron, ch. 15)."""
    inputs = keras.Input(shape=input_shape)
    return _model(inputs, layers.Flatten()(inputs), "linear")


def build_dense(input_shape: tuple[int, int], params: DenseParams) -> keras.Model:
    """Flatten -> Dense(units, relu) -> Dense(1) (Chollet, DLwP 6.3 / 10.2)."""
    inputs = keras.Input(shape=input_shape)
    hidden = layers.Dense(params.units, activation="relu")(layers.Flatten()(inputs))
    return _model(inputs, hidden, "dense")


def build_simple_rnn(input_shape: tuple[int, int], params: SimpleRnnParams) -> keras.Model:
    """SimpleRNN(units) -> Dense(1) (Geron, ch. 15)."""
    inputs = keras.Input(shape=input_shape)
    return _model(inputs, layers.SimpleRNN(params.units)(inputs), "simple_rnn")


def build_deep_rnn(input_shape: tuple[int, int], params: DeepRnnParams) -> keras.Model:
    """SimpleRNN(20, return_sequences) -> SimpleRNN(20) -> Dense(1) (Geron's deep RNN)."""
    inputs = keras.Input(shape=input_shape)
    hidden = inputs
    for position, units in enumerate(params.units):
        last = position == len(params.units) - 1
        hidden = layers.SimpleRNN(units, return_sequences=not last)(hidden)
    return _model(inputs, hidden, "deep_rnn")


def build_gru(input_shape: tuple[int, int], params: GruParams) -> keras.Model:
    """GRU(units) -> Dense(1), optionally with input and recurrent dropout (Chollet, DLwP)."""
    inputs = keras.Input(shape=input_shape)
    hidden = layers.GRU(
        params.units, dropout=params.dropout, recurrent_dropout=params.recurrent_dropout
    )(inputs)
    return _model(inputs, hidden, "gru")


def build_stacked_gru(input_shape: tuple[int, int], params: StackedGruParams) -> keras.Model:
    """GRU(32, dropout) -> GRU(64, dropout) -> Dense(1) (Chollet, DLwP 6.3)."""
    inputs = keras.Input(shape=input_shape)
    hidden = inputs
    for position, units in enumerate(params.units):
        last = position == len(params.units) - 1
        hidden = layers.GRU(
            units,
            dropout=params.dropout,
            recurrent_dropout=params.recurrent_dropout,
            return_sequences=not last,
        )(hidden)
    return _model(inputs, hidden, "stacked_gru")


def build_lstm(input_shape: tuple[int, int], params: LstmParams) -> keras.Model:
    """LSTM(units) -> Dropout -> Dense(1) (Chollet, DLwP 2nd ed. 10.2-10.4)."""
    inputs = keras.Input(shape=input_shape)
    hidden = layers.LSTM(
        params.units, dropout=params.dropout, recurrent_dropout=params.recurrent_dropout
    )(inputs)
    if params.output_dropout:
        hidden = layers.Dropout(params.output_dropout)(hidden)
    return _model(inputs, hidden, "lstm")


def build_bidirectional(input_shape: tuple[int, int], params: BidirectionalParams) -> keras.Model:
    """Bidirectional(GRU or LSTM) -> Dense(1) (Chollet, DLwP 6.3; TensorFlow course)."""
    cell = layers.GRU if params.cell == "gru" else layers.LSTM
    inputs = keras.Input(shape=input_shape)
    hidden = layers.Bidirectional(
        cell(params.units, dropout=params.dropout, recurrent_dropout=params.recurrent_dropout)
    )(inputs)
    return _model(inputs, hidden, "bidirectional")


def _conv_blocks(
    hidden: keras.KerasTensor, filters: int, kernel_size: int, pool_size: int, blocks: int
) -> keras.KerasTensor:
    for _ in range(blocks):
        hidden = layers.Conv1D(filters, kernel_size, activation="relu")(hidden)
        hidden = layers.MaxPooling1D(pool_size)(hidden)
    return hidden


def build_conv1d(input_shape: tuple[int, int], params: Conv1dParams) -> keras.Model:
    """[Conv1D -> MaxPooling1D] x2 -> Conv1D -> GlobalMaxPooling1D -> Dense(1) (Chollet, DLwP 6.4)."""
    inputs = keras.Input(shape=input_shape)
    hidden = _conv_blocks(
        inputs, params.filters, params.kernel_size, params.pool_size, params.blocks - 1
    )
    hidden = layers.Conv1D(params.filters, params.kernel_size, activation="relu")(hidden)
    return _model(inputs, layers.GlobalMaxPooling1D()(hidden), "conv1d")


def build_conv1d_gru(input_shape: tuple[int, int], params: Conv1dGruParams) -> keras.Model:
    """Conv1D -> MaxPooling1D -> Conv1D -> GRU -> Dense(1) (Chollet, DLwP 6.4, inputs every 3 rows)."""
    inputs = keras.Input(shape=input_shape)
    hidden = _conv_blocks(
        inputs, params.filters, params.kernel_size, params.pool_size, params.conv_blocks - 1
    )
    hidden = layers.Conv1D(params.filters, params.kernel_size, activation="relu")(hidden)
    hidden = layers.GRU(
        params.gru_units, dropout=params.dropout, recurrent_dropout=params.recurrent_dropout
    )(hidden)
    return _model(inputs, hidden, "conv1d_gru")


def build_causal_cnn(input_shape: tuple[int, int], params: CausalCnnParams) -> keras.Model:
    """Causal Conv1D layers with doubling dilation (WaveNet style) -> last timestep -> Dense(1)."""
    inputs = keras.Input(shape=input_shape)
    hidden = inputs
    for rate in params.dilation_rates:
        hidden = layers.Conv1D(
            params.filters,
            params.kernel_size,
            padding="causal",
            dilation_rate=rate,
            activation="relu",
        )(hidden)
    return _model(inputs, LastTimestep()(hidden), "causal_cnn")


def build_seq2seq(input_shape: tuple[int, int], params: Seq2SeqParams) -> keras.Model:
    """GRU(return_sequences) layers -> Dense(horizons) at every timestep (Geron's seq-to-seq).

    Output shape (batch, timesteps, horizons): after every input timestep, the forecast of the next
    ``horizons`` points; the last timestep's row is the forecast path from "now".
    """
    inputs = keras.Input(shape=input_shape)
    hidden = inputs
    for _ in range(params.layers):
        hidden = layers.GRU(params.units, return_sequences=True)(hidden)
    outputs = layers.Dense(params.horizons, dtype="float32")(hidden)
    return keras.Model(inputs, outputs, name="seq2seq")
