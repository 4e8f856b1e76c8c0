"""A classical estimator fitted again with the choices of its fit frozen: ridge's alpha (chosen on
validation) and the boosting iterations (found on held-out training windows); damped persistence
chooses nothing and is fitted again as it is."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from jena_forecast.classical.estimators import ClassicalFit, fit_damped_persistence
from jena_forecast.classical.params import DampedPersistenceParams, HistGbrParams, RidgeParams
from jena_forecast.classical.spec import ClassicalSpec
from jena_forecast.plumbing.errors import PipelineError


def frozen_choice(spec: ClassicalSpec, fit_record: dict[str, Any], where: str) -> dict[str, Any]:
    """What the fit on training chose, from its metrics record: ``alpha`` or ``iterations``."""
    key = {"ridge": "alpha", "hist_gbr": "iterations"}.get(spec.estimator)
    if key is None:
        return {}
    if key not in fit_record:
        raise PipelineError(f"{where}: no {key!r} in the fit's record; rerun classical@{spec.name}")
    return {key: fit_record[key]}


def refit_classical(
    spec: ClassicalSpec,
    choice: dict[str, Any],
    seed: int,
    train_x: np.ndarray,
    train_change: np.ndarray,
) -> ClassicalFit:
    """``spec``'s estimator fitted on ``train_x`` with ``choice`` (``frozen_choice``) frozen."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    params = spec.params
    x = np.asarray(train_x, dtype=np.float64)
    started = time.perf_counter()
    if isinstance(params, RidgeParams):
        model: Any = Pipeline(
            [("standardize", StandardScaler()), ("ridge", Ridge(alpha=float(choice["alpha"])))]
        ).fit(x, train_change)
    elif isinstance(params, HistGbrParams):
        model = HistGradientBoostingRegressor(
            loss="absolute_error",
            learning_rate=params.learning_rate,
            max_leaf_nodes=params.max_leaf_nodes,
            min_samples_leaf=params.min_samples_leaf,
            l2_regularization=params.l2_regularization,
            random_state=seed,
            max_iter=int(choice["iterations"]),
            early_stopping=False,
        ).fit(x, train_change)
    elif isinstance(params, DampedPersistenceParams):
        return fit_damped_persistence(params, x, train_change)
    else:
        raise PipelineError(f"classical.{spec.name}: no refit for estimator {spec.estimator!r}")
    return ClassicalFit(model, round(time.perf_counter() - started, 2), dict(choice))
