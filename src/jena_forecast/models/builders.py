"""Builders of the models the classic texts teach; each returns an uncompiled ``keras.Model``."""

from __future__ import annotations

import keras
from keras import layers

from jena_forecast.models.params import DenseParams, GruParams, LinearParams


def build_linear(input_shape: tuple[int, int], params: LinearParams) -> keras.Model:
    """Flatten -> Dense(1): a linear regression over every input value (Geron, ch. 15)."""
    inputs = keras.Input(shape=input_shape)
    outputs = layers.Dense(1)(layers.Flatten()(inputs))
    return keras.Model(inputs, outputs, name="linear")


def build_dense(input_shape: tuple[int, int], params: DenseParams) -> keras.Model:
    """Flatten -> Dense(units, relu) -> Dense(1) (Chollet, DLwP 6.3 / 10.2)."""
    inputs = keras.Input(shape=input_shape)
    hidden = layers.Dense(params.units, activation="relu")(layers.Flatten()(inputs))
    outputs = layers.Dense(1)(hidden)
    return keras.Model(inputs, outputs, name="dense")


def build_gru(input_shape: tuple[int, int], params: GruParams) -> keras.Model:
    """GRU(units) -> Dense(1), optionally with input and recurrent dropout (Chollet, DLwP)."""
    inputs = keras.Input(shape=input_shape)
    hidden = layers.GRU(
        params.units, dropout=params.dropout, recurrent_dropout=params.recurrent_dropout
    )(inputs)
    outputs = layers.Dense(1)(hidden)
    return keras.Model(inputs, outputs, name="gru")
