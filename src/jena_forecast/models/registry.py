"""One registry: model builder name -> function returning an uncompiled Keras model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

from jena_forecast.errors import PipelineError
from jena_forecast.models import builders
from jena_forecast.models.params import BUILDER_PARAMS, BuilderParams
from jena_forecast.models.residual import with_residual

Builder = Callable[[tuple[int, int], Any], keras.Model]

MODELS: dict[str, Builder] = {
    "linear": builders.build_linear,
    "dense": builders.build_dense,
    "simple_rnn": builders.build_simple_rnn,
    "deep_rnn": builders.build_deep_rnn,
    "gru": builders.build_gru,
    "stacked_gru": builders.build_stacked_gru,
    "lstm": builders.build_lstm,
    "bidirectional": builders.build_bidirectional,
    "conv1d": builders.build_conv1d,
    "conv1d_gru": builders.build_conv1d_gru,
    "causal_cnn": builders.build_causal_cnn,
    "seq2seq": builders.build_seq2seq,
}


def build_model(
    builder: str,
    input_shape: tuple[int, int],
    params: BuilderParams,
    residual_target: int | None = None,
) -> keras.Model:
    """Build an uncompiled model with ``builder`` for inputs of shape (timesteps, features).

    With ``residual_target`` (a column index), the model forecasts the change of that column and
    its current value is added back (``jena_forecast.models.residual``).
    """
    if builder not in MODELS:
        raise PipelineError(
            f"unknown model builder {builder!r}. Expected one of: {', '.join(MODELS)}"
        )
    expected = BUILDER_PARAMS[builder]
    if not isinstance(params, expected):
        raise TypeError(
            f"builder {builder!r} takes {expected.__name__}, got {type(params).__name__}"
        )
    model = MODELS[builder](input_shape, params)
    return model if residual_target is None else with_residual(model, residual_target)
