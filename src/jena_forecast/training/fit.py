"""Compile and fit one model on the training windows, keeping the weights of the best validation epoch."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from jena_forecast.config import ModelSpec, TrainConfig
from jena_forecast.data.windows import WindowSpec
from jena_forecast.models.registry import build_model
from jena_forecast.training.batches import OrderedWindowBatches, ShuffledWindowBatches


def make_reproducible(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and ask TensorFlow for deterministic kernels."""
    os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
    keras.utils.set_random_seed(seed)
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()


def make_optimizer(config: TrainConfig) -> keras.optimizers.Optimizer:
    """The optimizer named by ``config.optimizer`` at ``config.learning_rate``."""
    if config.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate=config.learning_rate)
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=config.learning_rate)
    return keras.optimizers.SGD(learning_rate=config.learning_rate, momentum=config.momentum)


def make_loss(config: TrainConfig) -> keras.losses.Loss:
    """The loss named by ``config.loss``; Huber uses delta 1.0 on normalized targets."""
    losses: dict[str, keras.losses.Loss] = {
        "mae": keras.losses.MeanAbsoluteError(),
        "mse": keras.losses.MeanSquaredError(),
        "huber": keras.losses.Huber(delta=1.0),
    }
    return losses[config.loss]


class EpochLog(keras.callbacks.Callback):
    """Collects one row per epoch: losses, learning rate and wall time.

    With a DVCLive ``live`` logger, it also logs the learning rate and the epoch's wall time there
    (DVCLive's own Keras callback logs the losses and must come after this one in ``callbacks``).
    """

    def __init__(self, live: Any = None) -> None:
        super().__init__()
        self.rows: list[dict[str, float]] = []
        self._started = 0.0
        self._live = live

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        learning_rate = self.model.optimizer.learning_rate
        self.rows.append(
            {
                "epoch": epoch + 1,
                "loss": float(logs.get("loss", np.nan)),
                "val_loss": float(logs.get("val_loss", np.nan)),
                "learning_rate": float(keras.ops.convert_to_numpy(learning_rate)),
                "seconds": round(time.perf_counter() - self._started, 3),
            }
        )
        if self._live is not None:  # float32 learning rates: 7 significant digits
            self._live.log_metric(
                "train/learning_rate", float(f"{self.rows[-1]['learning_rate']:.7g}")
            )
            self._live.log_metric("train/epoch_seconds", self.rows[-1]["seconds"])


def epoch_loggers(log_dir: Path | None) -> list[keras.callbacks.Callback]:
    """The per-epoch loggers: in memory, and with ``log_dir`` also DVCLive's files there.

    DVCLive writes ``metrics.json`` (last epoch) and ``plots/metrics/{train,eval}/*.tsv`` (one row
    per epoch, ``step`` 0 = epoch 1). It writes no ``dvc.yaml``, no report and makes no experiment
    commit: the pipeline declares the directory as a stage output instead.
    """
    if log_dir is None:
        return [EpochLog()]
    from dvclive import Live
    from dvclive.keras import DVCLiveCallback

    live = Live(dir=str(log_dir), dvcyaml=None, save_dvc_exp=False, report=None)
    return [EpochLog(live), DVCLiveCallback(live=live)]


@dataclass
class TrainResult:
    """A fitted model (best validation weights restored) and how it got there."""

    model: keras.Model
    history: list[dict[str, float]]
    best_epoch: int
    best_val_loss: float
    train_seconds: float

    def summary(self) -> dict[str, Any]:
        """The flat record the evaluate stage merges into the model's metrics."""
        return {
            "epochs": len(self.history),
            "best_epoch": self.best_epoch,
            "best_val_loss": self.best_val_loss,
            "train_seconds": self.train_seconds,
            "parameters": int(self.model.count_params()),
        }


def train_model(
    spec: ModelSpec,
    seed: int,
    data: np.ndarray,
    train_anchors: np.ndarray,
    val_anchors: np.ndarray,
    window_spec: WindowSpec,
    verbose: int = 2,
    log_dir: Path | None = None,
) -> TrainResult:
    """Build, compile and fit ``spec``'s model with early stopping on the validation loss.

    With ``log_dir``, DVCLive logs every epoch's losses, learning rate and wall time there.
    """
    make_reproducible(seed)
    config = spec.train
    model = build_model(spec.builder, (window_spec.timesteps, data.shape[1]), spec.builder_params)
    model.compile(optimizer=make_optimizer(config), loss=make_loss(config))
    train_batches = ShuffledWindowBatches(
        data, train_anchors, window_spec, config.batch_size, config.steps_per_epoch, seed
    )
    val_batches = OrderedWindowBatches(data, val_anchors, window_spec, config.batch_size)
    loggers = epoch_loggers(log_dir)
    epoch_log = loggers[0]
    assert isinstance(epoch_log, EpochLog)
    early_stopping = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=config.patience, restore_best_weights=True
    )
    started = time.perf_counter()
    model.fit(
        train_batches,
        validation_data=val_batches,
        epochs=config.epochs,
        callbacks=[*loggers, early_stopping],
        verbose=verbose,
    )
    train_seconds = time.perf_counter() - started
    val_losses = [row["val_loss"] for row in epoch_log.rows]
    best = int(np.nanargmin(val_losses))
    return TrainResult(
        model=model,
        history=epoch_log.rows,
        best_epoch=best + 1,
        best_val_loss=float(val_losses[best]),
        train_seconds=round(train_seconds, 2),
    )
