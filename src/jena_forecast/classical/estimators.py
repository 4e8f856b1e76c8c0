"""Fit the classical estimators on the training windows; choose what they choose without the test split.

Both learn the change of the target over the forecast delay (target minus its value at the anchor,
in normalized units) and forecast the naive value plus that change, so an estimator that learns
nothing is the naive baseline, not a constant.

* ``ridge``: features standardized with the training windows' statistics, one Ridge per alpha of
  ``alphas`` fitted on the training windows; the one with the lowest validation MAE is kept.
* ``hist_gbr``: HistGradientBoostingRegressor (absolute error loss, seeded). The number of boosting
  iterations is found by early stopping on held-out blocks of the training windows (see
  ``early_stopping_split``), then every training window is fitted with that many. The validation
  split only measures it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from jena_forecast.classical.params import (
    DampedPersistenceParams,
    EstimatorParams,
    HistGbrParams,
    RidgeParams,
)
from jena_forecast.plumbing.errors import PipelineError

# HistGradientBoostingRegressor bins every feature from a random subsample of this many rows (its
# binning default); with fewer training windows, and the held-out set given explicitly, no random
# draw is left in the fit, so the seed changes nothing.
HIST_GBR_BINNING_SUBSAMPLE = 200_000


@dataclass(frozen=True)
class ClassicalFit:
    """A fitted scikit-learn estimator (``predict(features) -> change``, features in float64) and
    what the fit chose and took. The estimator is what ``save_estimator`` keeps."""

    estimator: Any
    train_seconds: float
    record: dict[str, Any] = field(default_factory=dict)

    def forecast(self, features: np.ndarray, naive: np.ndarray) -> np.ndarray:
        """Forecasts in normalized units: the naive value plus the predicted change, (windows, 1)."""
        return forecast_change(self.estimator, features, naive)


def forecast_change(estimator: Any, features: np.ndarray, naive: np.ndarray) -> np.ndarray:
    """The naive value plus ``estimator``'s predicted change, normalized units, (windows, 1)."""
    change = estimator.predict(np.asarray(features, dtype=np.float64))
    change = np.asarray(change, dtype=np.float64).reshape(-1)
    return (np.asarray(naive, dtype=np.float64).reshape(-1) + change)[:, None]


def _mae(predicted: np.ndarray, actual: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(predicted) - np.asarray(actual))))


def fit_ridge(
    params: RidgeParams,
    train_x: np.ndarray,
    train_change: np.ndarray,
    val_x: np.ndarray,
    val_change: np.ndarray,
) -> ClassicalFit:
    """Ridge on standardized features; the alpha with the lowest validation MAE (first on ties)."""
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    started = time.perf_counter()
    scaler = StandardScaler().fit(train_x.astype(np.float64))
    scaled_train = scaler.transform(train_x.astype(np.float64))
    scaled_val = scaler.transform(val_x.astype(np.float64))
    best: tuple[float, float, Any] | None = None
    for alpha in params.alphas:
        model = Ridge(alpha=alpha).fit(scaled_train, train_change)
        val_mae = _mae(model.predict(scaled_val), val_change)
        if best is None or val_mae < best[0]:
            best = (val_mae, alpha, model)
    assert best is not None
    _, alpha, model = best
    seconds = time.perf_counter() - started

    return ClassicalFit(
        Pipeline([("standardize", scaler), ("ridge", model)]),
        seconds,
        {"alpha": float(alpha), "parameters": int(model.coef_.size + 1), "seed_dependent": False},
    )


