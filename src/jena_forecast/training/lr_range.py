"""The learning-rate range test: train briefly while the rate grows exponentially, record the loss.

The TensorFlow course sweeps ``1e-8 * 10 ** (epoch / 20)`` once per epoch over 100 epochs; the same
sweep per batch (Smith's range test) gives the curve in one short run. The suggested rate is a tenth
of the rate at which the smoothed loss was lowest, a common and conservative reading of the curve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np

from jena_forecast.data.windows import WindowSpec
from jena_forecast.models.registry import build_model
from jena_forecast.models.spec import ModelSpec
from jena_forecast.training.batches import ShuffledWindowBatches
from jena_forecast.training.config import LrRangeTestConfig
from jena_forecast.training.fit import (
    make_loss,
    make_optimizer,
    make_reproducible,
    model_targets,
    model_window_spec,
)

SMOOTHING = 0.98
DIVERGENCE_FACTOR = 4.0


@dataclass(frozen=True)
class LrRangeResult:
    """The curve (one row per batch) and the rates read off it."""

    rows: list[dict[str, float]]
    min_loss_learning_rate: float
    suggested_learning_rate: float


class _ExponentialRate(keras.callbacks.Callback):
    def __init__(self, config: LrRangeTestConfig) -> None:
        super().__init__()
        self.config = config
        self.rows: list[dict[str, float]] = []
        self._smoothed = 0.0

    def rate(self, step: int) -> float:
        ratio = self.config.max_learning_rate / self.config.min_learning_rate
        return self.config.min_learning_rate * ratio ** (step / max(self.config.steps - 1, 1))

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.model.optimizer.learning_rate.assign(self.rate(len(self.rows)))

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = float((logs or {}).get("loss", math.nan))
        step = len(self.rows)
        self._smoothed = SMOOTHING * self._smoothed + (1 - SMOOTHING) * loss
        smoothed = self._smoothed / (1 - SMOOTHING ** (step + 1))
        self.rows.append(
            {
                "step": step + 1,
                "learning_rate": self.rate(step),
                "log10_learning_rate": round(math.log10(self.rate(step)), 6),
                "loss": loss,
                "smoothed_loss": smoothed,
            }
        )
        best = min(row["smoothed_loss"] for row in self.rows)
        if not math.isfinite(loss) or smoothed > DIVERGENCE_FACTOR * best:
            self.model.stop_training = True


def learning_rate_range_test(
    config: LrRangeTestConfig,
    spec: ModelSpec,
    seed: int,
    data: np.ndarray,
    train_anchors: np.ndarray,
    window_spec: WindowSpec,
) -> LrRangeResult:
    """Run the range test on ``spec``'s model with its own optimizer, loss and batch size (its
    schedule and warm-up aside: the sweep sets the rate of every step)."""
    make_reproducible(seed)
    window_spec = model_window_spec(window_spec, spec)
    model = build_model(
        spec.builder,
        (window_spec.timesteps, data.shape[1]),
        spec.builder_params,
        window_spec.target_index if spec.residual else None,
        spec.aux_horizons,
        spec.anchor is not None,
    )
    # The sweep sets the rate of every step: no schedule or warm-up of the model's own.
    constant = spec.train.model_copy(update={"lr_schedule": "constant", "warmup_steps": 0})
    model.compile(optimizer=make_optimizer(constant), loss=make_loss(spec.train))
    batches = ShuffledWindowBatches(
        data,
        train_anchors,
        window_spec,
        spec.train.batch_size,
        config.steps,
        seed,
        targets=model_targets(spec),
    )
    sweep = _ExponentialRate(config)
    model.fit(batches, epochs=1, callbacks=[sweep], verbose=0)
    smoothed = np.array([row["smoothed_loss"] for row in sweep.rows])
    best = int(np.nanargmin(smoothed))
    best_rate = sweep.rows[best]["learning_rate"]
    return LrRangeResult(sweep.rows, best_rate, best_rate / 10)
