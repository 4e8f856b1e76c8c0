"""Build a model of the catalog by builder name, optionally forecasting the change of its target."""

from __future__ import annotations

import keras

from jena_forecast.errors import PipelineError
from jena_forecast.models import keras_parts  # noqa: F401  (registers LastTimestep for loading)
from jena_forecast.models.catalog import BUILDER_PARAMS, BuilderParams
from jena_forecast.models.residual import with_residual


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
    if builder not in BUILDER_PARAMS:
        raise PipelineError(
            f"unknown model builder {builder!r}. Expected one of: {', '.join(BUILDER_PARAMS)}"
        )
    expected = BUILDER_PARAMS[builder]
    if not isinstance(params, expected):
        raise TypeError(
            f"builder {builder!r} takes {expected.__name__}, got {type(params).__name__}"
        )
    model = params.build(input_shape)
    return model if residual_target is None else with_residual(model, residual_target)
