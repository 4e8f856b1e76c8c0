"""Build a model of the catalog by builder name, optionally forecasting the change of its target."""

from __future__ import annotations

import keras

from jena_forecast.models import keras_parts  # noqa: F401  (registers LastTimestep for loading)
from jena_forecast.models.anchored import with_anchor
from jena_forecast.models.catalog import BUILDER_PARAMS, BuilderParams
from jena_forecast.models.residual import with_residual
from jena_forecast.plumbing.errors import PipelineError


def build_model(
    builder: str,
    input_shape: tuple[int, int],
    params: BuilderParams,
    residual_target: int | None = None,
    aux_horizons: int | None = None,
    anchored: bool = False,
) -> keras.Model:
    """Build an uncompiled model with ``builder`` for inputs of shape (timesteps, features).

    With ``aux_horizons`` (a point model), its one-unit output layer becomes ``aux_horizons``
    units: the path of evenly spaced points to the 24 h target, the last one that target. With
    ``residual_target`` (a column index), the model forecasts the change of that column and its
    current value is added back (``jena_forecast.models.residual``). ``anchored``: the last input
    column is a classical model's forecast change, which the network corrects
    (``jena_forecast.models.anchored``); the layers are built on the columns before it.
    """
    if builder not in BUILDER_PARAMS:
        raise PipelineError(
            f"unknown model builder {builder!r}. Expected one of: {', '.join(BUILDER_PARAMS)}"
        )
    expected = BUILDER_PARAMS[builder]
    if not isinstance(params, expected):
        raise TypeError(
            f"builder {builder!r} takes {expected.__name__}, got {type(params).__name__}"
        )
    timesteps, columns = input_shape
    if anchored:
        columns -= 1
        if residual_target is None or residual_target >= columns:
            raise ValueError("an anchored model forecasts the change of a column before the anchor")
    model = params.build((timesteps, columns))
    if aux_horizons:
        model = with_path_head(model, aux_horizons)
    if anchored:
        model = with_anchor(model, columns)
    return model if residual_target is None else with_residual(model, residual_target)


def with_path_head(model: keras.Model, horizons: int) -> keras.Model:
    """``model`` with its one-unit float32 output layer replaced by ``horizons`` units."""
    head = model.layers[-1]
    if not isinstance(head, keras.layers.Dense) or head.units != 1:
        raise TypeError(f"{model.name} does not end in a one-unit Dense layer: no path head")
    path = keras.layers.Dense(horizons, dtype="float32", name="path")(head.input)
    return keras.Model(model.inputs, path, name=model.name)
