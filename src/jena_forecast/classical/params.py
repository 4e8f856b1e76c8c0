"""Each classical estimator's params, validated without importing scikit-learn."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveFloat, PositiveInt


class EstimatorParams(BaseModel):
    """Base of every estimator's params: the window features it sees, frozen, unknown keys refused.

    ``lag_hours``: the target at every whole hour back from the anchor, 1 to ``lag_hours`` hours.
    ``recent_hours``: the mean, minimum and maximum of every column over the last ``recent_hours``
    hours of the window (and, always, over its whole lookback).

    ``feature_set``: ``window`` (the above, ``classical.window_features``) or ``anchor`` (the state
    at the anchor and its recent change, ``classical.anchor_features``: lags, tendencies of the
    target and of ``tendency_columns``, means, the wind vector when ``wind_vector``, the clock),
    where ``lag_hours`` bounds how far back a feature reaches and ``recent_hours`` is the span of
    the target's minimum and maximum.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    lag_hours: PositiveInt
    recent_hours: PositiveInt
    feature_set: Literal["window", "anchor"] = "window"
    tendency_columns: tuple[str, ...] = ("p (mbar)", "Tdew (degC)", "rh (%)")
    wind_vector: bool = True


class RidgeParams(EstimatorParams):
    """Standardized features -> Ridge; the alpha with the lowest validation MAE is kept."""

    alphas: Annotated[tuple[PositiveFloat, ...], Field(min_length=1)]


class HistGbrParams(EstimatorParams):
    """HistGradientBoostingRegressor with the absolute error loss.

    The number of iterations (at most ``max_iter``) is found by early stopping on
    ``early_stopping_fraction`` of the training windows, held out in ``early_stopping_blocks``
    blocks spread over the training period; the validation and test splits are never seen while
    fitting.
    """

    max_iter: PositiveInt
    learning_rate: PositiveFloat
    max_leaf_nodes: Annotated[int, Field(ge=2)]
    min_samples_leaf: PositiveInt
    l2_regularization: NonNegativeFloat = 0.0
    early_stopping_fraction: Annotated[float, Field(gt=0.0, lt=0.5)]
    early_stopping_blocks: PositiveInt
    n_iter_no_change: PositiveInt


class DampedPersistenceParams(EstimatorParams):
    """Damped persistence of the anomaly from a climatology (``classical.damped_persistence``).

    The climatology of the target is a least-squares fit on the training windows of
    ``year_harmonics`` day-of-year harmonics times ``day_harmonics`` hour-of-day harmonics; the
    forecast is the climatology at the target time plus the anomaly now times a damping factor,
    fitted per season (``seasons`` equal parts of the year, the first starting 1 December) and
    hour of day on the training windows. Its features are its own (the window-feature params
    do not apply).
    """

    lag_hours: PositiveInt = 1
    recent_hours: PositiveInt = 1
    year_harmonics: PositiveInt = 2
    day_harmonics: PositiveInt = 2
    seasons: PositiveInt = 4


ESTIMATOR_PARAMS: dict[str, type[EstimatorParams]] = {
    "ridge": RidgeParams,
    "hist_gbr": HistGbrParams,
    "damped_persistence": DampedPersistenceParams,
}