def early_stopping_split(
    anchors: np.ndarray, fraction: float, blocks: int, span_rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (fit, held out) over time-ordered training ``anchors``, for early stopping.

    The windows are cut into ``blocks`` consecutive chunks and the last ``fraction`` of each chunk
    is held out, so the held-out windows cover the whole training period (every season of a year
    with 4 blocks), not only its end. The fitted windows are the others, minus every window that
    shares a row with a held-out one (anchors closer than ``span_rows``).
    """
    anchors = np.asarray(anchors, dtype=np.int64)
    if np.any(np.diff(anchors) <= 0):
        raise ValueError("anchors must be strictly increasing")
    chunks = np.array_split(np.arange(len(anchors)), blocks)
    held = np.zeros(len(anchors), dtype=bool)
    for chunk in chunks:
        count = int(np.ceil(len(chunk) * fraction))
        if count:
            held[chunk[len(chunk) - count :]] = True
    fit = ~held
    held_anchors = anchors[held]
    if held_anchors.size:
        position = np.searchsorted(held_anchors, anchors)
        before = held_anchors[np.clip(position - 1, 0, held_anchors.size - 1)]
        after = held_anchors[np.clip(position, 0, held_anchors.size - 1)]
        fit &= (np.abs(anchors - before) >= span_rows) & (np.abs(after - anchors) >= span_rows)
    if not fit.any() or not held.any():
        raise PipelineError(
            f"classical: {len(anchors)} training windows are too few to hold out "
            f"early_stopping_fraction={fraction} of them in early_stopping_blocks={blocks} blocks "
            f"and keep windows sharing no row with those ({span_rows} rows apart); "
            "lower either or use more data"
        )
    return fit, held


def fit_hist_gbr(
    params: HistGbrParams,
    seed: int,
    train_x: np.ndarray,
    train_change: np.ndarray,
    train_anchors: np.ndarray,
    span_rows: int,
) -> ClassicalFit:
    """HistGradientBoostingRegressor (absolute error loss), in two fits on training windows only.

    The first, early-stopped on held-out training windows (``early_stopping_split``), finds the
    number of boosting iterations with the lowest held-out loss; the second fits every training
    window with that many iterations.
    """
    from sklearn.ensemble import HistGradientBoostingRegressor

    fit_mask, held_mask = early_stopping_split(
        train_anchors, params.early_stopping_fraction, params.early_stopping_blocks, span_rows
    )
    settings = {
        "loss": "absolute_error",
        "learning_rate": params.learning_rate,
        "max_leaf_nodes": params.max_leaf_nodes,
        "min_samples_leaf": params.min_samples_leaf,
        "l2_regularization": params.l2_regularization,
        "random_state": seed,
    }
    started = time.perf_counter()
    search = HistGradientBoostingRegressor(
        max_iter=params.max_iter,
        early_stopping=True,
        scoring="loss",
        n_iter_no_change=params.n_iter_no_change,
        **settings,
    )
    search.fit(
        train_x[fit_mask],
        train_change[fit_mask],
        X_val=train_x[held_mask],
        y_val=train_change[held_mask],
    )
    # validation_score_[i] is the held-out score (negative loss) after i iterations.
    iterations = max(1, int(np.argmax(search.validation_score_)))
    model = HistGradientBoostingRegressor(max_iter=iterations, early_stopping=False, **settings)
    model.fit(train_x, train_change)
    seconds = time.perf_counter() - started
    return ClassicalFit(
        model,
        seconds,
        {
            "iterations": iterations,
            "early_stopping_fit_windows": int(fit_mask.sum()),
            "early_stopping_windows": int(held_mask.sum()),
            "seed_dependent": bool(len(train_x) > HIST_GBR_BINNING_SUBSAMPLE),
        },
    )


def fit_damped_persistence(
    params: DampedPersistenceParams, train_x: np.ndarray, train_change: np.ndarray
) -> ClassicalFit:
    """Climatology and damping factors from the training windows only (``damped_persistence``)."""
    from jena_forecast.classical.damped_persistence import DampedPersistence

    started = time.perf_counter()
    model = DampedPersistence(params.year_harmonics, params.day_harmonics, params.seasons)
    model.fit(train_x, train_change)
    return ClassicalFit(model, time.perf_counter() - started, model.record())


def fit_classical(
    estimator: str,
    params: EstimatorParams,
    seed: int,
    train: tuple[np.ndarray, np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    span_rows: int,
) -> ClassicalFit:
    """Fit ``estimator``: ``train`` is (features, change, anchors), ``val`` is (features, change)."""
    train_x, train_change, train_anchors = train
    val_x, val_change = val
    if estimator == "ridge":
        assert isinstance(params, RidgeParams)
        return fit_ridge(params, train_x, train_change, val_x, val_change)
    if estimator == "hist_gbr":
        assert isinstance(params, HistGbrParams)
        return fit_hist_gbr(params, seed, train_x, train_change, train_anchors, span_rows)
    if estimator == "damped_persistence":
        assert isinstance(params, DampedPersistenceParams)
        return fit_damped_persistence(params, train_x, train_change)
    raise ValueError(f"unknown classical estimator {estimator!r}")
